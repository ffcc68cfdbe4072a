package dev.berth.plugins.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.metadata.Container;
import dev.berth.plugin.metadata.ContainerStore;
import dev.berth.plugin.runtime.TypedValue;
import dev.berth.plugin.snapshots.Snapshotter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The container store on a real LMDB, and containers as collection roots over a real native snapshotter. */
class ContainersTest {
    private static final Instant EPOCH = Instant.EPOCH;
    private static final TypedValue SPEC = new TypedValue("types.containerd.io/opencontainers/runtime-spec/1/Spec",
            "{\"ociVersion\":\"1.0.2\"}".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path dir;
    Fixture fixture;
    ContainerStore containers;

    @BeforeEach
    void open() throws Exception {
        fixture = new Fixture(dir);
        containers = fixture.store.containers();
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    private static Container container(String id, String snapshotKey, Map<String, String> labels) {
        return new Container(id, labels, "docker.io/library/busybox:latest",
                new Container.Runtime("io.containerd.runc.v2",
                        Optional.of(new TypedValue("containerd.runc.v1.Options", new byte[] {10, 3, 'r', 'u', 'n'}))),
                Optional.of(SPEC), snapshotKey, snapshotKey.isEmpty() ? "" : "native",
                Map.of("ext", new TypedValue("example.Ext", new byte[] {1, 2})), EPOCH, EPOCH);
    }

    @Test
    void createdContainersComeBackWhole() {
        Container created = containers.create("a", container("c1", "c1-snapshot", Map.of("x", "1", "empty", "")));
        assertEquals(fixture.clock.instant(), created.createdAt());
        assertEquals(created.createdAt(), created.updatedAt());
        assertEquals(Map.of("x", "1"), created.labels(), "empty labels are not kept");

        Container read = containers.get("a", "c1");
        assertEquals(created, read);
        assertEquals("io.containerd.runc.v2", read.runtime().name());
        assertEquals(new TypedValue("containerd.runc.v1.Options", new byte[] {10, 3, 'r', 'u', 'n'}),
                read.runtime().options().orElseThrow());
        assertEquals(SPEC, read.spec().orElseThrow());
        assertEquals("native", read.snapshotter());
        assertEquals(Map.of("ext", new TypedValue("example.Ext", new byte[] {1, 2})), read.extensions());

        fixture.reopen();
        assertEquals(created, fixture.store.containers().get("a", "c1"), "kept across a reopen");
    }

    @Test
    void containersAreKeptPerNamespaceAndListedSortedAndFiltered() {
        containers.create("a", container("zeta", "", Map.of()));
        containers.create("a", container("alpha", "", Map.of("pick", "yes")));
        containers.create("b", container("alpha", "", Map.of()));

        assertEquals(List.of("alpha", "zeta"), containers.list("a", c -> true).stream().map(Container::id).toList());
        assertEquals(List.of("alpha"), containers.list("a", c -> c.labels().containsKey("pick")).stream()
                .map(Container::id).toList());
        assertEquals(List.of(), containers.list("c", c -> true));
        assertEquals(Map.of(), containers.get("b", "alpha").labels());
        assertThrows(NotFoundException.class, () -> containers.get("c", "alpha"));
    }

    @Test
    void createValidatesAsContainerd() {
        containers.create("a", container("c1", "", Map.of()));
        assertThrows(AlreadyExistsException.class, () -> containers.create("a", container("c1", "", Map.of())));
        assertThrows(InvalidArgumentException.class, () -> containers.create("a", container("bad id", "", Map.of())));
        assertThrows(InvalidArgumentException.class, () -> containers.create("a", container("", "", Map.of())));
        assertThrows(InvalidArgumentException.class, () -> containers.create("bad ns", container("c2", "", Map.of())));
        assertThrows(InvalidArgumentException.class, () -> containers.create("a",
                container("c2", "", Map.of("big", "x".repeat(5000)))));
        Container noRuntime = new Container("c2", Map.of(), "", new Container.Runtime("", Optional.empty()),
                Optional.of(SPEC), "", "", Map.of(), EPOCH, EPOCH);
        assertTrue(assertThrows(InvalidArgumentException.class, () -> containers.create("a", noRuntime))
                .getMessage().contains("Runtime.Name"));
        Container keyWithoutSnapshotter = new Container("c2", Map.of(), "",
                new Container.Runtime("io.containerd.runc.v2", Optional.empty()), Optional.of(SPEC), "key", "",
                Map.of(), EPOCH, EPOCH);
        assertTrue(assertThrows(InvalidArgumentException.class, () -> containers.create("a", keyWithoutSnapshotter))
                .getMessage().contains("Snapshotter must be set"));
        Container emptyExtension = new Container("c2", Map.of(), "",
                new Container.Runtime("io.containerd.runc.v2", Optional.empty()), Optional.of(SPEC), "", "",
                Map.of("", new TypedValue("t", new byte[0])), EPOCH, EPOCH);
        assertThrows(InvalidArgumentException.class, () -> containers.create("a", emptyExtension));
        assertEquals(List.of("c1"), containers.list("a", c -> true).stream().map(Container::id).toList());
    }

    @Test
    void updateChangesOnlyTheNamedFields() {
        Container created = containers.create("a", container("c1", "k1", Map.of("keep", "1", "drop", "2")));
        fixture.clock.advance(Duration.ofMinutes(1));
        TypedValue newSpec = new TypedValue(SPEC.typeUrl(), "{}".getBytes(StandardCharsets.UTF_8));
        Container changes = new Container("c1", Map.of("keep", "changed", "new", "3"), "other:image",
                new Container.Runtime("io.containerd.runc.v2", Optional.empty()), Optional.of(newSpec), "k2", "native",
                Map.of("ext2", new TypedValue("example.Ext", new byte[] {3})), EPOCH, EPOCH);

        Container updated = containers.update("a", changes, List.of("labels.new", "labels.drop", "image"));
        assertEquals(Map.of("keep", "1", "new", "3"), updated.labels());
        assertEquals("other:image", updated.image());
        assertEquals(SPEC, updated.spec().orElseThrow(), "spec not named, not changed");
        assertEquals("k1", updated.snapshotKey());
        assertEquals(created.createdAt(), updated.createdAt());
        assertEquals(fixture.clock.instant(), updated.updatedAt());
        assertEquals(created.runtime(), updated.runtime(), "runtime options are not updatable");

        Container all = containers.update("a", changes, List.of());
        assertEquals(changes.labels(), all.labels());
        assertEquals(newSpec, all.spec().orElseThrow());
        assertEquals("k2", all.snapshotKey());
        assertEquals(changes.extensions(), all.extensions());
        assertEquals(all, containers.get("a", "c1"));

        Container extension = containers.update("a", new Container("c1", Map.of(), "", changes.runtime(),
                Optional.empty(), "", "", Map.of("ext3", new TypedValue("example.Ext", new byte[] {4})), EPOCH, EPOCH),
                List.of("extensions.ext3", "extensions.ext2"));
        assertEquals(Map.of("ext3", new TypedValue("example.Ext", new byte[] {4})), extension.extensions());
    }

    @Test
    void updateRefusesUnknownPathsImmutableFieldsAndMissingContainers() {
        containers.create("a", container("c1", "k1", Map.of()));
        Container otherRuntime = new Container("c1", Map.of(), "", new Container.Runtime("io.containerd.other.v1",
                Optional.empty()), Optional.of(SPEC), "k1", "native", Map.of(), EPOCH, EPOCH);
        assertTrue(assertThrows(InvalidArgumentException.class, () -> containers.update("a", otherRuntime, List.of()))
                .getMessage().contains("Runtime.Name field is immutable"));
        Container otherSnapshotter = new Container("c1", Map.of(), "", new Container.Runtime("io.containerd.runc.v2",
                Optional.empty()), Optional.of(SPEC), "k1", "overlayfs", Map.of(), EPOCH, EPOCH);
        assertTrue(assertThrows(InvalidArgumentException.class,
                () -> containers.update("a", otherSnapshotter, List.of())).getMessage().contains("immutable"));
        for (String path : List.of("runtime", "snapshotter", "id", "createdat")) {
            assertThrows(InvalidArgumentException.class, () -> containers.update("a", otherRuntime, List.of(path)),
                    path);
        }
        assertThrows(NotFoundException.class, () -> containers.update("a", container("c2", "", Map.of()),
                List.of("labels")));
        assertEquals("io.containerd.runc.v2", containers.get("a", "c1").runtime().name());
    }

    @Test
    void deleteRemovesAndMissingContainersAreNotFound() {
        containers.create("a", container("c1", "", Map.of()));
        containers.delete("a", "c1");
        // worded as containerd's
        assertEquals("container \"c1\" in namespace \"a\": not found",
                assertThrows(NotFoundException.class, () -> containers.get("a", "c1")).getMessage());
        assertEquals("cannot delete container \"c1\" in namespace \"a\": not found",
                assertThrows(NotFoundException.class, () -> containers.delete("a", "c1")).getMessage());
    }

    @Test
    void aContainerKeepsItsSnapshotAndItsLabelledContentUntilDeleted() {
        Snapshotter snapshots = fixture.snapshots("a");
        snapshots.prepare("base-active", "", Map.of());
        snapshots.commit("base", "base-active", Map.of());
        snapshots.prepare("c1-rootfs", "base", Map.of());
        Digest config = Fixture.commit(fixture.content("a"), "config", Map.of());
        containers.create("a", container("c1", "c1-rootfs",
                Map.of("containerd.io/gc.ref.content.config", config.toString())));

        fixture.store.collectGarbage();
        assertEquals("base", snapshots.stat("c1-rootfs").parent(), "the container holds its snapshot and its parent");
        assertTrue(Fixture.exists(fixture.content("a"), config), "and what its labels reference");
        assertEquals(2, Fixture.backendNames(fixture.nativeBackend).size());

        containers.delete("a", "c1");
        fixture.store.collectGarbage();
        assertThrows(NotFoundException.class, () -> snapshots.stat("c1-rootfs"));
        assertThrows(NotFoundException.class, () -> snapshots.stat("base"));
        assertFalse(Fixture.exists(fixture.content("a"), config));
        assertEquals(0, Fixture.backendNames(fixture.nativeBackend).size(), "removed from the backend too");
    }

    @Test
    void aNamespaceWithContainersCannotBeDeleted() {
        containers.create("a", container("c1", "", Map.of()));
        FailedPreconditionException refused = assertThrows(FailedPreconditionException.class,
                () -> fixture.store.namespaces().delete("a"));
        assertTrue(refused.getMessage().contains("containers"), refused.getMessage());
        containers.delete("a", "c1");
        fixture.store.namespaces().delete("a");
        assertFalse(fixture.store.namespaces().list().contains("a"));
    }
}
