package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ctr images import} of layers crafted to write outside the snapshot they unpack into: a
 * name climbing above the root, an absolute name, a relative symlink climbing out with a file
 * written through it, and hard links to the host's {@code /etc/passwd}. Each is refused with an
 * error naming the entry, leaves no snapshot behind, and writes nothing outside the snapshot.
 * Absolute symlinks are legitimate in images (they mean the container's own root), so a file
 * written through one is accepted and lands inside the snapshot, as containerd does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LayerSecurityIT {
    private static final Path PASSWD = Path.of("/etc/passwd");
    // deep enough to climb from any snapshot directory to the host's /
    private static final String UP = "../".repeat(24);

    private Berthd berthd;
    private Path work;
    private byte[] passwd;
    private Object passwdInode;
    private Object passwdLinks;

    /**
     * A layer that must be refused.
     *
     * @param label   names the case in the report
     * @param entries the layer's members, given the marker file name to use
     * @param refused the entry the error must name, given the marker
     * @param escapes where the entry would land were it followed, given the marker
     */
    record Attack(String label, Function<String, List<OciArchive.Entry>> entries, Function<String, String> refused,
                  Function<String, List<Path>> escapes) {
        @Override
        public String toString() {
            return label;
        }
    }

    @BeforeAll
    void start() throws Exception {
        Ctr.requireInstalled();
        berthd = new Berthd().start();
        work = Files.createDirectories(berthd.dir().resolve("work"));
        passwd = Files.readAllBytes(PASSWD);
        passwdInode = Files.getAttribute(PASSWD, "unix:ino");
        passwdLinks = Files.getAttribute(PASSWD, "unix:nlink");
    }

    @AfterAll
    void stop() {
        if (berthd != null) {
            berthd.close();
        }
    }

    static Stream<Arguments> attacks() {
        List<Attack> attacks = List.of(
                new Attack("name climbing out",
                        marker -> List.of(OciArchive.Entry.directory("ok/"), OciArchive.Entry.file("../../" + marker, "escaped")),
                        marker -> "../../" + marker,
                        marker -> List.of(Path.of("/tmp", marker), Path.of("/", marker))),
                new Attack("absolute name",
                        marker -> List.of(OciArchive.Entry.directory("ok/"), OciArchive.Entry.file("/tmp/" + marker, "escaped")),
                        marker -> "/tmp/" + marker,
                        marker -> List.of(Path.of("/tmp", marker))),
                new Attack("file through a symlink climbing out",
                        marker -> List.of(OciArchive.Entry.symlink("link", UP + "tmp"), OciArchive.Entry.file("link/" + marker, "escaped")),
                        marker -> "link/" + marker,
                        marker -> List.of(Path.of("/tmp", marker))),
                new Attack("hard link to an absolute path",
                        marker -> List.of(OciArchive.Entry.hardLink(marker, PASSWD.toString())),
                        marker -> marker,
                        marker -> List.of()),
                new Attack("hard link climbing out",
                        marker -> List.of(OciArchive.Entry.hardLink(marker, UP + "etc/passwd")),
                        marker -> marker,
                        marker -> List.of()),
                new Attack("hard link through a symlink climbing out",
                        marker -> List.of(OciArchive.Entry.symlink("etc", UP + "etc"), OciArchive.Entry.hardLink(marker, "etc/passwd")),
                        marker -> marker,
                        marker -> List.of()));
        return Stream.of("native", "overlayfs").flatMap(snapshotter -> attacks.stream().map(attack -> Arguments.of(snapshotter, attack)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("attacks")
    void aLayerWritingOutsideItsRootIsRefused(String snapshotter, Attack attack) throws Exception {
        requireLoaded(snapshotter);
        String marker = marker();
        String ns = "sec-" + snapshotter;
        OciArchive.Built image = OciArchive.withLayer(work.resolve(marker + ".tar"), attack.entries().apply(marker));

        Exec.Result result = berthd.ctr().run("-n", ns, "images", "import", "--snapshotter", snapshotter,
                "--base-name", "attack.test/" + marker, image.file().toString());

        assertNotEquals(0, result.exitCode(), result::toString);
        assertTrue(result.stderr().contains("failed to extract layer")
                && result.stderr().contains("layer entry \"" + attack.refused().apply(marker) + "\""), result::toString);
        for (Path escape : attack.escapes().apply(marker)) {
            assertFalse(Files.exists(escape, LinkOption.NOFOLLOW_LINKS), escape + " was written");
        }
        assertHostUntouched(marker);
        assertEquals(List.of(), snapshotKeys(ns, snapshotter), "the refused layer left no snapshot");
        berthd.ctr().succeed("-n", ns, "images", "rm", "--sync", "attack.test/" + marker + ":latest");
    }

    @ParameterizedTest
    @ValueSource(strings = {"native", "overlayfs"})
    void aFileThroughAnAbsoluteSymlinkLandsInsideTheSnapshot(String snapshotter) throws Exception {
        requireLoaded(snapshotter);
        String marker = marker();
        String ns = "sec-inside-" + snapshotter;
        String ref = "attack.test/" + marker + ":latest";
        OciArchive.Built image = OciArchive.withLayer(work.resolve(marker + ".tar"), List.of(
                OciArchive.Entry.symlink("link", "/tmp"),
                OciArchive.Entry.file("link/" + marker, "inside"),
                // a symlink to the host's passwd, then a file by the same name: the file replaces the link
                OciArchive.Entry.symlink("passwd", PASSWD.toString()),
                OciArchive.Entry.file("passwd", "replaced")));
        Ctr ctr = berthd.ctr();

        ctr.succeed("-n", ns, "images", "import", "--snapshotter", snapshotter, "--base-name", "attack.test/" + marker,
                image.file().toString());

        assertFalse(Files.exists(Path.of("/tmp", marker), LinkOption.NOFOLLOW_LINKS), "/tmp/" + marker + " was written");
        assertPasswdUnchanged();
        Path target = Files.createDirectories(work.resolve("mnt-" + marker));
        ctr.succeed("-n", ns, "images", "mount", "--snapshotter", snapshotter, ref, target.toString());
        try {
            assertEquals("inside", Files.readString(target.resolve("tmp/" + marker)), "written under the image's own /tmp");
            assertEquals(Path.of("/tmp"), Files.readSymbolicLink(target.resolve("link")));
            assertFalse(Files.isSymbolicLink(target.resolve("passwd")), "the file replaced the symlink");
            assertEquals("replaced", Files.readString(target.resolve("passwd")));
        } finally {
            ctr.succeed("-n", ns, "images", "unmount", "--snapshotter", snapshotter, "--rm", target.toString());
        }
        assertHostUntouched(marker);
        ctr.succeed("-n", ns, "images", "rm", "--sync", ref);
        assertEquals(List.of(), snapshotKeys(ns, snapshotter));
    }

    /**
     * /etc/passwd has its content, inode and link count, and no file by the marker's name exists
     * anywhere in the daemon's directories, where a climb out of a snapshot would first land.
     */
    private void assertHostUntouched(String marker) throws IOException {
        assertPasswdUnchanged();
        assertEquals(passwdInode, Files.getAttribute(PASSWD, "unix:ino"));
        assertEquals(passwdLinks, Files.getAttribute(PASSWD, "unix:nlink"), "no hard link was made to /etc/passwd");
        try (Stream<Path> paths = Files.walk(berthd.dir().resolve("root"))) {
            List<Path> found = paths.filter(p -> p.getFileName().toString().equals(marker)).toList();
            // an accepted layer legitimately holds the marker inside its snapshot, under tmp/
            assertEquals(List.of(), found.stream().filter(p -> !p.getParent().getFileName().toString().equals("tmp")).toList());
        }
    }

    private void assertPasswdUnchanged() throws IOException {
        assertArrayEquals(passwd, Files.readAllBytes(PASSWD), "/etc/passwd changed");
    }

    private static String marker() {
        return "escape-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    }

    private List<String> snapshotKeys(String ns, String snapshotter) {
        List<String> keys = new ArrayList<>();
        for (String line : berthd.ctr().succeed("-n", ns, "snapshots", "--snapshotter", snapshotter, "ls").lines().skip(1).toList()) {
            keys.add(line.trim().split("\\s+")[0]);
        }
        return keys;
    }

    private void requireLoaded(String snapshotter) {
        Ctr.Row row = berthd.ctr().plugins().stream()
                .filter(r -> r.uri().equals("io.containerd.snapshotter.v1." + snapshotter)).findFirst()
                .orElseThrow(() -> new AssertionError(snapshotter + " is not registered"));
        if (!row.status().equals("ok") && System.getenv("CI") == null) {
            Assumptions.abort(snapshotter + " is " + row.status() + " here");
        }
        assertEquals("ok", row.status(), snapshotter);
    }
}
