package dev.berth.tck.snapshots;

import static dev.berth.tck.snapshots.Tree.chown;
import static dev.berth.tck.snapshots.Tree.dir;
import static dev.berth.tck.snapshots.Tree.file;
import static dev.berth.tck.snapshots.Tree.link;
import static dev.berth.tck.snapshots.Tree.removeAll;
import static dev.berth.tck.snapshots.Tree.rename;
import static dev.berth.tck.snapshots.Tree.symlink;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.UnavailableException;
import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.mount.Mounts;
import dev.berth.plugin.snapshots.Kind;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugin.snapshots.Usage;
import dev.berth.tck.snapshots.Tree.Change;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link dev.berth.plugin.snapshots.Snapshotter} must show, after containerd's
 * {@code snapshots/testsuite}: prepare/commit chains whose contents are checked through real
 * mounts, views, stat, update and usage, walks, the rules of removal and of unique keys, deep
 * stacks of layers, large directories, concurrent prepares, a restart, and close.
 *
 * <p>Tests that mount need root (the kernel refuses mounts otherwise); without root they are
 * skipped, except where the environment variable {@code CI} is set, where they fail. After each
 * test nothing may be left mounted under its directory.
 *
 * <p>Use: {@code class MySnapshotterTest extends SnapshotterSuite { protected Snapshotter newSnapshotter(Path root) { return MySnapshotter.open(root); } }}
 */
public abstract class SnapshotterSuite {
    private static final Map<String, String> ROOT_LABEL = Map.of("containerd.io/gc.root", "suite");

    @TempDir
    Path temp;

    private Path root;
    private Path work;
    private Snapshotter snapshotter;
    private final List<Snapshotter> opened = new ArrayList<>();
    private final List<Path> mounted = new ArrayList<>();

    /**
     * A snapshotter over {@code root}, an existing empty directory that it owns. Called again with
     * the same root to check what survives a restart, after the previous one was closed.
     */
    protected abstract Snapshotter newSnapshotter(Path root) throws Exception;

    @BeforeEach
    final void openSnapshotter() throws Exception {
        root = Files.createDirectories(temp.resolve("root"));
        work = Files.createDirectories(temp.resolve("work"));
        snapshotter = open();
    }

    @AfterEach
    final void releaseEverything() throws Exception {
        for (Path target : mounted.reversed()) {
            Mounts.unmountAll(target);
        }
        for (Snapshotter each : opened) {
            each.close();
        }
        String mounts = Files.readString(Path.of("/proc/self/mounts"));
        List<String> left = mounts.lines().filter(line -> line.contains(temp.toString())).toList();
        for (String line : left) {
            Mounts.unmountAll(Path.of(line.split(" ")[1]));
        }
        assertEquals(List.of(), left, "left mounted after the test");
    }

    private Snapshotter open() throws Exception {
        Snapshotter created = newSnapshotter(root);
        opened.add(created);
        return created;
    }

    // ---- chains through real mounts -----------------------------------------------------------

    @Test
    public void basicPrepareCommitChainShowsEveryLayer() throws IOException {
        requireMounts();
        Change initial = Change.of(file("foo", "foo\n", 0777), dir("a", 0755), dir("a/b", 0755), dir("a/b/c", 0755));
        Change diff = Change.of(file("bar", "bar\n", 0777), file("foo", "bar\n", 0777), removeAll("a/b"));

        Path preparing = mount(snapshotter.prepare("preparing", "", ROOT_LABEL), "preparing");
        initial.apply(preparing);
        unmount(preparing);
        snapshotter.commit("committed", "preparing", ROOT_LABEL);
        SnapshotInfo committed = snapshotter.stat("committed");
        assertEquals("", committed.parent());
        assertEquals(Kind.COMMITTED, committed.kind());
        assertThrows(NotFoundException.class, () -> snapshotter.stat("preparing"));

        Path next = mount(snapshotter.prepare("next", "committed", ROOT_LABEL), "next");
        assertTreeEquals(flat(initial), next);
        diff.apply(next);
        unmount(next);
        SnapshotInfo active = snapshotter.stat("next");
        assertEquals("committed", active.parent());
        assertEquals(Kind.ACTIVE, active.kind());
        snapshotter.commit("committed-next", "next", ROOT_LABEL);
        SnapshotInfo committedNext = snapshotter.stat("committed-next");
        assertEquals("committed", committedNext.parent());
        assertEquals(Kind.COMMITTED, committedNext.kind());
        assertThrows(NotFoundException.class, () -> snapshotter.stat("next"));

        Map<String, SnapshotInfo> walked = new HashMap<>();
        snapshotter.walk(info -> true, info -> walked.put(info.name(), info));
        assertEquals(Map.of("committed", committed, "committed-next", committedNext), walked);

        Path view = mount(snapshotter.view("view", "committed-next", ROOT_LABEL), "view");
        assertTreeEquals(flat(initial, diff), view);
        unmount(view);

        snapshotter.remove("view");
        FailedPreconditionException refused = assertThrows(FailedPreconditionException.class,
                () -> snapshotter.remove("committed"));
        assertTrue(refused.getMessage().contains("committed"), refused.getMessage());
        snapshotter.remove("committed-next");
        snapshotter.remove("committed");
        assertWalk(info -> true);
    }

    @Test
    public void fileUpdatedInAnUpperLayer() throws IOException {
        requireMounts();
        checkLayers(Change.of(dir("etc", 0755), file("etc/hosts", "mydomain 10.0.0.1", 0644),
                        file("etc/profile", "PATH=/usr/bin", 0644)),
                file("etc/hosts", "mydomain 10.0.0.2", 0644),
                file("etc/hosts", "mydomain 10.0.0.3", 0644),
                Change.of(file("etc/profile", "PATH=/usr/bin:/usr/local/bin", 0644), file("etc/hosts", "x", 0600)));
    }

    @Test
    public void directoryRemovedAndRecreatedAboveALowerLayer() throws IOException {
        requireMounts();
        checkLayers(Change.of(dir("lib", 0700), file("lib/hidden", "a", 0644)),
                removeAll("lib"),
                Change.of(dir("lib", 0755), file("lib/visible", "b", 0644)));
    }

    @Test
    public void deletedFilesStayDeletedInChildren() throws IOException {
        requireMounts();
        checkLayers(Change.of(file("foo", "foo\n", 0777), file("foobar", "foobar\n", 0777)),
                removeAll("foobar"),
                Change.of());
    }

    @Test
    public void hardLinkToALowerFileThenTheOriginalRemoved() throws IOException {
        requireMounts();
        checkLayers(Change.of(dir("dir1", 0700), file("dir1/f1", "Hello", 0644), dir("dir2", 0700),
                        file("dir2/f2", "...", 0644)),
                Change.of(dir("dir3", 0700), file("dir3/f1", "Hello", 0644), removeAll("dir1"),
                        link("dir2/f2", "dir3/f2"), removeAll("dir2/f2")));
    }

    @Test
    public void renamesSymlinksAndOwnership() throws IOException {
        requireMounts();
        // As containerd's rename check; a non-empty directory of a lower layer is not renamed, as
        // overlay refuses that (EXDEV) unless redirect_dir is on.
        checkLayers(Change.of(dir("dir1", 0700), dir("somefiles", 0700), file("somefiles/f1", "was here first!", 0644),
                        file("somefiles/f2", "nothing interesting", 0644), symlink("../somefiles/f1", "dir1/link"),
                        file("setuid", "s", 04755)),
                Change.of(removeAll("dir1/link"), rename("dir1", "dir2"), file("somefiles/f1-overwrite", "new content 1", 0644),
                        rename("somefiles/f1-overwrite", "somefiles/f1"), rename("somefiles/f2", "somefiles/f3"),
                        chown("somefiles", 1, 2), chown("setuid", 3, 4), file("setuid", "s", 04755)),
                Change.of(symlink("/absolute/target", "dangling"), chown("dangling", 5, 6), rename("somefiles/f3", "moved")));
    }

    @Test
    public void directoryPermissionsSurviveCommit() throws IOException {
        requireMounts();
        checkLayers(Change.of(dir("dir1", 0700), dir("dir2", 0700), dir("dir3", 0700), dir("dir3/sub", 0700),
                        chown("dir1", 1, 1), chown("dir2", 1, 1), chown("dir3/sub", 2, 2)),
                Change.of(file("dir1/f", "x", 0644), dir("dir3/sub", 0711), chown("dir3/sub", 3, 3)));
    }

    @Test
    public void manyStackedLayersShowTheirSum() throws IOException {
        requireMounts();
        List<Change> layers = new ArrayList<>();
        layers.add(Change.of(file("bottom", "way at the bottom\n", 0777), file("overwriteme", "FIRST!\n", 0777),
                dir("ADDHERE", 0755), dir("ONLYME", 0755), file("ONLYME/bottom", "bye!\n", 0777)));
        for (int i = 1; i < layerCount(); i++) {
            layers.add(Change.of(file("overwriteme", i + " WAS HERE!\n", 0777),
                    file("ADDHERE/file-" + i, "same\n", 0755), removeAll("ONLYME"), dir("ONLYME", 0755),
                    file("ONLYME/file-" + i, "only me!\n", 0777)));
        }
        checkLayers(layers.toArray(Change[]::new));
    }

    /** How many layers {@link #manyStackedLayersShowTheirSum} stacks; containerd's suite uses 128. */
    protected int layerCount() {
        return 128;
    }

    @Test
    public void largeDirectoryAcrossLayers() throws IOException {
        requireMounts();
        checkLayers(root -> {
            Files.createDirectory(root.resolve("large"));
            for (int i = 0; i < 5000; i++) {
                Files.writeString(root.resolve("large/f" + i), Integer.toString(i));
            }
        }, root -> {
            for (int i = 0; i < 5000; i += 3) {
                Files.delete(root.resolve("large/f" + i));
            }
            for (int i = 0; i < 5000; i += 7) {
                Files.writeString(root.resolve("large/f" + i), "changed " + i);
            }
        });
    }

    @Test
    public void viewIsReadOnly() throws IOException {
        requireMounts();
        createLayer("committed", "", file("file", "content", 0644));
        for (String parent : List.of("", "committed")) {
            String key = "view-of-" + parent;
            Path view = mount(snapshotter.view(key, parent, ROOT_LABEL), key);
            assertThrows(FileSystemException.class, () -> Files.writeString(view.resolve("testfile"), "testcontent"));
            unmount(view);
            snapshotter.remove(key);
        }
        createLayer("second", "committed", file("other", "content", 0644));
        Path view = mount(snapshotter.view("deep-view", "second", ROOT_LABEL), "deep-view");
        assertThrows(FileSystemException.class, () -> Files.writeString(view.resolve("file"), "changed"));
        assertEquals("content", Files.readString(view.resolve("file")));
    }

    @Test
    public void rootOfANewSnapshotHasMode0755() throws IOException {
        requireMounts();
        Path preparing = mount(snapshotter.prepare("preparing", "", ROOT_LABEL), "preparing");
        assertEquals(0755, (Integer) Files.getAttribute(preparing, "unix:mode") & 07777);
    }

    @Test
    public void mountsOfAnActiveSnapshotAreThoseOfPrepare() throws IOException {
        requireMounts();
        createLayer("base", "", file("a", "a", 0644));
        List<Mount> prepared = snapshotter.prepare("active", "base", ROOT_LABEL);
        assertEquals(prepared, snapshotter.mounts("active"));
        List<Mount> viewed = snapshotter.view("view", "base", ROOT_LABEL);
        assertEquals(viewed, snapshotter.mounts("view"));
        assertThrows(FailedPreconditionException.class, () -> snapshotter.mounts("base"));
        assertThrows(NotFoundException.class, () -> snapshotter.mounts("absent"));

        Path again = mount(snapshotter.mounts("active"), "again");
        Files.writeString(again.resolve("b"), "b");
        unmount(again);
        Path view = mount(viewed, "view");
        assertFalse(Files.exists(view.resolve("b")), "a view of the parent must not see its sibling's changes");
    }

    @Test
    public void usageCountsOwnChangesOnce() throws IOException {
        requireMounts();
        createLayer("base", "", file("big", "x".repeat(100_000), 0644));
        Usage base = snapshotter.usage("base");
        assertTrue(base.size() >= 100_000, "usage of base: " + base);
        assertTrue(base.inodes() >= 2, "usage of base: " + base);

        Path active = mount(snapshotter.prepare("active", "base", ROOT_LABEL), "active");
        Usage empty = snapshotter.usage("active");
        byte[] data = new byte[200_000];
        Files.write(active.resolve("data"), data);
        Files.createLink(active.resolve("data-link"), active.resolve("data"));
        Usage grown = snapshotter.usage("active");
        assertEquals(empty.inodes() + 1, grown.inodes(), "a hard-linked file counts once");
        assertTrue(grown.size() - empty.size() >= 200_000 && grown.size() - empty.size() < 400_000,
                "usage of the active snapshot: " + empty + " then " + grown);
        unmount(active);

        snapshotter.commit("committed", "active", ROOT_LABEL);
        assertEquals(grown, snapshotter.usage("committed"));
        snapshotter.view("view", "committed", ROOT_LABEL);
        assertEquals(Usage.NONE, snapshotter.usage("view"));
        assertThrows(NotFoundException.class, () -> snapshotter.usage("absent"));
    }

    // ---- bookkeeping (no mounts needed) -------------------------------------------------------

    @Test
    public void statShowsKindParentAndLabels() {
        snapshotter.prepare("a", "", Map.of("l", "v", "empty", ""));
        SnapshotInfo active = snapshotter.stat("a");
        assertEquals(new SnapshotInfo(Kind.ACTIVE, "a", "", Map.of("l", "v"), active.created(), active.created()), active);
        snapshotter.commit("c", "a", Map.of("c", "1"));
        SnapshotInfo committed = snapshotter.stat("c");
        assertEquals(Kind.COMMITTED, committed.kind());
        assertEquals(Map.of("c", "1"), committed.labels(), "commit replaces the labels");
        assertFalse(committed.created().isBefore(active.created()));
        snapshotter.prepare("b", "c", Map.of());
        snapshotter.commit("d", "b", Map.of());
        SnapshotInfo child = snapshotter.stat("d");
        assertEquals("c", child.parent());
        assertEquals("", snapshotter.stat(child.parent()).parent());
        assertThrows(NotFoundException.class, () -> snapshotter.stat("absent"));
    }

    @Test
    public void keysAreUniqueAcrossKinds() {
        snapshotter.prepare("preparing", "", ROOT_LABEL);
        snapshotter.commit("snapA", "preparing", ROOT_LABEL);
        snapshotter.prepare("newLayer", "snapA", ROOT_LABEL);
        assertThrows(AlreadyExistsException.class, () -> snapshotter.view("newLayer", "snapA", ROOT_LABEL));
        assertThrows(AlreadyExistsException.class, () -> snapshotter.prepare("newLayer", "snapA", ROOT_LABEL));
        snapshotter.view("viewLayer", "snapA", ROOT_LABEL);
        assertThrows(AlreadyExistsException.class, () -> snapshotter.view("viewLayer", "snapA", ROOT_LABEL));
        assertThrows(AlreadyExistsException.class, () -> snapshotter.prepare("snapA", "", ROOT_LABEL));
        assertThrows(AlreadyExistsException.class, () -> snapshotter.commit("snapA", "newLayer", ROOT_LABEL));
        assertThrows(AlreadyExistsException.class, () -> snapshotter.commit("viewLayer", "newLayer", ROOT_LABEL));
        assertEquals(Kind.ACTIVE, snapshotter.stat("newLayer").kind(), "a refused commit changes nothing");
    }

    @Test
    public void parentsMustExistAndBeCommitted() {
        assertThrows(NotFoundException.class, () -> snapshotter.prepare("k", "absent", ROOT_LABEL));
        snapshotter.prepare("active", "", ROOT_LABEL);
        snapshotter.view("view", "", ROOT_LABEL);
        assertThrows(InvalidArgumentException.class, () -> snapshotter.prepare("k", "active", ROOT_LABEL));
        assertThrows(InvalidArgumentException.class, () -> snapshotter.view("k", "view", ROOT_LABEL));
        assertThrows(NotFoundException.class, () -> snapshotter.stat("k"), "a refused prepare leaves nothing");
        assertThrows(FailedPreconditionException.class, () -> snapshotter.commit("c", "view", ROOT_LABEL));
        assertThrows(NotFoundException.class, () -> snapshotter.commit("c", "absent", ROOT_LABEL));
        snapshotter.commit("c", "active", ROOT_LABEL);
        assertThrows(BerthException.class, () -> snapshotter.commit("c2", "c", ROOT_LABEL));
    }

    @Test
    public void updateChangesOnlyLabelsAndTheUpdatedTime() throws InterruptedException {
        Instant before = Instant.now();
        snapshotter.prepare("c1-a", "", ROOT_LABEL);
        snapshotter.commit("c1", "c1-a", ROOT_LABEL);
        snapshotter.prepare("c2-a", "c1", ROOT_LABEL);
        snapshotter.commit("c2", "c2-a", ROOT_LABEL);
        snapshotter.prepare("a1", "c2", ROOT_LABEL);
        snapshotter.prepare("a2", "", ROOT_LABEL);
        snapshotter.view("v1", "c2", ROOT_LABEL);
        snapshotter.view("v2", "", ROOT_LABEL);
        Instant after = Instant.now();

        record Case(String name, Kind kind, String parent) {}
        for (Case c : List.of(new Case("c1", Kind.COMMITTED, ""), new Case("c2", Kind.COMMITTED, "c1"),
                new Case("a1", Kind.ACTIVE, "c2"), new Case("a2", Kind.ACTIVE, ""), new Case("v1", Kind.VIEW, "c2"),
                new Case("v2", Kind.VIEW, ""))) {
            SnapshotInfo st = snapshotter.stat(c.name());
            assertFalse(st.created().isBefore(before) || st.created().isAfter(after), c + " created " + st.created());
            assertEquals(st.created(), st.updated(), c.name());
            assertEquals(c.kind(), st.kind(), c.name());
            assertEquals(c.parent(), st.parent(), c.name());

            Map<String, String> expected = Map.of("l1", "v1", "l2", "v2", "l3", "v3", "containerd.io/gc.root", "now");
            Instant u1 = Instant.now();
            SnapshotInfo updated = snapshotter.update(
                    new SnapshotInfo(st.kind(), st.name(), "doesnotexist", expected, st.created(), st.updated()), List.of());
            Instant u2 = Instant.now();
            assertEquals(st.created(), updated.created(), c.name());
            assertFalse(updated.updated().isBefore(u1) || updated.updated().isAfter(u2), c + " updated " + updated.updated());
            assertEquals(c.kind(), updated.kind(), c.name());
            assertEquals(c.parent(), updated.parent(), c.name());
            assertEquals(c.name(), updated.name());
            assertEquals(expected, updated.labels());
            assertEquals(updated, snapshotter.stat(c.name()));

            updated = snapshotter.update(updated.withLabels(Map.of("l1", "updated", "l4", "v4")), List.of("labels.l1", "labels.l2"));
            assertEquals(Map.of("l1", "updated", "l3", "v3", "containerd.io/gc.root", "now"), updated.labels());

            Map<String, String> replaced = Map.of("l4", "v4", "containerd.io/gc.root", "now");
            updated = snapshotter.update(updated.withLabels(replaced), List.of("labels"));
            assertEquals(replaced, updated.labels());

            SnapshotInfo immutable = new SnapshotInfo(st.kind(), st.name(), "doesnotexist", replaced, st.created(), st.updated());
            assertThrows(InvalidArgumentException.class, () -> snapshotter.update(immutable, List.of("parent")));
            assertEquals(replaced, snapshotter.stat(c.name()).labels());
        }
        SnapshotInfo absent = new SnapshotInfo(Kind.ACTIVE, "absent", "", Map.of(), before, before);
        assertThrows(NotFoundException.class, () -> snapshotter.update(absent, List.of()));
    }

    @Test
    public void removalRulesAndKeyReuse() {
        snapshotter.prepare("committed-a", "", ROOT_LABEL);
        snapshotter.commit("committed-1", "committed-a", ROOT_LABEL);
        snapshotter.prepare("reuse-1", "committed-1", ROOT_LABEL);
        snapshotter.remove("reuse-1");
        snapshotter.view("reuse-1", "committed-1", ROOT_LABEL);
        snapshotter.remove("reuse-1");
        snapshotter.prepare("reuse-1", "", ROOT_LABEL);
        snapshotter.remove("committed-1");
        snapshotter.commit("committed-1", "reuse-1", ROOT_LABEL);
        assertThrows(NotFoundException.class, () -> snapshotter.remove("reuse-1"));

        snapshotter.prepare("base-a", "", ROOT_LABEL);
        snapshotter.commit("base", "base-a", ROOT_LABEL);
        snapshotter.prepare("intermediate-a", "base", ROOT_LABEL);
        snapshotter.commit("intermediate", "intermediate-a", ROOT_LABEL);
        snapshotter.prepare("top", "intermediate", ROOT_LABEL);
        assertThrows(FailedPreconditionException.class, () -> snapshotter.remove("intermediate"));
        assertThrows(FailedPreconditionException.class, () -> snapshotter.remove("base"));
        snapshotter.remove("top");
        snapshotter.view("view", "intermediate", ROOT_LABEL);
        assertThrows(FailedPreconditionException.class, () -> snapshotter.remove("intermediate"), "a view is a child too");
        snapshotter.remove("view");
        snapshotter.remove("intermediate");
        snapshotter.remove("base");
        assertWalk(info -> true, "committed-1");
    }

    @Test
    public void walkMatchesPredicates() {
        Map<String, String> gc = Map.of("containerd.io/gc.root", "check-walk");
        snapshotter.prepare("a-np", "", gc);
        snapshotter.prepare("p-tmp", "", gc);
        snapshotter.commit("p", "p-tmp", gc);
        snapshotter.prepare("a", "p", gc);
        snapshotter.view("v", "p", gc);
        snapshotter.prepare("p-wl-tmp", "", gc);
        snapshotter.commit("p-wl", "p-wl-tmp", Map.of("l", "1", "containerd.io/gc.root", "check-walk"));
        snapshotter.prepare("a-wl", "p-wl", Map.of("l", "2", "containerd.io/gc.root", "check-walk"));
        snapshotter.view("v-wl", "p-wl", Map.of("l", "3", "containerd.io/gc.root", "check-walk"));
        snapshotter.prepare("a-np-wl", "", Map.of("l", "2", "containerd.io/gc.root", "check-walk"));

        Predicate<SnapshotInfo> gcRoot = info -> "check-walk".equals(info.labels().get("containerd.io/gc.root"));
        assertWalk(gcRoot, "a-np", "p", "a", "v", "p-wl", "a-wl", "v-wl", "a-np-wl");
        assertWalk(gcRoot.and(info -> info.kind() == Kind.ACTIVE), "a-np", "a", "a-wl", "a-np-wl");
        assertWalk(gcRoot.and(info -> info.kind() == Kind.VIEW), "v", "v-wl");
        assertWalk(gcRoot.and(info -> info.kind() == Kind.COMMITTED), "p", "p-wl");
        assertWalk(info -> info.name().equals("p") || info.name().equals("a-np-wl"), "p", "a-np-wl");
        assertWalk(info -> info.name().equals("a-wl") && info.labels().containsKey("l"), "a-wl");
        assertWalk(info -> info.parent().equals("p"), "a", "v");
        assertWalk(gcRoot.and(info -> !info.parent().isEmpty()), "a", "v", "a-wl", "v-wl");
        assertWalk(info -> info.labels().containsKey("l"), "p-wl", "a-wl", "v-wl", "a-np-wl");
        assertWalk(info -> "2".equals(info.labels().get("l")), "a-wl", "a-np-wl");

        IllegalStateException stop = new IllegalStateException("stop");
        List<String> seen = new ArrayList<>();
        assertEquals(stop, assertThrows(IllegalStateException.class, () -> snapshotter.walk(info -> true, info -> {
            seen.add(info.name());
            throw stop;
        })));
        assertEquals(1, seen.size(), "an exception from the consumer stops the walk");
    }

    @Test
    public void walkerMayCallTheSnapshotter() {
        for (int i = 0; i < 5; i++) {
            snapshotter.prepare("p-" + i, "", ROOT_LABEL);
            snapshotter.commit("c-" + i, "p-" + i, ROOT_LABEL);
            snapshotter.view("v-" + i, "c-" + i, ROOT_LABEL);
        }
        List<String> names = new ArrayList<>();
        snapshotter.walk(info -> true, info -> {
            assertEquals(info, snapshotter.stat(info.name()));
            names.add(info.name());
        });
        assertEquals(10, names.size());
    }

    @Test
    public void concurrentPreparesEachGetTheirOwnSnapshot() throws Exception {
        snapshotter.prepare("base-a", "", ROOT_LABEL);
        snapshotter.commit("base", "base-a", ROOT_LABEL);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < threads * 4; i++) {
                String key = i % 4 == 0 ? "contended" : "key-" + i;
                Callable<String> task = () -> {
                    start.await();
                    try {
                        snapshotter.prepare(key, "base", ROOT_LABEL);
                        return key;
                    } catch (AlreadyExistsException e) {
                        return null;
                    }
                };
                results.add(pool.submit(task));
            }
            start.countDown();
            List<String> created = new ArrayList<>();
            for (Future<String> result : results) {
                String key = result.get();
                if (key != null) {
                    created.add(key);
                }
            }
            assertEquals(1, created.stream().filter("contended"::equals).count(), "exactly one prepare of a contended key wins");
            assertEquals(threads * 3 + 1, created.size());
            Set<List<Mount>> mounts = new java.util.HashSet<>();
            for (String key : created) {
                mounts.add(snapshotter.mounts(key));
                assertEquals("base", snapshotter.stat(key).parent());
            }
            assertEquals(created.size(), mounts.size(), "every active snapshot has mounts of its own");
            assertThrows(FailedPreconditionException.class, () -> snapshotter.remove("base"));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void snapshotsSurviveARestart() throws Exception {
        snapshotter.prepare("a", "", Map.of("l", "v"));
        snapshotter.commit("c", "a", Map.of("l", "c"));
        snapshotter.prepare("active", "c", ROOT_LABEL);
        snapshotter.view("view", "c", ROOT_LABEL);
        Map<String, SnapshotInfo> before = new HashMap<>();
        snapshotter.walk(info -> true, info -> before.put(info.name(), info));
        List<Mount> activeMounts = snapshotter.mounts("active");
        Usage usage = snapshotter.usage("c");
        snapshotter.close();

        snapshotter = open();
        Map<String, SnapshotInfo> after = new HashMap<>();
        snapshotter.walk(info -> true, info -> after.put(info.name(), info));
        assertEquals(before, after);
        assertEquals(activeMounts, snapshotter.mounts("active"));
        assertEquals(usage, snapshotter.usage("c"));
        assertThrows(FailedPreconditionException.class, () -> snapshotter.remove("c"));
        snapshotter.commit("c2", "active", ROOT_LABEL);
        assertEquals("c", snapshotter.stat("c2").parent());
    }

    @Test
    public void closeTwiceThenCallsAreRefused() {
        snapshotter.prepare("prepare", "", ROOT_LABEL);
        snapshotter.commit("n", "prepare", ROOT_LABEL);
        snapshotter.remove("n");
        snapshotter.close();
        snapshotter.close();
        assertThrows(UnavailableException.class, () -> snapshotter.prepare("after", "", ROOT_LABEL));
        assertThrows(UnavailableException.class, () -> snapshotter.stat("prepare"));
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** Mount tests need root; CI runs as root, so there a missing privilege is a failure. */
    private static void requireMounts() throws IOException {
        boolean root = Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        if (!root && System.getenv("CI") != null) {
            fail("mounting snapshots needs root, and CI runs as root");
        }
        assumeTrue(root, "mounting snapshots needs root");
    }

    private Path mount(List<Mount> mounts, String name) throws IOException {
        assertFalse(mounts.isEmpty(), "no mounts");
        Path target = Files.createDirectories(work.resolve(name));
        Mounts.mount(mounts, target);
        mounted.add(target);
        return target;
    }

    private void unmount(Path target) {
        Mounts.unmountAll(target);
        mounted.remove(target);
    }

    private void createLayer(String name, String parent, Change change) throws IOException {
        String key = name + "-active";
        Path target = mount(snapshotter.prepare(key, parent, ROOT_LABEL), key);
        change.apply(target);
        unmount(target);
        snapshotter.commit(name, key, ROOT_LABEL);
    }

    /**
     * Stacks one committed layer per change, checking before and after each change that the
     * prepared snapshot shows exactly what the same changes made to a plain directory, and at the
     * end that a view of the top shows it too.
     */
    private void checkLayers(Change... changes) throws IOException {
        Path flat = Files.createDirectories(work.resolve("flat"));
        String parent = "";
        for (int i = 0; i < changes.length; i++) {
            String key = "prepare-layer-" + i;
            Path preparing = mount(snapshotter.prepare(key, parent, ROOT_LABEL), key);
            assertEquals(Tree.describe(flat), Tree.describe(preparing), "layer " + i + " before its change");
            changes[i].apply(flat);
            changes[i].apply(preparing);
            assertEquals(Tree.describe(flat), Tree.describe(preparing), "layer " + i + " after its change");
            unmount(preparing);
            parent = "committed-" + i;
            snapshotter.commit(parent, key, ROOT_LABEL);
        }
        Path view = mount(snapshotter.view("full-view", parent, ROOT_LABEL), "full-view");
        assertEquals(Tree.describe(flat), Tree.describe(view), "a view of the top layer");
        unmount(view);
    }

    private Path flat(Change... changes) throws IOException {
        Path flat = Files.createTempDirectory(work, "flat-");
        for (Change change : changes) {
            change.apply(flat);
        }
        return flat;
    }

    private static void assertTreeEquals(Path expected, Path actual) throws IOException {
        assertEquals(Tree.describe(expected), Tree.describe(actual));
    }

    private void assertWalk(Predicate<SnapshotInfo> filter, String... expected) {
        Set<String> names = new TreeSet<>();
        snapshotter.walk(filter, info -> assertTrue(names.add(info.name()), "walked twice: " + info.name()));
        assertEquals(new TreeSet<>(List.of(expected)), names);
    }
}
