package dev.berth.plugins.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.UnimplementedException;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.metadata.Labels;
import dev.berth.plugin.metadata.Lease;
import dev.berth.plugin.metadata.LeaseManager;
import dev.berth.plugin.metadata.Resource;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeasesAndGcTest {
    @TempDir
    Path dir;
    Fixture fixture;
    LeaseManager leases;

    @BeforeEach
    void open() throws Exception {
        fixture = new Fixture(dir);
        leases = fixture.store.leases();
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void leasesAreCreatedListedAndDeleted() {
        Lease created = leases.create("ns", "b", Map.of("k", "v"));
        assertEquals(fixture.clock.instant(), created.createdAt());
        leases.create("ns", "a", Map.of());
        leases.create("other", "c", Map.of());
        assertThrows(AlreadyExistsException.class, () -> leases.create("ns", "a", Map.of()));
        assertThrows(InvalidArgumentException.class, () -> leases.create("ns", "", Map.of()));
        // containerd's generated ids are not identifiers, and are accepted
        leases.create("ns", "123456-a_-=", Map.of());

        assertEquals(List.of("123456-a_-=", "a", "b"), leases.list("ns", l -> true).stream().map(Lease::id).toList());
        assertEquals(List.of(created), leases.list("ns", l -> "v".equals(l.labels().get("k"))));
        leases.delete("ns", "b", false);
        assertThrows(NotFoundException.class, () -> leases.delete("ns", "b", false));
        assertEquals(List.of("c"), leases.list("other", l -> true).stream().map(Lease::id).toList());
    }

    @Test
    void resourcesAreAddedListedAndDeleted() {
        leases.create("ns", "l", Map.of());
        Digest digest = Digest.sha256(new byte[] {1});
        leases.addResource("ns", "l", new Resource("snap-1", "snapshots/overlayfs"));
        leases.addResource("ns", "l", new Resource("ref-1", "ingests"));
        leases.addResource("ns", "l", new Resource(digest.toString(), "content"));
        leases.addResource("ns", "l", new Resource(digest.toString(), "content"));
        assertEquals(List.of(new Resource(digest.toString(), "content"), new Resource("ref-1", "ingests"),
                new Resource("snap-1", "snapshots/overlayfs")), leases.listResources("ns", "l"));

        leases.deleteResource("ns", "l", new Resource("ref-1", "ingests"));
        leases.deleteResource("ns", "l", new Resource("never-held", "ingests"));
        assertEquals(2, leases.listResources("ns", "l").size());

        assertThrows(InvalidArgumentException.class, () -> leases.addResource("ns", "l", new Resource("nope", "content")));
        assertThrows(InvalidArgumentException.class, () -> leases.addResource("ns", "l", new Resource("x", "snapshots")));
        assertThrows(InvalidArgumentException.class, () -> leases.addResource("ns", "l", new Resource("x", "content/y")));
        assertThrows(UnimplementedException.class, () -> leases.addResource("ns", "l", new Resource("x", "images")));
        assertThrows(NotFoundException.class, () -> leases.addResource("ns", "missing", new Resource("x", "ingests")));
        assertThrows(NotFoundException.class, () -> leases.listResources("ns", "missing"));
    }

    /**
     * A collection with nothing to sweep writes nothing, so it neither holds up the writes nor tells the
     * mutation listeners; it still counts the removals before it as seen.
     */
    @Test
    void aCollectionWithNothingToSweepWritesNothing() {
        List<Boolean> mutations = new ArrayList<>();
        fixture.store.onMutation(mutations::add);
        leases.create("ns", "kept", Map.of());
        leases.create("ns", "gone", Map.of());
        leases.delete("ns", "gone", false);
        assertEquals(List.of(false, false, true), mutations);

        assertEquals(0, fixture.store.collectGarbage().removed());
        assertEquals(3, mutations.size());

        leases.create("ns", "next", Map.of());
        assertEquals(false, mutations.getLast());
    }

    /** What a collection sweeps is still swept in a write transaction, which the listeners hear of. */
    @Test
    void aCollectionThatSweepsTellsTheListeners() {
        List<Boolean> mutations = new ArrayList<>();
        leases.create("ns", "short", Map.of(Labels.GC_EXPIRE, fixture.clock.instant().plusSeconds(1).toString()));
        fixture.store.onMutation(mutations::add);
        fixture.clock.advance(Duration.ofSeconds(2));

        assertEquals(1, fixture.store.collectGarbage().removed());
        assertEquals(1, mutations.size());
        assertEquals(List.of(), leases.list("ns", l -> true));
    }

    /**
     * As containerd, a collection walks the backing content store only when a blob left the metadata (or
     * it is the first since start): other removals cannot have freed a blob there.
     */
    @Test
    void theBackingStoreIsWalkedOnlyAfterABlobLeftTheMetadata() {
        Digest kept = Fixture.commit(fixture.content("ns"), "kept", Map.of(Labels.GC_ROOT, "x"));
        Digest dropped = Fixture.commit(fixture.content("ns"), "dropped", Map.of(Labels.GC_ROOT, "x"));
        fixture.store.collectGarbage();
        Digest orphan = Fixture.commit(fixture.backend, "orphan", Map.of());

        leases.create("ns", "gone", Map.of());
        leases.delete("ns", "gone", false);
        assertEquals(0, fixture.store.collectGarbage().removed());
        assertEquals(orphan, fixture.backend.info(orphan).digest());

        fixture.content("ns").delete(dropped);
        fixture.store.collectGarbage();
        assertThrows(NotFoundException.class, () -> fixture.backend.info(orphan));
        assertThrows(NotFoundException.class, () -> fixture.backend.info(dropped));
        assertEquals(kept, fixture.backend.info(kept).digest());
    }

    @Test
    void expiredLeasesAreCollected() {
        String expiry = fixture.clock.instant().plus(Duration.ofHours(1)).toString();
        leases.create("ns", "short", Map.of(Labels.GC_EXPIRE, expiry));
        leases.create("ns", "forever", Map.of());
        leases.create("ns", "garbled", Map.of(Labels.GC_EXPIRE, "not a time"));

        fixture.store.collectGarbage();
        assertEquals(3, leases.list("ns", l -> true).size());

        fixture.clock.advance(Duration.ofMinutes(61));
        assertEquals(1, fixture.store.collectGarbage().removed());
        assertEquals(List.of("forever", "garbled"), leases.list("ns", l -> true).stream().map(Lease::id).toList());
    }

    @Test
    void contentInALeaseSurvivesUntilTheLeaseIsDeleted() {
        leases.create("ns", "pull", Map.of());
        ContentStore leased = fixture.content("ns", "pull");
        Digest digest = Fixture.commit(leased, "layer", Map.of());
        assertEquals(List.of(new Resource(digest.toString(), "content")), leases.listResources("ns", "pull"));

        fixture.store.collectGarbage();
        assertTrue(Fixture.exists(fixture.content("ns"), digest));
        assertTrue(Fixture.exists(fixture.backend, digest));

        leases.delete("ns", "pull", true);
        assertFalse(Fixture.exists(fixture.content("ns"), digest));
        assertFalse(Fixture.exists(fixture.backend, digest), "collected from the backing store too");
    }

    @Test
    void unleasedUnrootedContentIsCollected() {
        Digest loose = Fixture.commit(fixture.content("ns"), "loose", Map.of());
        Digest root = Fixture.commit(fixture.content("ns"), "root", Map.of(Labels.GC_ROOT, "2030-01-01T00:00:00Z"));
        fixture.store.collectGarbage();
        assertFalse(Fixture.exists(fixture.content("ns"), loose));
        assertFalse(Fixture.exists(fixture.backend, loose));
        assertTrue(Fixture.exists(fixture.content("ns"), root));
    }

    @Test
    void referenceLabelsKeepChainsOfContent() {
        ContentStore content = fixture.content("ns");
        Digest layer = Fixture.commit(content, "layer", Map.of());
        Digest config = Fixture.commit(content, "config", Map.of());
        Digest manifest = Fixture.commit(content, "manifest", Map.of(
                Labels.GC_REF_CONTENT + ".config", config.toString(),
                Labels.GC_REF_CONTENT + ".l.0", layer.toString(),
                Labels.GC_REF_SNAPSHOT + "overlayfs", "sha256:chain"));
        Digest index = Fixture.commit(content, "index", Map.of(Labels.GC_ROOT, "true",
                Labels.GC_REF_CONTENT + ".m.0", manifest.toString()));
        Digest unrelated = Fixture.commit(content, "unrelated", Map.of(Labels.GC_REF_CONTENT + "s", layer.toString()));

        fixture.store.collectGarbage();
        for (Digest kept : List.of(layer, config, manifest, index)) {
            assertTrue(Fixture.exists(content, kept), kept.toString());
        }
        assertFalse(Fixture.exists(content, unrelated));

        // cutting the root's edge frees the whole chain below it
        content.update(content.info(index).withLabels(Map.of(Labels.GC_ROOT, "true")), List.of());
        fixture.store.collectGarbage();
        assertTrue(Fixture.exists(content, index));
        for (Digest freed : List.of(layer, config, manifest)) {
            assertFalse(Fixture.exists(content, freed), freed.toString());
            assertFalse(Fixture.exists(fixture.backend, freed), freed.toString());
        }
    }

    @Test
    void flatLeasesKeepTheirContentButNotItsReferences() {
        leases.create("ns", "flat", Map.of(Labels.GC_FLAT, "true"));
        Digest child = Fixture.commit(fixture.content("ns"), "child", Map.of());
        Digest parent = Fixture.commit(fixture.content("ns", "flat"), "parent",
                Map.of(Labels.GC_REF_CONTENT, child.toString()));
        fixture.store.collectGarbage();
        assertTrue(Fixture.exists(fixture.content("ns"), parent));
        assertFalse(Fixture.exists(fixture.content("ns"), child));
    }

    @Test
    void ingestsExpireUnlessLeased() {
        ContentStore content = fixture.content("ns");
        try (ContentWriter writer = content.writer("loose", 0, Optional.empty())) {
            writer.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        }
        leases.create("ns", "l", Map.of());
        try (ContentWriter writer = fixture.content("ns", "l").writer("held", 0, Optional.empty())) {
            writer.write(ByteBuffer.wrap(new byte[] {4}));
        }
        assertEquals(List.of(new Resource("held", "ingests")), leases.listResources("ns", "l"));

        fixture.store.collectGarbage();
        assertEquals(3, content.status("loose").offset());

        fixture.clock.advance(NamespacedContent.INGEST_EXPIRY.plusSeconds(1));
        fixture.store.collectGarbage();
        assertThrows(NotFoundException.class, () -> content.status("loose"));
        assertEquals(1, content.status("held").offset());
        assertEquals(1, fixture.backend.listStatuses(s -> true).size(), "the expired ingest is aborted in the backing store");
    }
}
