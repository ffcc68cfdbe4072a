package dev.berth.plugins.differ;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.UnimplementedException;
import dev.berth.plugin.content.ContentReader;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.Descriptor;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.diff.ApplyOptions;
import dev.berth.plugin.diff.CompareOptions;
import dev.berth.plugin.diff.LayerMediaTypes;
import dev.berth.plugin.mount.Mount;
import io.airlift.compress.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WalkingDifferTest {

    private static final ApplyOptions DEFAULT = new ApplyOptions("default");

    @TempDir
    Path dir;
    ContentStore store;
    WalkingDiffer differ;

    @BeforeEach
    void setUp() throws Exception {
        store = ContentFixture.open(dir.resolve("content"));
        differ = new WalkingDiffer((namespace, lease) -> store, dir.resolve("mounts"), LayerApplier.privilegedProcess());
    }

    private static List<Mount> bind(Path path) {
        return List.of(new Mount("bind", path.toString(), List.of("rbind", "rw")));
    }

    private Path directory(String name) throws IOException {
        return Files.createDirectories(dir.resolve(name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "zstd"})
    void appliesALayerAndReportsItsDiffId(String compression) throws Exception {
        byte[] tar = new TarBuilder().file("etc/hostname", "berth\n").symlink("etc/alias", "hostname").tar();
        byte[] blob = switch (compression) {
            case "gzip" -> TarBuilder.gzip(tar);
            case "zstd" -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try (ZstdOutputStream zstd = new ZstdOutputStream(out)) {
                    zstd.write(tar);
                }
                yield out.toByteArray();
            }
            default -> tar;
        };
        String mediaType = compression.equals("none") ? LayerMediaTypes.OCI_TAR : LayerMediaTypes.OCI_TAR_GZIP;
        Descriptor layer = ContentFixture.commit(store, blob, mediaType);
        Path root = directory("root");

        Descriptor applied = differ.apply(layer, bind(root), DEFAULT);

        assertEquals(Descriptor.of(LayerMediaTypes.OCI_TAR, Digest.sha256(tar), tar.length), applied);
        assertEquals("berth\n", Files.readString(root.resolve("etc/alias")));
    }

    @Test
    void aBlobWhoseBytesAreNotItsDigestIsRefused() throws Exception {
        byte[] tar = new TarBuilder().file("a", "original").tar();
        Descriptor layer = ContentFixture.commit(store, tar, LayerMediaTypes.OCI_TAR);
        // the disk went bad under the store: same length, other bytes
        Path file = dir.resolve("content/blobs/sha256").resolve(layer.digest().hex());
        byte[] corrupt = new TarBuilder().file("a", "tampered").tar();
        assertEquals(tar.length, corrupt.length);
        Files.write(file, corrupt);

        var e = assertThrows(FailedPreconditionException.class, () -> differ.apply(layer, bind(directory("root")), DEFAULT));
        assertTrue(e.getMessage().contains(layer.digest().toString()), e.getMessage());
    }

    @Test
    void aDescriptorOfAnotherSizeIsRefused() throws Exception {
        byte[] tar = new TarBuilder().file("a", "x").tar();
        Descriptor layer = ContentFixture.commit(store, tar, LayerMediaTypes.OCI_TAR);
        Descriptor lying = Descriptor.of(layer.mediaType(), layer.digest(), layer.size() - 1);
        assertThrows(FailedPreconditionException.class, () -> differ.apply(lying, bind(directory("root")), DEFAULT));
        assertFalse(Files.exists(dir.resolve("root/a")));
    }

    @Test
    void aMediaTypeThatIsNoLayerIsUnimplemented() throws Exception {
        Descriptor config = ContentFixture.commit(store, "{}".getBytes(UTF_8), "application/vnd.oci.image.config.v1+json");
        assertThrows(UnimplementedException.class, () -> differ.apply(config, bind(directory("root")), DEFAULT));
    }

    @Test
    void aHostileLayerIsRefusedThroughTheDiffer() throws Exception {
        Path outside = directory("outside");
        byte[] tar = new TarBuilder().symlink("escape", "../outside").file("escape/planted", "pwned").tar();
        Descriptor layer = ContentFixture.commit(store, TarBuilder.gzip(tar), LayerMediaTypes.OCI_TAR_GZIP);
        assertThrows(InvalidArgumentException.class, () -> differ.apply(layer, bind(directory("root")), DEFAULT));
        assertEquals(Map.of(), Trees.describe(outside));
    }

    @Test
    void compareThenApplyReproducesTheUpperTree() throws Exception {
        boolean root = LayerApplier.privilegedProcess();
        Path lower = directory("lower");
        new LayerApplier(lower, root).apply(new TarBuilder()
                .file("etc/passwd", "root:x:0:0\n")
                .file("etc/motd", "hello")
                .file("var/log/old.log", "old")
                .file("var/cache/a", "a")
                .dir("opt/", 0755)
                .file("opt/tool", "#!/bin/sh\n", 0755, 0, 0, Map.of())
                .file("same-size", "aaaa")
                .symlink("bin", "usr/bin")
                .file("usr/bin/sh", "sh")
                .stream());
        Path upper = copy(lower, "upper");
        Files.writeString(upper.resolve("etc/motd"), "changed");
        Files.writeString(upper.resolve("etc/new"), "new file");
        Files.delete(upper.resolve("var/log/old.log"));
        LayerApplierTest.run("rm", "-r", upper.resolve("var/cache").toString());
        Files.delete(upper.resolve("opt/tool"));
        Files.createDirectory(upper.resolve("opt/tool"));
        Files.setAttribute(upper.resolve("etc/passwd"), "unix:mode", 0600);
        Files.writeString(upper.resolve("same-size"), "bbbb");
        Files.setLastModifiedTime(upper.resolve("same-size"), Files.getLastModifiedTime(lower.resolve("same-size")));
        Files.delete(upper.resolve("bin"));
        Files.createSymbolicLink(upper.resolve("bin"), Path.of("/usr/bin"));
        Files.writeString(upper.resolve("usr/bin/busybox"), "bb");
        Files.createLink(upper.resolve("usr/bin/ls"), upper.resolve("usr/bin/busybox"));
        Files.createDirectories(upper.resolve("a/very/deep/" + "long-name-".repeat(15)));
        Posix.lsetxattr(upper.resolve("etc/new"), "user.mark", "x".getBytes(UTF_8));
        if (root) {
            Posix.lchown(upper.resolve("etc/motd"), 1000, 1000);
        }
        Path target = copy(lower, "target");

        Descriptor layer = differ.compare(bind(lower), bind(upper), CompareOptions.of("default"));

        assertEquals(LayerMediaTypes.OCI_TAR_GZIP, layer.mediaType());
        byte[] tar;
        try (InputStream in = new GZIPInputStream(read(layer.digest()))) {
            tar = in.readAllBytes();
        }
        assertEquals(Digest.sha256(tar).toString(), store.info(layer.digest()).labels().get(WalkingDiffer.UNCOMPRESSED_LABEL));
        Descriptor applied = differ.apply(layer, bind(target), DEFAULT);
        assertEquals(Digest.sha256(tar), applied.digest());
        assertEquals(Trees.describe(upper), Trees.describe(target));
        assertEquals(Files.getAttribute(target.resolve("usr/bin/ls"), "unix:ino"),
                Files.getAttribute(target.resolve("usr/bin/busybox"), "unix:ino"));
        assertFalse(Files.exists(target.resolve("var/cache"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void comparingTheSameTreesTwiceGivesTheSameBlob() throws Exception {
        Path lower = directory("lower");
        Path upper = directory("upper");
        Files.writeString(upper.resolve("file"), "content");
        Files.createDirectories(upper.resolve("d/e"));

        Descriptor first = differ.compare(bind(lower), bind(upper), CompareOptions.of("default"));
        Descriptor second = differ.compare(bind(lower), bind(upper), CompareOptions.of("default"));
        Descriptor plain = differ.compare(bind(lower), bind(upper),
                new CompareOptions("default", Optional.empty(), Optional.of(LayerMediaTypes.OCI_TAR), Optional.of("my-ref"),
                        Map.of("origin", "test")));

        assertEquals(first, second);
        assertEquals(LayerMediaTypes.OCI_TAR, plain.mediaType());
        assertNotEquals(first.digest(), plain.digest());
        assertEquals(Map.of("origin", "test"), store.info(plain.digest()).labels());
        assertEquals(List.of(), store.listStatuses(status -> true), "no ingest is left behind");
        assertThrows(UnimplementedException.class, () -> differ.compare(bind(lower), bind(upper),
                new CompareOptions("default", Optional.empty(), Optional.of(LayerMediaTypes.OCI_TAR_ZSTD), Optional.empty(),
                        Map.of())));
    }

    @Test
    void appliesOntoAnOverlayMountSoThatDeletionsBecomeOverlayWhiteouts() throws Exception {
        assumeTrue(LayerApplier.privilegedProcess(), "overlay mounts need root");
        Path lower = directory("lower");
        Files.writeString(lower.resolve("gone"), "lower file");
        Files.writeString(lower.resolve("kept"), "lower file");
        Path upper = directory("upper");
        Path work = directory("work");
        byte[] tar = new TarBuilder().whiteout(".wh.gone").file("added", "upper file").tar();
        Descriptor layer = ContentFixture.commit(store, tar, LayerMediaTypes.OCI_TAR);
        List<Mount> overlay = List.of(new Mount("overlay", "overlay",
                List.of("lowerdir=" + lower, "upperdir=" + upper, "workdir=" + work)));

        differ.apply(layer, overlay, DEFAULT);

        assertEquals("upper file", Files.readString(upper.resolve("added")));
        Map<String, Object> whiteout = Files.readAttributes(upper.resolve("gone"), "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
        assertEquals(0020000, (Integer) whiteout.get("mode") & 0170000, "a 0/0 character device");
        assertEquals(0L, whiteout.get("rdev"));
        assertTrue(Files.exists(lower.resolve("gone")), "the lower layer is untouched");
        try (var mounts = Files.list(dir.resolve("mounts"))) {
            assertEquals(0, mounts.count(), "the temporary mount point is gone");
        }
    }

    private InputStream read(Digest digest) {
        ContentReader reader = store.readerAt(digest);
        ByteBuffer all = ByteBuffer.allocate((int) reader.size());
        while (all.hasRemaining() && reader.read(all, all.position()) > 0) {
            // fills the buffer
        }
        reader.close();
        return new java.io.ByteArrayInputStream(all.array());
    }

    private Path copy(Path source, String name) throws Exception {
        Path target = dir.resolve(name);
        LayerApplierTest.run("cp", "-a", source.toString(), target.toString());
        return target;
    }
}
