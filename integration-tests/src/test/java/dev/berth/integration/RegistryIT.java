package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ctr images push} and {@code pull} between berthd and a real registry on loopback: an
 * image built offline goes up, is removed and collected, and comes back down with the same
 * manifest digest, complete and unpacked, with each built-in snapshotter. Push reads blobs through
 * the content service; pull writes them under a lease, records the image and unpacks through the
 * snapshots and diff services.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegistryIT {
    private static final String LOCAL = "registry.test/busybox:latest";

    private Berthd berthd;
    private Path work;
    private OciArchive.Built image;

    @BeforeAll
    void start() throws Exception {
        Ctr.requireInstalled();
        Registry.requireInstalled();
        requireInstalled(OciArchive.UMOCI, "umoci");
        requireInstalled(OciArchive.BUSYBOX, "busybox-static");
        berthd = new Berthd().start();
        work = Files.createDirectories(berthd.dir().resolve("work"));
        image = OciArchive.busybox(work.resolve("image"));
    }

    @AfterAll
    void stop() {
        if (berthd != null) {
            berthd.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"native", "overlayfs"})
    void pushRemovePullGivesTheSameImage(String snapshotter) throws Exception {
        requireLoaded(snapshotter);
        String ns = "reg-" + snapshotter;
        Ctr ctr = berthd.ctr();
        try (Registry registry = Registry.start(work.resolve("registry-" + snapshotter))) {
            String remote = registry.host() + "/test/busybox:1";
            ctr.succeed("-n", ns, "images", "import", "--snapshotter", snapshotter,
                    "--base-name", "registry.test/busybox", image.file().toString());
            ctr.succeed("-n", ns, "images", "tag", LOCAL, remote);
            assertEquals(Map.of(LOCAL, image.manifest(), remote, image.manifest()), images(ctr, ns));

            Exec.Result push = ctr.run("-n", ns, "images", "push", "--plain-http", remote);
            assertEquals(0, push.exitCode(), () -> push + "\n" + registry.log());
            assertEquals(Optional.of(image.manifest()), registry.manifestDigest("test/busybox", "1"),
                    "the registry serves the pushed manifest");

            ctr.succeed("-n", ns, "images", "rm", "--sync", LOCAL, remote);
            assertEquals(Map.of(), images(ctr, ns));
            assertEquals("", ctr.succeed("-n", ns, "content", "ls", "-q").trim(), "the collector removed the blobs");
            assertEquals(List.of(), snapshotKeys(ctr, ns, snapshotter), "the collector removed the unpacked layer");

            Exec.Result pull = ctr.run("-n", ns, "images", "pull", "--plain-http", "--snapshotter", snapshotter, remote);
            assertEquals(0, pull.exitCode(), () -> pull + "\n" + registry.log());
            assertEquals(Map.of(remote, image.manifest()), images(ctr, ns), "pulled with the pushed digest");
            String check = ctr.succeed("-n", ns, "images", "check", "--snapshotter", snapshotter);
            String row = check.lines().filter(l -> l.startsWith(remote)).findFirst().orElseThrow(() -> new AssertionError(check));
            assertTrue(row.contains("complete (2/2)") && row.trim().endsWith("true"), "complete and unpacked:\n" + check);
            assertEquals(1, snapshotKeys(ctr, ns, snapshotter).size(), "one layer, one committed snapshot");
            assertBusyboxIn(ctr, ns, snapshotter, remote);

            ctr.succeed("-n", ns, "images", "rm", "--sync", remote);
            assertEquals("", ctr.succeed("-n", ns, "content", "ls", "-q").trim());
            assertEquals(List.of(), snapshotKeys(ctr, ns, snapshotter));
        }
    }

    /** Mounts the pulled image read-only and finds the busybox the image was built from. */
    private void assertBusyboxIn(Ctr ctr, String ns, String snapshotter, String ref) throws IOException {
        Path target = Files.createDirectories(work.resolve("mnt-" + snapshotter));
        ctr.succeed("-n", ns, "images", "mount", "--snapshotter", snapshotter, ref, target.toString());
        try {
            Path busybox = target.resolve("bin/busybox");
            assertTrue(Files.isRegularFile(busybox), "busybox is in the pulled image");
            assertEquals(-1L, Files.mismatch(OciArchive.BUSYBOX, busybox), "busybox came back byte for byte");
            assertEquals(Path.of("busybox"), Files.readSymbolicLink(target.resolve("bin/sh")));
        } finally {
            ctr.succeed("-n", ns, "images", "unmount", "--snapshotter", snapshotter, "--rm", target.toString());
        }
        assertFalse(Files.exists(target.resolve("bin/busybox")), "unmounted");
    }

    /** {@code ctr images ls}: reference to target digest. */
    private static Map<String, String> images(Ctr ctr, String ns) {
        Map<String, String> images = new TreeMap<>();
        for (String line : ctr.succeed("-n", ns, "images", "ls").lines().skip(1).toList()) {
            String[] cells = line.trim().split("\\s+");
            images.put(cells[0], cells[2]);
        }
        return images;
    }

    private static List<String> snapshotKeys(Ctr ctr, String ns, String snapshotter) {
        List<String> keys = new ArrayList<>();
        for (String line : ctr.succeed("-n", ns, "snapshots", "--snapshotter", snapshotter, "ls").lines().skip(1).toList()) {
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

    private static void requireInstalled(Path binary, String debianPackage) {
        if (Files.isExecutable(binary)) {
            return;
        }
        String message = binary + " is missing (Debian package " + debianPackage + ")";
        if (System.getenv("CI") != null) {
            fail(message);
        }
        Assumptions.abort(message);
    }
}
