package dev.berth.tck.content;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.UnavailableException;
import dev.berth.plugin.content.ContentInfo;
import dev.berth.plugin.content.ContentReader;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.content.IngestStatus;
import dev.berth.plugin.content.Refs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link ContentStore} must show, after containerd's content test suite:
 * ingest, resume (also across a restart of the store), commit verification, one writer per ref,
 * labels by field path, walk, delete, abort, statuses, and refs and digests that cannot reach
 * outside the store. Timestamps are checked exactly against the injected clock.
 *
 * <p>Use: {@code class MyStoreTest extends ContentStoreSuite { protected ContentStore newStore(Path root, Clock clock) { return new MyStore(root, clock); } }}
 */
public abstract class ContentStoreSuite {
    private static final Instant START = Instant.parse("2001-02-03T04:05:06.123456789Z");
    private static final Digest EMPTY = Digest.parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    @TempDir
    Path temp;

    private Path root;
    private ManualClock clock;
    private ContentStore store;
    private final List<ContentStore> opened = new ArrayList<>();
    private long seed;

    /**
     * A store over {@code root}, an existing directory that it owns, taking time from {@code clock}.
     * Called again with the same root to check what survives a restart; the store it replaces
     * has no open writers then.
     */
    protected abstract ContentStore newStore(Path root, Clock clock) throws Exception;

    /** Releases a store the suite is done with; by default closes it if it is {@link AutoCloseable}. */
    protected void closeStore(ContentStore done) throws Exception {
        if (done instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    @BeforeEach
    final void openStore() throws Exception {
        root = Files.createDirectories(temp.resolve("root"));
        clock = new ManualClock(START);
        store = open();
    }

    @AfterEach
    final void closeStores() throws Exception {
        for (ContentStore each : opened) {
            closeStore(each);
        }
    }

    private ContentStore open() throws Exception {
        ContentStore created = newStore(root, clock);
        opened.add(created);
        return created;
    }

    /** Drops the current store object and opens a new one over the same root, as a daemon restart does. */
    private ContentStore restart() throws Exception {
        opened.remove(store);
        closeStore(store);
        store = open();
        return store;
    }

    // ---- ingest and read ----------------------------------------------------------------------

    @Test
    public void writtenContentReadsBackWithInfoFromTheClock() {
        byte[] content = content(3000);
        Digest digest = Digest.sha256(content);
        ContentWriter writer = store.writer("c1", content.length, Optional.of(digest));
        assertStatus(writer.status(), "c1", 0, content.length, Optional.of(digest), START, START);
        assertEquals(EMPTY, writer.digest());

        Instant firstWrite = clock.advance(Duration.ofSeconds(1));
        writer.write(ByteBuffer.wrap(content, 0, 1000));
        assertEquals(Digest.sha256(slice(content, 0, 1000)), writer.digest());
        assertStatus(writer.status(), "c1", 1000, content.length, Optional.of(digest), START, firstWrite);

        ByteBuffer direct = ByteBuffer.allocateDirect(1500).put(content, 1000, 1500).flip();
        Instant secondWrite = clock.advance(Duration.ofSeconds(1));
        writer.write(direct);
        assertFalse(direct.hasRemaining(), "write must consume the whole buffer");
        writer.write(ByteBuffer.wrap(content).position(2500));
        assertEquals(digest, writer.digest());
        assertStatus(store.status("c1"), "c1", 3000, content.length, Optional.of(digest), START, secondWrite);

        Instant committed = clock.advance(Duration.ofMinutes(1));
        writer.commit(content.length, Optional.of(digest), Map.of("containerd.io/gc.root", "now"));
        assertEquals(digest, writer.digest());

        ContentInfo info = store.info(digest);
        assertEquals(new ContentInfo(digest, content.length, committed, committed, Map.of("containerd.io/gc.root", "now")), info);
        assertArrayEquals(content, readAll(digest));
        assertThrows(NotFoundException.class, () -> store.status("c1"), "a committed ingest is gone");
        assertEquals(List.of(), store.listStatuses(status -> true));
    }

    @Test
    public void readsAtAnyOffset() {
        byte[] content = content(10_000);
        Digest digest = commit("r", content);
        try (ContentReader reader = store.readerAt(digest)) {
            assertEquals(content.length, reader.size());
            ByteBuffer middle = ByteBuffer.allocate(100);
            assertEquals(100, readFully(reader, middle, 5000));
            assertArrayEquals(slice(content, 5000, 100), middle.array());

            ByteBuffer tail = ByteBuffer.allocate(100);
            assertEquals(10, readFully(reader, tail, content.length - 10));
            assertArrayEquals(slice(content, content.length - 10, 10), Arrays.copyOf(tail.array(), 10));

            assertEquals(-1, reader.read(ByteBuffer.allocate(10), content.length));
            assertEquals(-1, reader.read(ByteBuffer.allocate(10), content.length + 1000L));
            ByteBuffer head = ByteBuffer.allocateDirect(7);
            assertEquals(7, readFully(reader, head, 0));
            byte[] headBytes = new byte[7];
            head.flip().get(headBytes);
            assertArrayEquals(slice(content, 0, 7), headBytes);
        }
    }

    @Test
    public void smallBlobReadsWithALargerBuffer() {
        byte[] content = "foobar".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Digest digest = commit("small", content);
        try (ContentReader reader = store.readerAt(digest)) {
            ByteBuffer buffer = ByteBuffer.allocate(content.length + 1);
            assertEquals(content.length, readFully(reader, buffer, 0));
            assertArrayEquals(content, Arrays.copyOf(buffer.array(), content.length));
        }
    }

    @Test
    public void zeroLengthContentIsABlobLikeAnyOther() {
        ContentWriter writer = store.writer("empty", 0, Optional.of(EMPTY));
        writer.commit(0, Optional.of(EMPTY), Map.of());
        ContentInfo info = store.info(EMPTY);
        assertEquals(0, info.size());
        try (ContentReader reader = store.readerAt(EMPTY)) {
            assertEquals(0, reader.size());
            assertEquals(-1, reader.read(ByteBuffer.allocate(1), 0));
        }
        assertEquals(Set.of(EMPTY), walkAll());
    }

    @Test
    public void largeContentInUnevenChunksOfBothBufferKinds() {
        byte[] content = content(8 * 1024 * 1024 + 17);
        Digest digest = Digest.sha256(content);
        Random random = new Random(7);
        try (ContentWriter writer = store.writer("large", content.length, Optional.empty())) {
            int position = 0;
            while (position < content.length) {
                int length = Math.min(content.length - position, 1 + random.nextInt(300_000));
                if (random.nextBoolean()) {
                    writer.write(ByteBuffer.allocateDirect(length).put(content, position, length).flip());
                } else {
                    // a slice with a non-zero array offset, as network buffers often are
                    writer.write(ByteBuffer.wrap(content).slice(position, length));
                }
                position += length;
            }
            writer.commit(content.length, Optional.of(digest), Map.of());
        }
        assertArrayEquals(content, readAll(digest));
    }

    // ---- commit verification ------------------------------------------------------------------

    @Test
    public void commitWithWrongSizeFailsPublishesNothingAndKeepsTheIngest() {
        byte[] content = content(500);
        Digest digest = Digest.sha256(content);
        ContentWriter writer = store.writer("sized", 0, Optional.empty());
        writer.write(ByteBuffer.wrap(content));
        FailedPreconditionException error = assertThrows(FailedPreconditionException.class,
                () -> writer.commit(content.length + 1, Optional.empty(), Map.of()));
        assertTrue(error.getMessage().contains("unexpected commit size"), error.getMessage());
        assertThrows(NotFoundException.class, () -> store.info(digest));
        assertThrows(NotFoundException.class, () -> store.readerAt(digest));
        assertEquals(Set.of(), walkAll());
        assertEquals(content.length, store.status("sized").offset(), "the ingest is kept for a retry");

        try (ContentWriter again = store.writer("sized", 0, Optional.empty())) {
            assertEquals(content.length, again.status().offset());
            again.commit(content.length, Optional.of(digest), Map.of());
        }
        assertArrayEquals(content, readAll(digest));
    }

    @Test
    public void commitWithWrongDigestFailsAndPublishesNothing() {
        byte[] content = content(500);
        Digest wrong = Digest.sha256(content(500));
        ContentWriter writer = store.writer("digested", 0, Optional.empty());
        writer.write(ByteBuffer.wrap(content));
        FailedPreconditionException error = assertThrows(FailedPreconditionException.class,
                () -> writer.commit(content.length, Optional.of(wrong), Map.of()));
        assertTrue(error.getMessage().contains("unexpected commit digest"), error.getMessage());
        assertThrows(NotFoundException.class, () -> store.info(wrong));
        assertThrows(NotFoundException.class, () -> store.info(Digest.sha256(content)));
        assertEquals(Set.of(), walkAll());
        assertThrows(FailedPreconditionException.class, () -> writer.write(ByteBuffer.wrap(content)),
                "a failed commit closes the writer");
        store.writer("digested", 0, Optional.empty()).close();
    }

    @Test
    public void committingContentThatExistsIsAlreadyExistsAndDropsTheIngest() {
        byte[] content = content(256);
        Digest digest = commit("first", content);

        ContentWriter second = store.writer("second", 0, Optional.empty());
        second.write(ByteBuffer.wrap(content));
        AlreadyExistsException error = assertThrows(AlreadyExistsException.class,
                () -> second.commit(content.length, Optional.empty(), Map.of()));
        assertEquals("content " + digest + ": already exists", error.getMessage());
        assertThrows(NotFoundException.class, () -> store.status("second"));

        assertThrows(AlreadyExistsException.class, () -> store.writer("third", content.length, Optional.of(digest)),
                "a writer announcing committed content is refused at once");
        store.writer("third", 0, Optional.empty()).close();
        assertEquals(Set.of(digest), walkAll());
    }

    // ---- resume ---------------------------------------------------------------------------------

    @Test
    public void resumesAfterTheWriterIsClosed() {
        checkResume(false);
    }

    @Test
    public void resumesAfterTheStoreIsReopened() {
        checkResume(true);
    }

    private void checkResume(boolean restart) {
        byte[] content = content(50_000);
        Digest digest = Digest.sha256(content);
        ContentWriter first = store.writer("resume", content.length, Optional.of(digest));
        Instant written = clock.advance(Duration.ofSeconds(3));
        first.write(ByteBuffer.wrap(content, 0, 20_000));
        first.close();
        clock.advance(Duration.ofSeconds(3));
        if (restart) {
            restartUnchecked();
        }
        assertStatus(store.status("resume"), "resume", 20_000, content.length, Optional.of(digest), START, written);
        assertEquals(List.of("resume"), store.listStatuses(s -> true).stream().map(IngestStatus::ref).toList());

        ContentWriter second = store.writer("resume", content.length, Optional.of(digest));
        assertStatus(second.status(), "resume", 20_000, content.length, Optional.of(digest), START, written);
        assertEquals(Digest.sha256(slice(content, 0, 20_000)), second.digest(), "the resumed writer re-hashed the data on disk");
        second.write(ByteBuffer.wrap(content, 20_000, content.length - 20_000));
        Instant committed = clock.advance(Duration.ofSeconds(3));
        second.commit(content.length, Optional.of(digest), Map.of());
        second.close();
        assertEquals(new ContentInfo(digest, content.length, committed, committed, Map.of()), store.info(digest));
        assertArrayEquals(content, readAll(digest));
    }

    @Test
    public void resumingWithADifferentTotalStartsAgain() {
        try (ContentWriter writer = store.writer("totals", 100, Optional.empty())) {
            writer.write(ByteBuffer.wrap(content(10)));
        }
        clock.advance(Duration.ofSeconds(5));
        try (ContentWriter writer = store.writer("totals", 200, Optional.empty())) {
            assertEquals(0, writer.status().offset());
            assertEquals(200, writer.status().total());
            assertEquals(START.plusSeconds(5), writer.status().startedAt());
            assertEquals(EMPTY, writer.digest());
        }
    }

    @Test
    public void truncateRewindsTheIngestAndItsDigest() {
        byte[] content = content(100);
        byte[] other = content(60);
        try (ContentWriter writer = store.writer("truncate", 0, Optional.empty())) {
            writer.write(ByteBuffer.wrap(content));
            assertThrows(InvalidArgumentException.class, () -> writer.truncate(101));
            writer.truncate(40);
            assertEquals(40, writer.status().offset());
            assertEquals(Digest.sha256(slice(content, 0, 40)), writer.digest());
            writer.write(ByteBuffer.wrap(other));
            byte[] expected = concat(slice(content, 0, 40), other);
            writer.commit(expected.length, Optional.of(Digest.sha256(expected)), Map.of());
            assertArrayEquals(expected, readAll(Digest.sha256(expected)));
        }
        try (ContentWriter writer = store.writer("truncate-zero", 0, Optional.empty())) {
            writer.write(ByteBuffer.wrap(content));
            writer.truncate(0);
            assertEquals(EMPTY, writer.digest());
            writer.write(ByteBuffer.wrap(other));
            writer.commit(other.length, Optional.of(Digest.sha256(other)), Map.of());
        }
    }

    @Test
    public void aClosedWriterRefusesWork() {
        ContentWriter writer = store.writer("closed", 0, Optional.empty());
        writer.close();
        writer.close();
        assertThrows(FailedPreconditionException.class, () -> writer.write(ByteBuffer.allocate(1)));
        assertThrows(FailedPreconditionException.class, () -> writer.truncate(0));
        assertThrows(FailedPreconditionException.class, () -> writer.commit(0, Optional.empty(), Map.of()));

        ContentWriter committed = store.writer("committed", 0, Optional.empty());
        committed.write(ByteBuffer.wrap(content(10)));
        committed.commit(10, Optional.empty(), Map.of());
        assertThrows(FailedPreconditionException.class, () -> committed.write(ByteBuffer.allocate(1)));
        committed.close();
    }

    // ---- one writer per ref -------------------------------------------------------------------

    @Test
    public void aSecondWriterOnAnOpenRefIsUnavailable() {
        ContentWriter first = store.writer("locked", 0, Optional.empty());
        UnavailableException error = assertThrows(UnavailableException.class, () -> store.writer("locked", 0, Optional.empty()));
        assertTrue(error.getMessage().startsWith("ref locked locked"), error.getMessage());
        assertThrows(UnavailableException.class, () -> store.abort("locked"), "an open ingest cannot be aborted");
        store.writer("other", 0, Optional.empty()).close();
        first.close();
        store.writer("locked", 0, Optional.empty()).close();

        ContentWriter committing = store.writer("locked", 0, Optional.empty());
        committing.write(ByteBuffer.wrap(content(10)));
        assertThrows(FailedPreconditionException.class, () -> committing.commit(11, Optional.empty(), Map.of()));
        store.writer("locked", 0, Optional.empty()).close(); // a failed commit released the ref too
    }

    @Test
    public void racingOpenersOfOneRefGetExactlyOneWriter() throws Exception {
        int racers = 6;
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch losersDone = new CountDownLatch(racers - 1);
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    ContentWriter writer;
                    try {
                        writer = store.writer("race", 0, Optional.empty());
                    } catch (UnavailableException lost) {
                        losersDone.countDown();
                        return false;
                    }
                    try (writer) {
                        // hold the ref until every other racer has given up
                        return losersDone.await(60, TimeUnit.SECONDS);
                    }
                }));
            }
            start.countDown();
            int winners = 0;
            for (Future<Boolean> result : results) {
                winners += result.get(90, TimeUnit.SECONDS) ? 1 : 0;
            }
            assertEquals(1, winners);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void concurrentIngestsOnDistinctRefsAllCommit() throws Exception {
        int count = 8;
        List<byte[]> contents = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            contents.add(content(200_000 + i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Digest>> digests = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                byte[] content = contents.get(i);
                String ref = "parallel-" + i;
                digests.add(pool.submit(() -> {
                    try (ContentWriter writer = store.writer(ref, content.length, Optional.empty())) {
                        for (int at = 0; at < content.length; at += 4096) {
                            writer.write(ByteBuffer.wrap(content, at, Math.min(4096, content.length - at)));
                        }
                        Digest digest = writer.digest();
                        writer.commit(content.length, Optional.of(digest), Map.of());
                        return digest;
                    }
                }));
            }
            for (int i = 0; i < count; i++) {
                assertArrayEquals(contents.get(i), readAll(digests.get(i).get(60, TimeUnit.SECONDS)));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(count, walkAll().size());
    }

    // ---- labels, walk, delete -----------------------------------------------------------------

    @Test
    public void labelsUpdateByFieldPath() throws Exception {
        byte[] content = content(64);
        Digest digest = Digest.sha256(content);
        Instant created = clock.advance(Duration.ofSeconds(1));
        ContentWriter writer = store.writer("labels", 0, Optional.empty());
        writer.write(ByteBuffer.wrap(content));
        writer.commit(0, Optional.empty(), Map.of("a", "1", "b", "2"));
        ContentInfo info = store.info(digest);
        assertEquals(Map.of("a", "1", "b", "2"), info.labels());

        Instant updated = clock.advance(Duration.ofSeconds(1));
        ContentInfo result = store.update(info.withLabels(Map.of("a", "10", "c", "3", "ignored", "x")), List.of("labels.a", "labels.c"));
        assertEquals(new ContentInfo(digest, 64, created, updated, Map.of("a", "10", "b", "2", "c", "3")), result);
        assertEquals(result, store.info(digest));

        result = store.update(info.withLabels(Map.of()), List.of("labels.b"));
        assertEquals(Map.of("a", "10", "c", "3"), result.labels(), "a path whose label is absent removes it");
        result = store.update(info.withLabels(Map.of("c", "")), List.of("labels.c"));
        assertEquals(Map.of("a", "10"), result.labels(), "an empty value removes the label");

        result = store.update(info.withLabels(Map.of("x", "1")), List.of("labels"));
        assertEquals(Map.of("x", "1"), result.labels(), "the path 'labels' replaces them all");
        Instant last = clock.advance(Duration.ofSeconds(1));
        result = store.update(info.withLabels(Map.of("y", "2")), List.of());
        assertEquals(new ContentInfo(digest, 64, created, last, Map.of("y", "2")), result, "no paths replaces them all");

        clock.advance(Duration.ofSeconds(1));
        restart();
        assertEquals(new ContentInfo(digest, 64, created, last, Map.of("y", "2")), store.info(digest), "labels survive a restart");
    }

    @Test
    public void updateRefusesOtherFieldsAndMissingContent() {
        Digest digest = commit("u", content(10));
        ContentInfo info = store.info(digest);
        for (String path : List.of("size", "digest", "createdat", "labels.", "label.a")) {
            assertThrows(InvalidArgumentException.class, () -> store.update(info, List.of(path)), path);
        }
        assertEquals(Map.of(), store.info(digest).labels());
        ContentInfo missing = new ContentInfo(Digest.sha256(content(10)), 10, START, START, Map.of());
        assertThrows(NotFoundException.class, () -> store.update(missing, List.of("labels")));
    }

    @Test
    public void walkVisitsExactlyTheMatchingContent() {
        Digest a = commit("a", content(10), Map.of("team", "x"));
        Digest b = commit("b", content(20), Map.of("team", "x"));
        Digest c = commit("c", content(30), Map.of("team", "y"));
        try (ContentWriter pending = store.writer("pending", 0, Optional.empty())) {
            pending.write(ByteBuffer.wrap(content(40)));
            assertEquals(Set.of(a, b, c), walkAll(), "ingests are not content");
        }
        Set<Digest> team = new HashSet<>();
        store.walk(info -> "x".equals(info.labels().get("team")), info -> team.add(info.digest()));
        assertEquals(Set.of(a, b), team);
        List<Long> sizes = new ArrayList<>();
        store.walk(info -> info.size() >= 20, info -> sizes.add(info.size()));
        assertEquals(Set.of(20L, 30L), Set.copyOf(sizes));

        IllegalStateException stop = new IllegalStateException("stop");
        List<Digest> seen = new ArrayList<>();
        assertEquals(stop, assertThrows(IllegalStateException.class, () -> store.walk(info -> true, info -> {
            seen.add(info.digest());
            throw stop;
        })));
        assertEquals(1, seen.size(), "an exception from the consumer ends the walk");
    }

    @Test
    public void deletedContentIsNotFoundAndCanBeCommittedAgain() {
        byte[] content = content(5000);
        Digest digest = commit("d", content, Map.of("k", "v"));
        ContentReader early = store.readerAt(digest);
        store.delete(digest);

        NotFoundException error = assertThrows(NotFoundException.class, () -> store.info(digest));
        assertEquals("content " + digest + ": not found", error.getMessage());
        assertThrows(NotFoundException.class, () -> store.readerAt(digest));
        assertThrows(NotFoundException.class, () -> store.delete(digest));
        assertEquals(Set.of(), walkAll());
        try (early) {
            ByteBuffer buffer = ByteBuffer.allocate(content.length);
            assertEquals(content.length, readFully(early, buffer, 0), "a reader opened before the delete keeps reading");
            assertArrayEquals(content, buffer.array());
        }

        commit("d-again", content);
        assertEquals(Map.of(), store.info(digest).labels(), "labels of deleted content do not come back");
    }

    // ---- ingest management --------------------------------------------------------------------

    @Test
    public void abortRemovesTheIngest() {
        try (ContentWriter writer = store.writer("abort", 0, Optional.empty())) {
            writer.write(ByteBuffer.wrap(content(100)));
        }
        store.abort("abort");
        assertThrows(NotFoundException.class, () -> store.status("abort"));
        assertEquals(List.of(), store.listStatuses(s -> true));
        NotFoundException error = assertThrows(NotFoundException.class, () -> store.abort("abort"));
        assertEquals("ingest ref \"abort\": not found", error.getMessage());
        clock.advance(Duration.ofSeconds(1));
        try (ContentWriter writer = store.writer("abort", 0, Optional.empty())) {
            assertEquals(0, writer.status().offset());
            assertEquals(START.plusSeconds(1), writer.status().startedAt());
        }
    }

    @Test
    public void statusesCoverOpenAndIdleIngests() {
        byte[] content = content(100);
        Digest expected = Digest.sha256(content);
        try (ContentWriter idle = store.writer("idle", 0, Optional.empty())) {
            idle.write(ByteBuffer.wrap(content(7)));
        }
        try (ContentWriter open = store.writer("open", 100, Optional.of(expected))) {
            Instant written = clock.advance(Duration.ofSeconds(2));
            open.write(ByteBuffer.wrap(content, 0, 30));
            assertStatus(store.status("open"), "open", 30, 100, Optional.of(expected), START, written);
            assertStatus(store.status("idle"), "idle", 7, 0, Optional.empty(), START, START);

            Map<String, IngestStatus> all = store.listStatuses(s -> true).stream()
                    .collect(Collectors.toMap(IngestStatus::ref, s -> s));
            assertEquals(Set.of("idle", "open"), all.keySet());
            assertEquals(30, all.get("open").offset());
            assertEquals(List.of("idle"), store.listStatuses(s -> s.ref().startsWith("i")).stream().map(IngestStatus::ref).toList());
        }
        assertThrows(NotFoundException.class, () -> store.status("never"));
    }

    // ---- hostile input ------------------------------------------------------------------------

    @Test
    public void refsAreKeysThatCannotNameFilesOutsideTheStore() throws IOException {
        Path outside = Files.createDirectories(temp.resolve("outside"));
        Files.writeString(outside.resolve("data"), "untouched");
        List<String> refs = List.of("../../etc/passwd", "/etc/passwd", "..", ".", "../outside", "../outside/data",
                "a/b/c", "ingest/../../outside", "\\..\\..", "%2e%2e%2f", "layer-sha256:" + EMPTY.hex(), "ä ✓ 🐳");
        Set<Digest> committed = new HashSet<>();
        for (String ref : refs) {
            try (ContentWriter writer = store.writer(ref, 0, Optional.empty())) {
                writer.write(ByteBuffer.wrap(ref.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }
            assertEquals(ref, store.status(ref).ref());
        }
        assertEquals(Set.copyOf(refs), store.listStatuses(s -> true).stream().map(IngestStatus::ref).collect(Collectors.toSet()));
        for (String ref : refs) {
            try (ContentWriter writer = store.writer(ref, 0, Optional.empty())) {
                committed.add(writer.digest());
                writer.commit(0, Optional.empty(), Map.of());
            }
        }
        assertEquals(committed, walkAll());
        try (Stream<Path> siblings = Files.list(temp)) {
            assertEquals(Set.of(root, outside), siblings.collect(Collectors.toSet()));
        }
        try (Stream<Path> files = Files.list(outside)) {
            assertEquals(List.of(outside.resolve("data")), files.toList());
        }
        assertEquals("untouched", Files.readString(outside.resolve("data")));
    }

    @Test
    public void invalidRefsAreRefused() {
        for (String ref : List.of("", "a\0b", "x".repeat(Refs.MAX_LENGTH + 1))) {
            assertThrows(InvalidArgumentException.class, () -> store.writer(ref, 0, Optional.empty()));
            assertThrows(InvalidArgumentException.class, () -> store.status(ref));
            assertThrows(InvalidArgumentException.class, () -> store.abort(ref));
        }
        assertThrows(NullPointerException.class, () -> store.writer(null, 0, Optional.empty()));
    }

    @Test
    public void digestsAreValidatedBeforeAnyLookup() {
        for (String text : List.of("sha256:../../etc/passwd", "sha256:" + EMPTY.hex().toUpperCase(), "sha256:" + EMPTY.hex() + "/..",
                "md5:d41d8cd98f00b204e9800998ecf8427e", "../../" + EMPTY, EMPTY.hex())) {
            assertThrows(InvalidArgumentException.class, () -> Digest.parse(text), text);
        }
        Digest absent = Digest.parse("sha512:" + "ab".repeat(64));
        assertThrows(NotFoundException.class, () -> store.info(absent));
        assertThrows(NotFoundException.class, () -> store.readerAt(absent));
        assertThrows(NotFoundException.class, () -> store.delete(absent));
    }

    // ---- helpers ------------------------------------------------------------------------------

    private void restartUnchecked() {
        try {
            restart();
        } catch (Exception e) {
            throw new AssertionError("reopening the store failed", e);
        }
    }

    private byte[] content(int size) {
        byte[] bytes = new byte[size];
        new Random(++seed).nextBytes(bytes);
        return bytes;
    }

    private Digest commit(String ref, byte[] content) {
        return commit(ref, content, Map.of());
    }

    private Digest commit(String ref, byte[] content, Map<String, String> labels) {
        Digest digest = Digest.sha256(content);
        try (ContentWriter writer = store.writer(ref, content.length, Optional.of(digest))) {
            writer.write(ByteBuffer.wrap(content));
            writer.commit(content.length, Optional.of(digest), labels);
        }
        return digest;
    }

    private byte[] readAll(Digest digest) {
        try (ContentReader reader = store.readerAt(digest)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            long offset = 0;
            int n;
            while ((n = reader.read(buffer.clear(), offset)) >= 0) {
                out.write(buffer.array(), 0, n);
                offset += n;
            }
            assertEquals(reader.size(), offset);
            return out.toByteArray();
        }
    }

    private static int readFully(ContentReader reader, ByteBuffer dst, long offset) {
        int total = 0;
        while (dst.hasRemaining()) {
            int n = reader.read(dst, offset + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    private Set<Digest> walkAll() {
        Set<Digest> digests = new HashSet<>();
        store.walk(info -> true, info -> digests.add(info.digest()));
        return digests;
    }

    private static void assertStatus(IngestStatus status, String ref, long offset, long total, Optional<Digest> expected,
            Instant startedAt, Instant updatedAt) {
        assertEquals(new IngestStatus(ref, offset, total, expected, startedAt, updatedAt), status);
    }

    private static byte[] slice(byte[] bytes, int from, int length) {
        return Arrays.copyOfRange(bytes, from, from + length);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }
}
