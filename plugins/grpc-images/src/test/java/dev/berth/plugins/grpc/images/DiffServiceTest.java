package dev.berth.plugins.grpc.images;

import static dev.berth.plugins.grpc.images.Fixture.in;
import static dev.berth.plugins.grpc.images.SnapshotsServiceTest.assertStatus;
import static dev.berth.plugins.grpc.images.SnapshotsServiceTest.directory;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.api.services.diff.v1.ApplyRequest;
import dev.berth.api.services.diff.v1.DiffGrpc;
import dev.berth.api.services.diff.v1.DiffRequest;
import dev.berth.api.services.snapshots.v1.CommitSnapshotRequest;
import dev.berth.api.services.snapshots.v1.PrepareSnapshotRequest;
import dev.berth.api.services.snapshots.v1.SnapshotsGrpc;
import dev.berth.api.services.snapshots.v1.ViewSnapshotRequest;
import dev.berth.api.types.Descriptor;
import dev.berth.api.types.Mount;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.diff.LayerMediaTypes;
import dev.berth.plugin.metadata.Resource;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiffServiceTest {
    private static final String NS = "testing";

    @TempDir
    Path dir;
    private Fixture fixture;
    private SnapshotsGrpc.SnapshotsBlockingStub snapshots;
    private DiffGrpc.DiffBlockingStub diff;

    @BeforeEach
    void start() throws Exception {
        fixture = new Fixture(dir.resolve("daemon"));
        snapshots = in(SnapshotsGrpc.newBlockingStub(fixture.channel), NS);
        diff = in(DiffGrpc.newBlockingStub(fixture.channel), NS);
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    @Test
    void appliesAGzipLayerOntoAPreparedSnapshot() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.createDirectories(tree.resolve("etc/conf.d"));
        Files.writeString(tree.resolve("etc/hostname"), "berth\n");
        Files.writeString(tree.resolve("etc/conf.d/app"), "key=value\n");
        Files.createSymbolicLink(tree.resolve("hostname"), Path.of("etc/hostname"));
        byte[] tar = tar(tree);
        var layer = fixture.commit(NS, gzip(tar), LayerMediaTypes.OCI_TAR_GZIP);

        List<Mount> mounts = prepare("unpack", "");
        Descriptor applied = diff.apply(ApplyRequest.newBuilder().setDiff(Protos.toProto(layer))
                .addAllMounts(mounts).build()).getApplied();

        assertEquals(LayerMediaTypes.OCI_TAR, applied.getMediaType());
        assertEquals(Digest.sha256(tar).toString(), applied.getDigest());
        assertEquals(tar.length, applied.getSize());
        Path root = directory(mounts);
        assertEquals("berth\n", Files.readString(root.resolve("etc/hostname")));
        assertEquals("key=value\n", Files.readString(root.resolve("etc/conf.d/app")));
        assertEquals(Path.of("etc/hostname"), Files.readSymbolicLink(root.resolve("hostname")));
    }

    @Test
    void refusesWhatNoDifferHandlesAndWhatIsNotInTheNamespace() throws Exception {
        byte[] tar = tar(Files.createDirectories(dir.resolve("empty")));
        var layer = fixture.commit(NS, tar, "application/vnd.example.not-a-layer");
        List<Mount> mounts = prepare("target", "");
        assertStatus(Status.Code.UNIMPLEMENTED, () -> diff.apply(ApplyRequest.newBuilder()
                .setDiff(Protos.toProto(layer)).addAllMounts(mounts).build()));

        var elsewhere = dev.berth.plugin.content.Descriptor.of(LayerMediaTypes.OCI_TAR, layer.digest(), layer.size());
        DiffGrpc.DiffBlockingStub other = in(DiffGrpc.newBlockingStub(fixture.channel), "other");
        assertStatus(Status.Code.NOT_FOUND, () -> other.apply(ApplyRequest.newBuilder()
                .setDiff(Protos.toProto(elsewhere)).addAllMounts(mounts).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> diff.apply(ApplyRequest.newBuilder()
                .setDiff(Descriptor.newBuilder().setMediaType(LayerMediaTypes.OCI_TAR).setDigest("sha256:nope"))
                .addAllMounts(mounts).build()));
    }

    @Test
    void diffsTwoSnapshotsIntoALayerUnderTheLease() throws Exception {
        Path lower = directory(prepare("lower", ""));
        Files.writeString(lower.resolve("kept"), "same");
        Files.writeString(lower.resolve("gone"), "soon removed");
        snapshots.commit(CommitSnapshotRequest.newBuilder().setSnapshotter("native").setKey("lower").setName("base")
                .build());
        List<Mount> upperMounts = prepare("upper", "base");
        Path upper = directory(upperMounts);
        Files.writeString(upper.resolve("added"), "new file");
        Files.delete(upper.resolve("gone"));
        List<Mount> baseView = snapshots.view(ViewSnapshotRequest.newBuilder().setSnapshotter("native")
                .setKey("base-view").setParent("base").build()).getMountsList();

        fixture.metadata.leases().create(NS, "diffing", java.util.Map.of());
        Descriptor layer = Fixture.leased(DiffGrpc.newBlockingStub(fixture.channel), NS, "diffing")
                .diff(DiffRequest.newBuilder().addAllLeft(baseView).addAllRight(upperMounts)
                        .putLabels("origin", "test").build()).getDiff();

        assertEquals(LayerMediaTypes.OCI_TAR_GZIP, layer.getMediaType());
        byte[] blob = fixture.read(NS, Digest.parse(layer.getDigest()));
        assertEquals(layer.getSize(), blob.length);
        Set<String> entries = entries(gunzip(blob));
        assertTrue(entries.contains("added"), entries.toString());
        assertTrue(entries.contains(".wh.gone"), entries.toString());
        assertFalse(entries.contains("kept"), entries.toString());
        assertEquals("test", fixture.metadata.content(NS, java.util.Optional.empty())
                .info(Digest.parse(layer.getDigest())).labels().get("origin"));
        assertTrue(fixture.metadata.leases().listResources(NS, "diffing")
                .contains(new Resource(layer.getDigest(), Resource.CONTENT)));

        // the layer applied onto the lower snapshot gives the upper one
        List<Mount> replay = prepare("replay", "base");
        diff.apply(ApplyRequest.newBuilder().setDiff(layer).addAllMounts(replay).build());
        Path replayed = directory(replay);
        assertEquals("new file", Files.readString(replayed.resolve("added")));
        assertEquals("same", Files.readString(replayed.resolve("kept")));
        assertFalse(Files.exists(replayed.resolve("gone")));
    }

    private List<Mount> prepare(String key, String parent) {
        return snapshots.prepare(PrepareSnapshotRequest.newBuilder().setSnapshotter("native").setKey(key)
                .setParent(parent).build()).getMountsList();
    }

    /** A tar of {@code tree} as GNU tar writes it. */
    static byte[] tar(Path tree) throws Exception {
        Process tar = new ProcessBuilder("tar", "-C", tree.toString(), "--numeric-owner", "-cf", "-", ".")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] bytes = tar.getInputStream().readAllBytes();
        assertEquals(0, tar.waitFor());
        return bytes;
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] gunzip(byte[] data) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(data))) {
            return in.readAllBytes();
        }
    }

    /** The entry names of a ustar archive, without a leading {@code ./} or trailing {@code /}. */
    private static Set<String> entries(byte[] tar) {
        Set<String> names = new TreeSet<>();
        int offset = 0;
        while (offset + 512 <= tar.length && tar[offset] != 0) {
            String name = field(tar, offset, 100);
            String prefix = field(tar, offset + 345, 155);
            String full = prefix.isEmpty() ? name : prefix + "/" + name;
            names.add(full.replaceFirst("^\\./", "").replaceFirst("/$", ""));
            long size = Long.parseLong(field(tar, offset + 124, 12).trim().isEmpty() ? "0" : field(tar, offset + 124, 12).trim(), 8);
            offset += 512 + (int) ((size + 511) / 512 * 512);
        }
        return names;
    }

    private static String field(byte[] tar, int offset, int length) {
        byte[] bytes = Arrays.copyOfRange(tar, offset, offset + length);
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
