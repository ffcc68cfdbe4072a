package dev.berth.plugins.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.metadata.GcStats;
import dev.berth.plugin.metadata.Labels;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugins.snapshots.overlay.OverlaySnapshotter;
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

/** Snapshots as garbage collection nodes, and their removal from the backend snapshotter. */
class SnapshotGcTest {
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

    /** Makes committed snapshots {@code names[0]} ← {@code names[1]} ← … in {@code snapshotter}. */
    private static void chain(Snapshotter snapshotter, String... names) {
        String parent = "";
        for (String name : names) {
            snapshotter.prepare(name + "-active", parent, Map.of());
            snapshotter.commit(name, name + "-active", Map.of());
            parent = name;
        }
    }

    @Test
    void unreferencedSnapshotsAreRemovedFromMetadataAndBackendChildrenFirst() {
        Snapshotter a = fixture.snapshots("a");
        chain(a, "base", "middle", "top");
        a.view("rootfs", "top", Map.of());
        assertEquals(4, Fixture.backendNames(fixture.nativeBackend).size());

        assertEquals(4, fixture.store.collectGarbage().removed());
        assertThrows(NotFoundException.class, () -> a.stat("base"));
        assertEquals(Set.of(), Fixture.backendNames(fixture.nativeBackend),
                "the backend refuses parents with children, so only children-first removal empties it");
    }

    @Test
    void removedSnapshotsLeaveTheBackendAtTheNextCollection() {
        Snapshotter a = fixture.snapshots("a");
        a.prepare("kept", "", Map.of(Labels.GC_ROOT, "yes"));
        a.prepare("removed", "", Map.of(Labels.GC_ROOT, "yes"));
        a.remove("removed");
        assertEquals(2, Fixture.backendNames(fixture.nativeBackend).size(), "removal is recorded first");
        assertEquals(0, fixture.store.collectGarbage().removed());
        Set<String> left = Fixture.backendNames(fixture.nativeBackend);
        assertEquals(1, left.size());
        assertTrue(left.iterator().next().endsWith("/kept"), left.toString());
    }

    @Test
    void aCollectionThatSweepsOnlySnapshotsLeavesTheContentStoreUnwalked() {
        Fixture.commit(fixture.content("a"), "garbage", Map.of());
        assertTrue(fixture.store.collectGarbage().content().isPositive(), "the first collection checks the store");
        Snapshotter a = fixture.snapshots("a");
        a.prepare("removed", "", Map.of());
        GcStats snapshotsOnly = fixture.store.collectGarbage();
        assertEquals(1, snapshotsOnly.removed());
        assertEquals(Duration.ZERO, snapshotsOnly.content(), "no blob or ingest left the metadata");

        Fixture.commit(fixture.content("a"), "garbage again", Map.of());
        GcStats withContent = fixture.store.collectGarbage();
        assertEquals(1, withContent.removed());
        assertTrue(withContent.content().isPositive(), "a swept blob is removed from the store");
    }

    @Test
    void rootLabelsKeepASnapshotAndItsParents() {
        Snapshotter a = fixture.snapshots("a");
        chain(a, "base", "middle");
        a.prepare("container", "middle", Map.of(Labels.GC_ROOT, "true"));
        chain(a, "unrelated");
        fixture.store.collectGarbage();
        assertEquals(List.of("base", "container", "middle"), names(a));
        assertEquals(3, Fixture.backendNames(fixture.nativeBackend).size());
    }

    @Test
    void leasedSnapshotsSurviveUntilTheLeaseIsDeleted() {
        chain(fixture.snapshots("a"), "base");
        fixture.store.leases().create("a", "unpack", Map.of());
        Snapshotter leased = fixture.snapshots("a", "unpack");
        leased.prepare("extract", "base", Map.of());
        leased.commit("layer", "extract", Map.of());

        fixture.store.collectGarbage();
        assertEquals(List.of("base", "layer"), names(fixture.snapshots("a")), "the lease keeps layer, layer keeps base");
        assertEquals(2, Fixture.backendNames(fixture.nativeBackend).size());

        fixture.store.leases().delete("a", "unpack", true);
        assertEquals(List.of(), names(fixture.snapshots("a")));
        assertEquals(Set.of(), Fixture.backendNames(fixture.nativeBackend));
    }

    @Test
    void flatLeasesKeepParentsButNotLabelReferences() {
        Snapshotter a = fixture.snapshots("a");
        chain(a, "base");
        Digest referenced = Fixture.commit(fixture.content("a"), "referenced", Map.of());
        fixture.store.leases().create("a", "flat", Map.of(Labels.GC_FLAT, "true"));
        Snapshotter leased = fixture.snapshots("a", "flat");
        leased.prepare("top", "base", Map.of(Labels.GC_REF_CONTENT, referenced.toString()));
        fixture.store.collectGarbage();
        assertEquals(List.of("base", "top"), names(a));
        assertFalse(Fixture.exists(fixture.content("a"), referenced), "flat: the label is not followed");
    }

    @Test
    void snapshotReferenceLabelsKeepSnapshots() {
        Snapshotter a = fixture.snapshots("a");
        chain(a, "sha256:base", "sha256:chain");
        ContentStore content = fixture.content("a");
        Digest config = Fixture.commit(content, "config", Map.of(Labels.GC_ROOT, "true",
                Labels.GC_REF_SNAPSHOT + "native", "sha256:chain",
                Labels.GC_REF_SNAPSHOT + "overlayfs", "sha256:elsewhere"));

        fixture.store.collectGarbage();
        assertEquals(List.of("sha256:base", "sha256:chain"), names(a));

        // the same key in another namespace is not referenced by a's label
        chain(fixture.snapshots("b"), "sha256:chain");
        fixture.store.collectGarbage();
        assertEquals(List.of(), names(fixture.snapshots("b")));
        assertEquals(2, Fixture.backendNames(fixture.nativeBackend).size());

        content.update(content.info(config).withLabels(Map.of(Labels.GC_ROOT, "true")), List.of());
        fixture.store.collectGarbage();
        assertEquals(List.of(), names(a));
        assertEquals(Set.of(), Fixture.backendNames(fixture.nativeBackend));
    }

    @Test
    void snapshotLabelsReferenceContent() {
        Snapshotter a = fixture.snapshots("a");
        Digest layer = Fixture.commit(fixture.content("a"), "layer", Map.of());
        a.prepare("container", "", Map.of(Labels.GC_ROOT, "true", Labels.GC_REF_CONTENT + ".l", layer.toString()));
        fixture.store.collectGarbage();
        assertTrue(Fixture.exists(fixture.backend, layer));
        a.remove("container");
        fixture.store.collectGarbage();
        assertFalse(Fixture.exists(fixture.backend, layer));
    }

    @Test
    void backendSnapshotsTheMetadataNeverRecordedAreCleanedUp() {
        // e.g. left by a crash between the backend's prepare and the metadata's record
        fixture.nativeBackend.prepare("a/999/orphan", "", Map.of());
        fixture.snapshots("a").prepare("kept", "", Map.of(Labels.GC_ROOT, "true"));
        fixture.reopen();
        fixture.store.collectGarbage();
        Set<String> left = Fixture.backendNames(fixture.nativeBackend);
        assertEquals(1, left.size(), left.toString());
        assertTrue(left.iterator().next().endsWith("/kept"), left.toString());
    }

    @Test
    void eachSnapshotterIsCollectedOnItsOwnReferencesOnOverlayToo() throws Exception {
        Path root = dir.resolve("overlayfs");
        OverlaySnapshotter.unsupportedReason(root).ifPresent(reason -> fail("overlay snapshots: " + reason));
        try (OverlaySnapshotter overlay = OverlaySnapshotter.open(root, fixture.clock);
                LmdbMetadataStore store = LmdbMetadataStore.open(dir.resolve("both"), fixture.backend,
                        Map.of("native", fixture.nativeBackend, "overlayfs", overlay), fixture.clock)) {
            assertEquals(List.of("native", "overlayfs"), store.snapshotters());
            Snapshotter onOverlay = store.snapshotter("a", "overlayfs", Optional.empty());
            Snapshotter onNative = store.snapshotter("a", "native", Optional.empty());
            chain(onOverlay, "sha256:base", "sha256:chain");
            chain(onNative, "sha256:chain");
            ContentStore content = store.content("a", Optional.empty());
            Digest config = Fixture.commit(content, "config", Map.of(Labels.GC_ROOT, "true",
                    Labels.GC_REF_SNAPSHOT + "overlayfs", "sha256:chain"));

            store.collectGarbage();
            assertEquals(List.of("sha256:base", "sha256:chain"), names(onOverlay));
            assertEquals(2, Fixture.backendNames(overlay).size());
            assertEquals(List.of(), names(onNative), "the label names the overlay snapshotter only");
            assertEquals(Set.of(), Fixture.backendNames(fixture.nativeBackend));

            content.update(content.info(config).withLabels(Map.of(Labels.GC_ROOT, "true")), List.of());
            store.collectGarbage();
            assertEquals(Set.of(), Fixture.backendNames(overlay));
        }
    }

    private static List<String> names(Snapshotter snapshotter) {
        List<String> names = new ArrayList<>();
        snapshotter.walk(info -> true, info -> names.add(info.name()));
        return names.stream().sorted().toList();
    }
}
