package dev.berth.plugins.differ;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.InvalidArgumentException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class LayerApplierTest {

    @TempDir
    Path base;
    Path root;
    Path outside;
    Map<String, String> outsideBefore;

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createDirectory(base.resolve("root"));
        outside = Files.createDirectory(base.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "keep me");
        Files.createDirectory(outside.resolve("dir"));
        outsideBefore = Trees.describe(outside);
    }

    private void apply(TarBuilder layer) throws IOException {
        new LayerApplier(root, LayerApplier.privilegedProcess()).apply(layer.stream());
    }

    private static Map<String, Object> stat(Path path) throws IOException {
        return Files.readAttributes(path, "unix:*", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void createsEveryKindOfEntryWithItsMetadata() throws IOException {
        assumeTrue(LayerApplier.privilegedProcess(), "ownership and device nodes need root");
        apply(new TarBuilder()
                .dir("etc/", 0755)
                .file("etc/passwd", "root:x:0:0\n", 0644, 0, 0, Map.of())
                .file("bin/su", "setuid", 04755, 0, 0, Map.of())
                .file("home/user/data", "mine", 0640, 1000, 1001, Map.of("user.origin", "layer".getBytes(UTF_8)))
                .dir("tmp/", 01777)
                .symlink("bin/sh", "/bin/busybox")
                .hardlink("etc/passwd.link", "etc/passwd")
                .fifo("run/pipe")
                .charDevice("dev/null", 1, 3));

        assertEquals("root:x:0:0\n", Files.readString(root.resolve("etc/passwd")));
        assertEquals(0104755, stat(root.resolve("bin/su")).get("mode"));
        assertEquals(041777, stat(root.resolve("tmp")).get("mode"));
        Map<String, Object> data = stat(root.resolve("home/user/data"));
        assertEquals(0100640, data.get("mode"));
        assertEquals(1000, data.get("uid"));
        assertEquals(1001, data.get("gid"));
        assertEquals("layer", new String(Posix.lgetxattr(root.resolve("home/user/data"), "user.origin").orElseThrow(), UTF_8));
        assertEquals("/bin/busybox", Files.readSymbolicLink(root.resolve("bin/sh")).toString());
        assertEquals(stat(root.resolve("etc/passwd")).get("ino"), stat(root.resolve("etc/passwd.link")).get("ino"));
        assertEquals(2, stat(root.resolve("etc/passwd")).get("nlink"));
        assertEquals(0010600, stat(root.resolve("run/pipe")).get("mode"));
        Map<String, Object> device = stat(root.resolve("dev/null"));
        assertEquals(0020666, device.get("mode"));
        assertEquals(Posix.makedev(1, 3), device.get("rdev"));
        for (String path : List.of("etc", "etc/passwd", "bin/su", "tmp", "bin/sh", "run/pipe")) {
            assertEquals(FileTime.from(TarBuilder.TIME), stat(root.resolve(path)).get("lastModifiedTime"), path);
        }
    }

    @Test
    void withoutPrivilegeKeepsTheDaemonsOwnerAndRefusesDeviceNodes() throws IOException {
        LayerApplier applier = new LayerApplier(root, false);
        applier.apply(new TarBuilder().file("a", "x", 0644, 1234, 1234, Map.of()).stream());
        assertEquals(Files.getAttribute(base, "unix:uid"), Files.getAttribute(root.resolve("a"), "unix:uid"));

        var e = assertThrows(FailedPreconditionException.class,
                () -> applier.apply(new TarBuilder().charDevice("dev/null", 1, 3).stream()));
        assertTrue(e.getMessage().contains("dev/null"), e.getMessage());
        assertFalse(Files.exists(root.resolve("dev/null"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void whiteoutsRemoveFilesAndWholeTrees() throws IOException {
        apply(new TarBuilder().file("keep", "k").file("gone", "g").file("tree/a/b", "deep").symlink("link", "keep"));
        apply(new TarBuilder().whiteout(".wh.gone").whiteout(".wh.tree").whiteout(".wh.link").whiteout(".wh.never-existed"));

        assertEquals(Map.of("keep", "k"), contents(root));
    }

    @Test
    void anOpaqueDirectoryHidesWhatLowerLayersPutInIt() throws IOException {
        apply(new TarBuilder().file("d/old", "1").file("d/sub/old", "2").file("other", "3"));
        apply(new TarBuilder()
                .file("d/before-marker", "written before the marker")
                .whiteout("d/.wh..wh..opq")
                .file("d/sub/new", "4"));

        assertEquals(Map.of("d/before-marker", "written before the marker", "d/sub/new", "4", "other", "3"), contents(root));
    }

    @Test
    void laterEntriesReplaceEarlierOnesAndDirectoriesMerge() throws IOException {
        apply(new TarBuilder().file("a/one", "1").file("x", "file").dir("y/", 0755).file("y/inner", "i"));
        apply(new TarBuilder().dir("a/", 0700).file("a/two", "2").dir("x/", 0755).file("y", "now a file"));

        assertEquals(Map.of("a/one", "1", "a/two", "2", "y", "now a file"), contents(root));
        assertTrue(Files.isDirectory(root.resolve("x"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(040700, stat(root.resolve("a")).get("mode"));
    }

    @Test
    void anEntryOverAnExistingSymlinkReplacesTheLinkNotItsTarget() throws IOException {
        Files.createSymbolicLink(root.resolve("link"), outside.resolve("secret"));
        Files.createSymbolicLink(root.resolve("dirlink"), outside.resolve("dir"));
        apply(new TarBuilder().file("link", "replaced").dir("dirlink/", 0755));

        assertEquals("replaced", Files.readString(root.resolve("link")));
        assertTrue(Files.isDirectory(root.resolve("dirlink"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(outsideBefore, Trees.describe(outside));
    }

    @Test
    void absoluteSymlinksAreFollowedWithTheRootAsSlash() throws IOException {
        apply(new TarBuilder()
                .symlink("abs", outside.toString())
                .file("abs/secret", "written inside")
                .symlink("lib", "/usr/lib")
                .file("lib/libc.so", "c"));

        assertEquals("written inside", Files.readString(root.resolve(outside.toString().substring(1)).resolve("secret")));
        assertEquals("c", Files.readString(root.resolve("usr/lib/libc.so")));
        assertEquals(outsideBefore, Trees.describe(outside));
    }

    static List<TarBuilder> hostileLayers() {
        return List.of(
                new TarBuilder().file("../outside/secret", "pwned"),
                new TarBuilder().file("a/../../outside/secret", "pwned"),
                new TarBuilder().file("/outside/secret", "pwned"),
                new TarBuilder().dir("../outside/dir/new/", 0755),
                new TarBuilder().hardlink("passwd", "/etc/passwd"),
                new TarBuilder().hardlink("secret", "../outside/secret"),
                new TarBuilder().symlink("escape", "../outside").file("escape/secret", "pwned"),
                new TarBuilder().symlink("escape", "../outside").file("escape/planted", "pwned"),
                new TarBuilder().symlink("escape", "../outside").whiteout("escape/.wh.secret"),
                new TarBuilder().symlink("escape", "../outside").whiteout("escape/dir/.wh..wh..opq"),
                new TarBuilder().symlink("escape", "../outside").hardlink("stolen", "escape/secret"),
                new TarBuilder().symlink("a", "b").symlink("b", "c/../../outside").file("a/planted", "pwned"),
                new TarBuilder().dir("d/", 0755).symlink("d/up", "../..").file("d/up/outside/planted", "pwned"),
                new TarBuilder().symlink("loop", "loop").file("loop/x", "x"),
                new TarBuilder().whiteout("../.wh.outside"),
                new TarBuilder().whiteout(".wh.."));
    }

    @ParameterizedTest
    @MethodSource("hostileLayers")
    void entriesLeavingTheRootAreRefusedAndNothingOutsideChanges(TarBuilder layer) throws IOException {
        var e = assertThrows(InvalidArgumentException.class, () -> apply(layer));
        assertTrue(e.getMessage().startsWith("layer entry \""), e.getMessage());
        assertEquals(outsideBefore, Trees.describe(outside));
        assertFalse(Files.exists(base.resolve("planted")));
        assertFalse(Files.exists(base.getParent().resolve("outside")));
    }

    @Test
    void aCorruptHeaderIsRefused() {
        byte[] tar = new TarBuilder().file("a", "content").tar();
        tar[10] ^= 0x55;
        var e = assertThrows(InvalidArgumentException.class,
                () -> new LayerApplier(root, false).apply(new ByteArrayInputStream(tar)));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void aTruncatedArchiveFails() {
        byte[] tar = new TarBuilder().file("a", "x".repeat(2000)).tar();
        byte[] cut = java.util.Arrays.copyOf(tar, 1024);
        assertThrows(java.io.EOFException.class, () -> new LayerApplier(root, false).apply(new ByteArrayInputStream(cut)));
    }

    @Test
    void longNamesPaxAndGnuFromTheTarToolRoundTrip() throws Exception {
        Path source = Files.createDirectory(base.resolve("source"));
        String deep = "d".repeat(90) + "/" + "e".repeat(90) + "/" + "f".repeat(60);
        Files.createDirectories(source.resolve(deep).getParent());
        Files.writeString(source.resolve(deep), "long");
        Files.createSymbolicLink(source.resolve("longlink"), Path.of("t".repeat(150)));
        Files.writeString(source.resolve("big"), "0123456789".repeat(100_000));
        Files.createLink(source.resolve("big.hard"), source.resolve("big"));
        Files.setAttribute(source.resolve("big"), "unix:mode", 02750);
        Files.setLastModifiedTime(source.resolve("big"), FileTime.from(TarBuilder.TIME));
        Posix.lsetxattr(source.resolve("big"), "user.note", "hi".getBytes(UTF_8));

        for (String format : List.of("gnu", "posix")) {
            Path archive = base.resolve(format + ".tar");
            run("tar", "--format=" + format, "--xattrs", "--xattrs-include=user.*", "-C", source.toString(), "-cf",
                    archive.toString(), ".");
            Path target = Files.createDirectory(base.resolve("from-" + format));
            try (var in = Files.newInputStream(archive)) {
                new LayerApplier(target, LayerApplier.privilegedProcess()).apply(in);
            }
            // GNU tar writes the xattrs as PAX records even in its own format
            assertEquals(Trees.describe(source), Trees.describe(target), format);
            assertEquals(stat(target.resolve("big")).get("ino"), stat(target.resolve("big.hard")).get("ino"));
        }
    }

    @Test
    void aBusyboxTreeFromTheTarToolApplies() throws Exception {
        Path busybox = Path.of("/bin/busybox");
        assumeTrue(Files.isExecutable(busybox), "busybox-static is not installed");
        Path source = Files.createDirectories(base.resolve("image/bin"));
        Files.copy(busybox, source.resolve("busybox"));
        for (String applet : List.of("sh", "ls", "cat")) {
            Files.createSymbolicLink(source.resolve(applet), Path.of("busybox"));
        }
        Path archive = base.resolve("busybox.tar.gz");
        run("tar", "-C", base.resolve("image").toString(), "-czf", archive.toString(), "bin");
        try (var in = Compression.decompress(Files.newInputStream(archive))) {
            new LayerApplier(root, LayerApplier.privilegedProcess()).apply(in);
        }
        assertEquals(Trees.describe(base.resolve("image")), Trees.describe(root));
        Process ls = new ProcessBuilder(root.resolve("bin/ls").toString(), "/").start();
        assertTrue(ls.waitFor(10, TimeUnit.SECONDS) && ls.exitValue() == 0);
    }

    static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + output);
    }

    /** The regular files of a tree and their content. */
    static Map<String, String> contents(Path root) throws IOException {
        Map<String, String> files = new java.util.TreeMap<>();
        try (var walk = Files.walk(root)) {
            for (Path path : (Iterable<Path>) walk::iterator) {
                if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                    files.put(root.relativize(path).toString(), Files.readString(path));
                }
            }
        }
        return files;
    }
}
