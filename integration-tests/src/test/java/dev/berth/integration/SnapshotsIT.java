package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ctr snapshots} against berthd with each built-in snapshotter: prepare, mount what
 * {@code mounts} prints and write through it, commit, view, tree, info, usage, label, diff,
 * removal (refused for a parent with children), all through the snapshots and diff services.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SnapshotsIT {
    private Berthd berthd;

    @BeforeAll
    void start() {
        Ctr.requireInstalled();
        // ctr snapshots view labels nothing as a root, so a collection would take the views
        berthd = new Berthd();
        berthd.writeConfig(berthd.baseConfig() + Berthd.GC_ON_REQUEST).start();
    }

    @AfterAll
    void stop() {
        if (berthd != null) {
            berthd.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"native", "overlayfs"})
    void snapshotLifecycleThroughCtr(String snapshotter) throws Exception {
        requireLoaded(snapshotter);
        SnapshotCtr ctr = new SnapshotCtr(berthd.ctr(), "snap-" + snapshotter, snapshotter);
        Path work = Files.createDirectories(berthd.dir().resolve("work-" + snapshotter));

        String json = ctr.succeed("prepare", "--mounts", "base-active");
        assertTrue(json.contains("\"Type\"") || json.contains("\"type\""), json);
        withMounted(ctr, work.resolve("base"), "base-active", root -> {
            Files.writeString(root.resolve("base.txt"), "from base\n");
            Files.write(root.resolve("payload"), new byte[256 * 1024]);
        });
        ctr.succeed("commit", "base", "base-active");

        ctr.succeed("view", "base-view", "base");
        assertTrue(ctr.succeed("mounts", work.resolve("v").toString(), "base-view").contains("ro"),
                "a view's mounts are read-only");
        withMounted(ctr, work.resolve("view"), "base-view",
                root -> assertEquals("from base\n", Files.readString(root.resolve("base.txt"))));

        ctr.succeed("prepare", "child", "base");
        withMounted(ctr, work.resolve("child"), "child", root -> {
            assertEquals("from base\n", Files.readString(root.resolve("base.txt")));
            Files.writeString(root.resolve("child.txt"), "from child\n");
            Files.delete(root.resolve("payload"));
        });

        String list = ctr.succeed("ls");
        assertTrue(list.lines().anyMatch(l -> l.matches("base\\s+Committed\\s*")), list);
        assertTrue(list.lines().anyMatch(l -> l.matches("child\\s+base\\s+Active\\s*")), list);
        assertTrue(list.lines().anyMatch(l -> l.matches("base-view\\s+base\\s+View\\s*")), list);

        List<String> tree = ctr.succeed("tree").lines().toList();
        int base = tree.indexOf(" base");
        assertTrue(base >= 0, tree.toString());
        assertTrue(tree.containsAll(List.of("  \\_ child", "  \\_ base-view")), tree.toString());

        String info = ctr.succeed("info", "base");
        assertTrue(info.contains("\"Name\": \"base\""), info);
        assertTrue(info.contains("\"Kind\": \"Committed\""), info);

        String usage = ctr.succeed("usage", "-b", "base");
        long size = Long.parseLong(usage.lines().skip(1).findFirst().orElseThrow().trim().split("\\s+")[1]);
        assertTrue(size >= 256 * 1024, usage);

        // ctr's commit labels the snapshot containerd.io/gc.root; label prints all labels in no order
        List<String> labels = List.of(ctr.succeed("label", "base", "team=storage").trim().split(","));
        assertTrue(labels.contains("team=storage") && labels.stream().anyMatch(l -> l.startsWith("containerd.io/gc.root=")),
                labels.toString());
        assertTrue(ctr.succeed("info", "base").contains("\"team\": \"storage\""));
        assertFalse(ctr.succeed("label", "base", "team=").contains("team"));
        assertFalse(ctr.succeed("info", "base").contains("\"team\""));

        // the child's changes as an uncompressed layer: its new file and a whiteout for the removed one
        String layer = ctr.succeed("diff", "--media-type", "application/vnd.oci.image.layer.v1.tar", "child");
        assertTrue(layer.contains("child.txt") && layer.contains(".wh.payload"), "not the child's layer");
        assertFalse(layer.contains("base.txt"), "the layer holds a file the child did not change");

        Exec.Result refused = ctr.run("rm", "base");
        assertNotEquals(0, refused.exitCode(), refused::toString);
        assertTrue(refused.stderr().contains("failed precondition") || refused.stderr().contains("children"),
                refused::toString);
        assertTrue(ctr.succeed("ls").contains("base"));

        Exec.Result missing = ctr.run("info", "missing");
        assertNotEquals(0, missing.exitCode(), missing::toString);
        assertTrue(missing.stderr().contains("not found"), missing::toString);

        // a collection keeps what ctr labelled containerd.io/gc.root (base, child) and takes the view
        berthd.ctr().succeed("-n", ctr.namespace(), "leases", "create", "--id", "collect");
        berthd.ctr().succeed("-n", ctr.namespace(), "leases", "rm", "--sync", "collect");
        String collected = ctr.succeed("ls");
        assertTrue(collected.contains("child") && !collected.contains("base-view"), collected);

        ctr.succeed("rm", "child");
        ctr.succeed("rm", "base");
        assertEquals(1, ctr.succeed("ls").lines().count(), "only the header is left");
    }

    /** Skips where the daemon skipped the snapshotter (overlay mounts impossible here) and fails in CI. */
    private void requireLoaded(String snapshotter) {
        Ctr.Row row = berthd.ctr().plugins().stream()
                .filter(r -> r.uri().equals("io.containerd.snapshotter.v1." + snapshotter)).findFirst()
                .orElseThrow(() -> new AssertionError(snapshotter + " is not registered"));
        if (!row.status().equals("ok") && System.getenv("CI") == null) {
            Assumptions.abort(snapshotter + " is " + row.status() + " here");
        }
        assertEquals("ok", row.status(), snapshotter);
    }

    /** Mounts snapshot {@code key} on {@code target} with the commands {@code ctr snapshots mounts} prints, runs {@code body}, unmounts. */
    private static void withMounted(SnapshotCtr ctr, Path target, String key, Body body) throws Exception {
        Files.createDirectories(target);
        String commands = ctr.succeed("mounts", target.toString(), key);
        List<String> lines = commands.lines().filter(line -> !line.isBlank()).toList();
        assertEquals(1, lines.size(), commands);
        Exec.Result mount = Exec.run(List.of("sh", "-c", lines.getFirst()), java.util.Map.of(), Duration.ofSeconds(30));
        assertEquals(0, mount.exitCode(), mount::toString);
        try {
            body.run(target);
        } finally {
            Exec.Result umount = Exec.run(List.of("umount", target.toString()), java.util.Map.of(), Duration.ofSeconds(30));
            assertEquals(0, umount.exitCode(), umount::toString);
        }
    }

    private interface Body {
        void run(Path root) throws IOException;
    }

    /** {@code ctr -n <namespace> snapshots --snapshotter <id> ...}. */
    private record SnapshotCtr(Ctr ctr, String namespace, String snapshotter) {
        String succeed(String... args) {
            return ctr.succeed(command(args));
        }

        Exec.Result run(String... args) {
            return ctr.run(command(args));
        }

        private String[] command(String... args) {
            List<String> command = new ArrayList<>(List.of("-n", namespace, "snapshots", "--snapshotter", snapshotter));
            command.addAll(List.of(args));
            return command.toArray(String[]::new);
        }
    }
}
