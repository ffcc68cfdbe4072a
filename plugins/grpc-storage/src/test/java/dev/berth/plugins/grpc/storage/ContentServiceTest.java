package dev.berth.plugins.grpc.storage;

import static dev.berth.plugins.grpc.storage.NamespacesServiceTest.code;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.FieldMask;
import dev.berth.api.services.content.v1.AbortRequest;
import dev.berth.api.services.content.v1.ContentGrpc;
import dev.berth.api.services.content.v1.DeleteContentRequest;
import dev.berth.api.services.content.v1.Info;
import dev.berth.api.services.content.v1.InfoRequest;
import dev.berth.api.services.content.v1.ListContentRequest;
import dev.berth.api.services.content.v1.ListContentResponse;
import dev.berth.api.services.content.v1.ListStatusesRequest;
import dev.berth.api.services.content.v1.ReadContentRequest;
import dev.berth.api.services.content.v1.ReadContentResponse;
import dev.berth.api.services.content.v1.StatusRequest;
import dev.berth.api.services.content.v1.UpdateRequest;
import dev.berth.api.services.content.v1.WriteAction;
import dev.berth.api.services.content.v1.WriteContentRequest;
import dev.berth.api.services.content.v1.WriteContentResponse;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.Subscription;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContentServiceTest {
    @TempDir
    Path dir;
    private Fixture fixture;
    private ContentGrpc.ContentBlockingStub content;

    @BeforeEach
    void start() throws Exception {
        fixture = new Fixture(dir);
        content = Fixture.in(ContentGrpc.newBlockingStub(fixture.channel), "ns");
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    private WriteClient writer(String namespace) {
        return new WriteClient(Fixture.in(ContentGrpc.newStub(fixture.channel), namespace));
    }

    /** Ingests as ctr does: stat, writes of {@code chunk} bytes, commit with size, digest and labels. */
    private Digest ingest(String namespace, String ref, byte[] bytes, int chunk, Map<String, String> labels) throws Exception {
        Digest digest = Digest.sha256(bytes);
        try (WriteClient writer = writer(namespace)) {
            WriteContentResponse stat = writer.stat(ref, bytes.length, digest.toString());
            assertEquals(WriteAction.STAT, stat.getAction());
            long offset = stat.getOffset();
            while (offset < bytes.length) {
                int length = (int) Math.min(chunk, bytes.length - offset);
                WriteContentResponse written = writer.write(offset, Arrays.copyOfRange(bytes, (int) offset, (int) offset + length));
                assertEquals(offset + length, written.getOffset());
                offset = written.getOffset();
            }
            WriteContentResponse commit = writer.send(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT)
                    .setOffset(offset).setTotal(bytes.length).setExpected(digest.toString()).putAllLabels(labels).build());
            assertEquals(bytes.length, commit.getOffset());
            assertEquals(digest.toString(), commit.getDigest());
            assertTrue(writer.completed(), "the stream ends after a commit");
        }
        return digest;
    }

    private byte[] read(Digest digest, long offset, long size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long expectedOffset = Math.max(0, offset);
        for (ReadContentResponse response : Fixture.all(content.read(ReadContentRequest.newBuilder()
                .setDigest(digest.toString()).setOffset(offset).setSize(size).build()))) {
            assertEquals(expectedOffset, response.getOffset());
            assertTrue(response.getData().size() <= ReadPump.CHUNK);
            expectedOffset += response.getData().size();
            out.writeBytes(response.getData().toByteArray());
        }
        return out.toByteArray();
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void writeCommitInfoAndReadInChunks() throws Exception {
        byte[] bytes = random(3 * ReadPump.CHUNK + 12345, 1);
        Digest digest = ingest("ns", "blob-1", bytes, 256 * 1024, Map.of("a", "b"));
        Info info = content.info(InfoRequest.newBuilder().setDigest(digest.toString()).build()).getInfo();
        assertEquals(bytes.length, info.getSize());
        assertEquals(Map.of("a", "b"), info.getLabelsMap());
        assertTrue(info.getCreatedAt().getSeconds() > 0);

        List<ReadContentResponse> chunks = Fixture.all(content.read(ReadContentRequest.newBuilder().setDigest(digest.toString()).build()));
        assertEquals(4, chunks.size(), "1 MiB per message, as containerd");
        assertArrayEquals(bytes, read(digest, 0, 0));
        assertArrayEquals(Arrays.copyOfRange(bytes, 1000, 1100), read(digest, 1000, 100));
        assertArrayEquals(Arrays.copyOfRange(bytes, bytes.length - 10, bytes.length), read(digest, bytes.length - 10, 1000));
        assertArrayEquals(bytes, read(digest, -5, 0));
        assertArrayEquals(new byte[0], read(digest, bytes.length, 0));
        assertEquals(Status.Code.OUT_OF_RANGE, code(() -> read(digest, bytes.length + 1, 0)));
    }

    @Test
    void aClientStreamingWithoutWaitingGetsEveryWriteInOrder() throws Exception {
        byte[] bytes = random(200 * 65536, 5);
        Digest digest = Digest.sha256(bytes);
        List<WriteContentRequest> batch = new java.util.ArrayList<>();
        batch.add(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef("streamed").setTotal(bytes.length).build());
        for (int offset = 0; offset < bytes.length; offset += 65536) {
            batch.add(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE).setOffset(offset)
                    .setData(ByteString.copyFrom(bytes, offset, 65536)).build());
        }
        batch.add(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setOffset(bytes.length)
                .setTotal(bytes.length).setExpected(digest.toString()).build());
        try (WriteClient writer = writer("ns")) {
            List<WriteContentResponse> responses = writer.pipeline(batch);
            for (int i = 1; i < responses.size() - 1; i++) {
                assertEquals((long) i * 65536, responses.get(i).getOffset());
            }
            assertEquals(digest.toString(), responses.getLast().getDigest());
        }
        assertArrayEquals(bytes, read(digest, 0, 0));
    }

    @Test
    void namespaceHeaderIsRequiredAndValidated() {
        var bare = ContentGrpc.newBlockingStub(fixture.channel);
        StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
                () -> bare.info(InfoRequest.newBuilder().setDigest(Digest.sha256(new byte[0]).toString()).build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, missing.getStatus().getCode());
        assertTrue(missing.getStatus().getDescription().startsWith("namespace is required"), missing.getStatus().getDescription());
        var invalid = Fixture.in(ContentGrpc.newBlockingStub(fixture.channel), "not valid");
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> invalid.list(ListContentRequest.getDefaultInstance()).hasNext()));
    }

    @Test
    void invalidAndMissingDigests() {
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> content.info(InfoRequest.newBuilder().setDigest("sha256:../../etc").build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> content.delete(DeleteContentRequest.newBuilder().setDigest("md5:abc").build())));
        String missing = Digest.sha256("missing".getBytes(StandardCharsets.UTF_8)).toString();
        assertEquals(Status.Code.NOT_FOUND, code(() -> content.info(InfoRequest.newBuilder().setDigest(missing).build())));
        assertEquals(Status.Code.NOT_FOUND, code(() -> content.read(ReadContentRequest.newBuilder().setDigest(missing).build()).hasNext()));
        assertEquals(Status.Code.NOT_FOUND, code(() -> content.delete(DeleteContentRequest.newBuilder().setDigest(missing).build())));
    }

    @Test
    void anInterruptedIngestIsListedAndResumesAtItsOffset() throws Exception {
        byte[] bytes = random(2_000_000, 2);
        Digest digest = Digest.sha256(bytes);
        WriteClient first = writer("ns");
        first.stat("resumable", bytes.length, digest.toString());
        first.write(0, Arrays.copyOf(bytes, 700_000));
        first.cancel();

        // the cancelled stream released the ref: it is listed, and a new writer may open it
        long deadline = System.nanoTime() + 5_000_000_000L;
        WriteContentResponse stat;
        WriteClient second;
        while (true) {
            second = writer("ns");
            try {
                stat = second.stat("resumable", bytes.length, digest.toString());
                break;
            } catch (StatusRuntimeException e) {
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), "only a lock may delay the resume");
                assertTrue(System.nanoTime() < deadline, "ref still locked after its stream was cancelled");
                Thread.sleep(20);
            }
        }
        assertEquals(700_000, stat.getOffset());
        assertEquals(bytes.length, stat.getTotal());
        var status = content.status(StatusRequest.newBuilder().setRef("resumable").build()).getStatus();
        assertEquals(700_000, status.getOffset());
        assertEquals(List.of("resumable"), content.listStatuses(ListStatusesRequest.newBuilder().addFilters("ref==resumable").build())
                .getStatusesList().stream().map(dev.berth.api.services.content.v1.Status::getRef).toList());
        assertEquals(0, content.listStatuses(ListStatusesRequest.newBuilder().addFilters("ref==other").build()).getStatusesCount());

        // a write that is not at the current offset is out of range; it ends the stream and frees the ref
        WriteClient misplaced = second;
        assertEquals(Status.Code.OUT_OF_RANGE, assertThrows(StatusRuntimeException.class,
                () -> misplaced.write(5, new byte[] {1})).getStatus().getCode());

        try (WriteClient third = writer("ns")) {
            assertEquals(700_000, third.stat("resumable", bytes.length, digest.toString()).getOffset());
            WriteContentResponse rest = third.write(700_000, Arrays.copyOfRange(bytes, 700_000, bytes.length));
            assertEquals(bytes.length, rest.getOffset());
            WriteContentResponse commit = third.send(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT)
                    .setOffset(bytes.length).setTotal(bytes.length).setExpected(digest.toString()).build());
            assertEquals(digest.toString(), commit.getDigest());
        }
        assertArrayEquals(bytes, read(digest, 0, 0));
        assertEquals(0, content.listStatuses(ListStatusesRequest.getDefaultInstance()).getStatusesCount());
    }

    @Test
    void writingAtZeroStartsOverAndAWrongDigestIsRefused() throws Exception {
        byte[] bytes = "the right bytes".getBytes(StandardCharsets.UTF_8);
        try (WriteClient writer = writer("ns")) {
            writer.stat("over", 0, "");
            writer.write(0, "wrong".getBytes(StandardCharsets.UTF_8));
            assertEquals(bytes.length, writer.write(0, bytes).getOffset());
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> writer.send(
                    WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setOffset(bytes.length)
                            .setExpected(Digest.sha256("other".getBytes(StandardCharsets.UTF_8)).toString()).build()));
            assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
        }
        // the failed commit kept the ingest, with its bytes
        assertEquals(bytes.length, content.status(StatusRequest.newBuilder().setRef("over").build()).getStatus().getOffset());
        content.abort(AbortRequest.newBuilder().setRef("over").build());
        assertEquals(Status.Code.NOT_FOUND, code(() -> content.status(StatusRequest.newBuilder().setRef("over").build())));
        assertEquals(Status.Code.NOT_FOUND, code(() -> content.abort(AbortRequest.newBuilder().setRef("over").build())));
    }

    @Test
    void firstMessageMustNameARefAndCommittedContentIsAlreadyThere() throws Exception {
        try (WriteClient writer = writer("ns")) {
            assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
                    () -> writer.send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).build())).getStatus().getCode());
        }
        byte[] bytes = "once".getBytes(StandardCharsets.UTF_8);
        Digest digest = ingest("ns", "once", bytes, 10, Map.of());
        try (WriteClient again = writer("ns")) {
            assertEquals(Status.Code.ALREADY_EXISTS, assertThrows(StatusRuntimeException.class,
                    () -> again.stat("again", bytes.length, digest.toString())).getStatus().getCode());
        }
    }

    @Test
    void labelsListFiltersAndDeleteWithEvent() throws Exception {
        Digest a = ingest("ns", "a", "aaa".getBytes(StandardCharsets.UTF_8), 10, Map.of("kind", "x"));
        Digest b = ingest("ns", "b", "bbb".getBytes(StandardCharsets.UTF_8), 10, Map.of("kind", "y", "a.b", "dotted"));
        // ctr content label: by field path; an empty value removes the label
        Info updated = content.update(UpdateRequest.newBuilder()
                .setInfo(Info.newBuilder().setDigest(a.toString()).putLabels("extra", "1"))
                .setUpdateMask(FieldMask.newBuilder().addPaths("labels.extra").addPaths("labels.kind")).build()).getInfo();
        assertEquals(Map.of("extra", "1"), updated.getLabelsMap());
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> content.update(UpdateRequest.newBuilder()
                .setInfo(Info.newBuilder().setDigest(a.toString()))
                .setUpdateMask(FieldMask.newBuilder().addPaths("size")).build())));

        assertEquals(List.of(a.toString(), b.toString()).stream().sorted().toList(), digests());
        assertEquals(List.of(b.toString()), digests("labels.kind==y"));
        assertEquals(List.of(b.toString()), digests("labels.\"a.b\"~=^dot"));
        assertEquals(List.of(a.toString()), digests("labels.extra"));
        assertEquals(List.of(a.toString()), digests("digest==" + a));
        assertEquals(List.of(), digests("labels.kind==y,digest==" + a));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> digests("labels.==")));

        try (Subscription events = fixture.exchange.subscribe(envelope -> envelope.topic().equals("/content/delete"))) {
            content.delete(DeleteContentRequest.newBuilder().setDigest(a.toString()).build());
            var deleted = events.take();
            assertEquals("ns", deleted.namespace());
            assertEquals(new Event.ContentDelete(a), deleted.event());
        }
        assertEquals(List.of(b.toString()), digests());
        assertEquals(Status.Code.NOT_FOUND, code(() -> content.info(InfoRequest.newBuilder().setDigest(a.toString()).build())));
    }

    @Test
    void listSendsBlocksOfAHundredAndNamespacesDoNotSeeEachOthersContent() throws Exception {
        for (int i = 0; i < 250; i++) {
            ingest("many", "r" + i, ("blob " + i).getBytes(StandardCharsets.UTF_8), 100, Map.of());
        }
        var many = Fixture.in(ContentGrpc.newBlockingStub(fixture.channel), "many");
        List<ListContentResponse> blocks = Fixture.all(many.list(ListContentRequest.getDefaultInstance()));
        assertEquals(List.of(100, 100, 50), blocks.stream().map(ListContentResponse::getInfoCount).toList());
        assertEquals(List.of(), digests());
    }

    private List<String> digests(String... filters) {
        return Fixture.all(content.list(ListContentRequest.newBuilder().addAllFilters(List.of(filters)).build())).stream()
                .flatMap(response -> response.getInfoList().stream())
                .map(Info::getDigest)
                .sorted()
                .toList();
    }

    @Test
    void contentWrittenUnderALeaseHeaderBelongsToTheLease() throws Exception {
        fixture.metadata.leases().create("ns", "l1", Map.of());
        byte[] bytes = "leased".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256(bytes);
        try (WriteClient writer = new WriteClient(Fixture.leased(ContentGrpc.newStub(fixture.channel), "ns", "l1"))) {
            writer.stat("leased", bytes.length, digest.toString());
            writer.send(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setData(ByteString.copyFrom(bytes))
                    .setTotal(bytes.length).setExpected(digest.toString()).build());
        }
        assertEquals(List.of(new dev.berth.plugin.metadata.Resource(digest.toString(), "content")),
                fixture.metadata.leases().listResources("ns", "l1"));
    }
}
