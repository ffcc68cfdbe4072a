package dev.berth.plugins.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.UnavailableException;
import dev.berth.plugin.metadata.Resource;
import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.snapshots.Kind;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugin.snapshots.SnapshotTypes;
import dev.berth.plugin.snapshots.Snapshotter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The namespaced view over the real native snapshotter: key mapping, isolation, chains, labels, leases. */
class NamespacedSnapshotsTest {
    @TempDir
    Path dir;
    Fixture fixture;

    @BeforeEach
    void open() throws Exception {
        fixture = new Fixture(dir);
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void twoNamespacesUseTheSameKeyForDifferentBackendSnapshots() throws Exception {
        Snapshotter a = fixture.snapshots("a");
        Snapshotter b = fixture.snapshots("b");
        Path inA = source(a.prepare("work", "", Map.of()));
        Path inB = source(b.prepare("work", "", Map.of()));
        assertNotEquals(inA, inB);
        Files.writeString(inA.resolve("file"), "a");
        assertTrue(Files.notExists(inB.resolve("file")));

        Set<String> backend = Fixture.backendNames(fixture.nativeBackend);
        assertEquals(2, backend.size());
        assertTrue(backend.stream().anyMatch(name -> name.startsWith("a/") && name.endsWith("/work")), backend.toString());
        assertTrue(backend.stream().anyMatch(name -> name.startsWith("b/") && name.endsWith("/work")), backend.toString());

        assertEquals(List.of("work"), names(a));
        assertThrows(NotFoundException.class, () -> fixture.snapshots("c").stat("work"));
        assertEquals(List.of(), names(fixture.snapshots("c")));

        a.remove("work");
        assertThrows(NotFoundException.class, () -> a.stat("work"));
        assertEquals(Kind.ACTIVE, b.stat("work").kind(), "b's snapshot is untouched");
        // the key is free again in a, for a new backend snapshot
        a.prepare("work", "", Map.of());
        assertTrue(Files.notExists(source(a.mounts("work")).resolve("file")));
    }

    @Test
    void chainsOfPrepareCommitAndViewResolveParentsInTheNamespace() throws Exception {
        Snapshotter a = fixture.snapshots("a");
        Files.writeString(source(a.prepare("layer-1-active", "", Map.of())).resolve("one"), "1");
        a.commit("layer-1", "layer-1-active", Map.of());
        Files.writeString(source(a.prepare("layer-2-active", "layer-1", Map.of())).resolve("two"), "2");
        a.commit("layer-2", "layer-2-active", Map.of("k", "v"));

        Path view = source(a.view("rootfs", "layer-2", Map.of()));
        assertEquals("1", Files.readString(view.resolve("one")));
        assertEquals("2", Files.readString(view.resolve("two")));
        assertEquals(List.of("ro"), a.mounts("rootfs").getFirst().options().stream().filter("ro"::equals).toList());

        SnapshotInfo layer2 = a.stat("layer-2");
        assertEquals(new SnapshotInfo(Kind.COMMITTED, "layer-2", "layer-1", Map.of("k", "v"), fixture.clock.instant(),
                fixture.clock.instant()), layer2);
        assertEquals("layer-2", a.stat("rootfs").parent());
        assertEquals(Kind.VIEW, a.stat("rootfs").kind());
        assertTrue(a.usage("layer-2").size() > 0);
        assertThrows(NotFoundException.class, () -> a.stat("layer-2-active"), "the active key is gone once committed");

        // the parent must exist in this namespace, whatever other namespaces have
        NotFoundException missing = assertThrows(NotFoundException.class,
                () -> fixture.snapshots("b").prepare("x", "layer-2", Map.of()));
        assertEquals("parent snapshot layer-2 does not exist: not found", missing.getMessage());

        FailedPreconditionException refused = assertThrows(FailedPreconditionException.class, () -> a.remove("layer-1"));
        assertEquals("snapshot layer-1: cannot remove snapshot with child: failed precondition", refused.getMessage());
        assertThrows(FailedPreconditionException.class, () -> a.remove("layer-2"), "the view is a child");
        a.remove("rootfs");
        a.remove("layer-2");
        a.remove("layer-1");
        assertEquals(List.of(), names(a));
        assertEquals("snapshot layer-1 does not exist: not found",
                assertThrows(NotFoundException.class, () -> a.remove("layer-1")).getMessage());
    }

    @Test
    void keysAndTargetsAlreadyTakenAreRefused() {
        Snapshotter a = fixture.snapshots("a");
        a.prepare("active", "", Map.of());
        a.commit("sha256:chain", "active", Map.of());
        assertEquals("snapshot \"sha256:chain\": already exists",
                assertThrows(AlreadyExistsException.class, () -> a.prepare("sha256:chain", "", Map.of())).getMessage());
        // a client unpacking a layer names the committed snapshot it will make; the namespace has it
        AlreadyExistsException target = assertThrows(AlreadyExistsException.class, () -> a.prepare("extract-1", "",
                Map.of(NamespacedSnapshotter.SNAPSHOT_REF, "sha256:chain")));
        assertEquals("target snapshot \"sha256:chain\": already exists", target.getMessage());
        assertThrows(NotFoundException.class, () -> a.stat("extract-1"));
        assertEquals(1, Fixture.backendNames(fixture.nativeBackend).size(), "a refused prepare leaves no backend snapshot");

        // another namespace does not have it: the same prepare goes through there
        fixture.snapshots("b").prepare("extract-1", "", Map.of(NamespacedSnapshotter.SNAPSHOT_REF, "sha256:chain"));
    }

    @Test
    void labelsAreKeptPerNamespaceAndOnlyInheritedOnesReachTheBackend() {
        Snapshotter a = fixture.snapshots("a");
        Snapshotter b = fixture.snapshots("b");
        a.prepare("k", "", Map.of("mine", "a", "containerd.io/snapshot/remote", "x"));
        b.prepare("k", "", Map.of("mine", "b"));
        assertEquals(Map.of("mine", "a", "containerd.io/snapshot/remote", "x"), a.stat("k").labels());
        assertEquals(Map.of("mine", "b"), b.stat("k").labels());

        List<SnapshotInfo> backend = new ArrayList<>();
        fixture.nativeBackend.walk(info -> info.name().startsWith("a/"), backend::add);
        assertEquals(Map.of("containerd.io/snapshot/remote", "x"), backend.getFirst().labels());

        fixture.clock.advance(Duration.ofSeconds(3));
        SnapshotInfo updated = a.update(a.stat("k").withLabels(Map.of("mine", "changed", "new", "1")),
                List.of("labels.mine", "labels.new", "labels.containerd.io/snapshot/remote"));
        assertEquals(Map.of("mine", "changed", "new", "1"), updated.labels());
        assertEquals(fixture.clock.instant(), updated.updated());
        assertEquals(updated, a.stat("k"));
        assertEquals(Map.of("mine", "b"), b.stat("k").labels());
        backend.clear();
        fixture.nativeBackend.walk(info -> info.name().startsWith("a/"), backend::add);
        assertEquals(Map.of(), backend.getFirst().labels(), "the inherited label was removed from the backend too");

        List<String> walked = new ArrayList<>();
        a.walk(info -> "changed".equals(info.labels().get("mine")), info -> walked.add(info.name()));
        assertEquals(List.of("k"), walked);
        walked.clear();
        b.walk(info -> "changed".equals(info.labels().get("mine")), info -> walked.add(info.name()));
        assertEquals(List.of(), walked);
    }

    @Test
    void aLeaseHoldsWhatIsCreatedUnderIt() {
        fixture.store.leases().create("a", "unpack", Map.of());
        Snapshotter leased = fixture.snapshots("a", "unpack");
        leased.prepare("extract", "", Map.of());
        assertEquals(List.of(new Resource("extract", "snapshots/native")),
                fixture.store.leases().listResources("a", "unpack"));
        leased.commit("layer", "extract", Map.of());
        assertEquals(List.of(new Resource("layer", "snapshots/native")),
                fixture.store.leases().listResources("a", "unpack"));
        leased.remove("layer");
        assertEquals(List.of(), fixture.store.leases().listResources("a", "unpack"));

        Snapshotter missingLease = fixture.snapshots("a", "absent");
        assertEquals("lease does not exist: not found",
                assertThrows(NotFoundException.class, () -> missingLease.prepare("x", "", Map.of())).getMessage());
        assertThrows(NotFoundException.class, () -> fixture.snapshots("a").stat("x"));
    }

    @Test
    void thePluginWrapsEverySnapshotter() {
        var registration = new MetadataPlugins().registrations().getFirst();
        assertTrue(registration.requires().contains(Dependency.all(SnapshotTypes.SNAPSHOTTER)), registration.requires().toString());
    }

    @Test
    void snapshottersAreListedAndAnUnknownOneIsNotFound() {
        assertEquals(List.of("native"), fixture.store.snapshotters());
        assertThrows(NotFoundException.class, () -> fixture.store.snapshotter("a", "zfs", Optional.empty()));
    }

    @Test
    void aClosedViewRefusesCallsAndLeavesTheBackendOpen() {
        Snapshotter a = fixture.snapshots("a");
        a.prepare("k", "", Map.of());
        a.close();
        assertThrows(UnavailableException.class, () -> a.stat("k"));
        assertEquals(Kind.ACTIVE, fixture.snapshots("a").stat("k").kind());
    }

    @Test
    void aNamespaceWithSnapshotsOrImagesCannotBeDeleted() {
        fixture.snapshots("busy").prepare("k", "", Map.of());
        fixture.store.images().create("busy", ImagesTest.image("docker.io/library/busybox:latest", ImagesTest.digest("m")));
        FailedPreconditionException e = assertThrows(FailedPreconditionException.class,
                () -> fixture.store.namespaces().delete("busy"));
        assertEquals("namespace \"busy\" must be empty, but it still has images, snapshots on \"native\" snapshotter: "
                + "failed precondition", e.getMessage());
        fixture.snapshots("busy").remove("k");
        fixture.store.images().delete("busy", "docker.io/library/busybox:latest", false);
        fixture.store.namespaces().delete("busy");
    }

    @Test
    void snapshotsSurviveReopening() {
        Snapshotter a = fixture.snapshots("a");
        a.prepare("p", "", Map.of());
        a.commit("c", "p", Map.of("k", "v"));
        a.view("v", "c", Map.of());
        SnapshotInfo before = a.stat("c");
        fixture.reopen();
        Snapshotter reopened = fixture.snapshots("a");
        assertEquals(before, reopened.stat("c"));
        assertEquals("c", reopened.stat("v").parent());
        assertThrows(FailedPreconditionException.class, () -> reopened.remove("c"));
    }

    private static Path source(List<Mount> mounts) {
        assertEquals(1, mounts.size());
        return Path.of(mounts.getFirst().source());
    }

    private static List<String> names(Snapshotter snapshotter) {
        List<String> names = new ArrayList<>();
        snapshotter.walk(info -> true, info -> names.add(info.name()));
        return names.stream().sorted().toList();
    }
}
