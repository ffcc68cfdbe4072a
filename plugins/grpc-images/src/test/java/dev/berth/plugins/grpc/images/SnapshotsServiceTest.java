package dev.berth.plugins.grpc.images;

import static dev.berth.plugins.grpc.images.Fixture.all;
import static dev.berth.plugins.grpc.images.Fixture.in;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.FieldMask;
import dev.berth.api.services.snapshots.v1.CleanupRequest;
import dev.berth.api.services.snapshots.v1.CommitSnapshotRequest;
import dev.berth.api.services.snapshots.v1.Info;
import dev.berth.api.services.snapshots.v1.Kind;
import dev.berth.api.services.snapshots.v1.ListSnapshotsRequest;
import dev.berth.api.services.snapshots.v1.ListSnapshotsResponse;
import dev.berth.api.services.snapshots.v1.MountsRequest;
import dev.berth.api.services.snapshots.v1.PrepareSnapshotRequest;
import dev.berth.api.services.snapshots.v1.RemoveSnapshotRequest;
import dev.berth.api.services.snapshots.v1.SnapshotsGrpc;
import dev.berth.api.services.snapshots.v1.StatSnapshotRequest;
import dev.berth.api.services.snapshots.v1.UpdateSnapshotRequest;
import dev.berth.api.services.snapshots.v1.UsageRequest;
import dev.berth.api.services.snapshots.v1.UsageResponse;
import dev.berth.api.services.snapshots.v1.ViewSnapshotRequest;
import dev.berth.api.types.Mount;
import dev.berth.plugin.events.Envelope;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Subscription;
import dev.berth.plugin.metadata.Resource;
import dev.berth.plugin.snapshots.Cleaner;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugins.snapshots.copy.NativeSnapshotter;
import dev.berth.tck.snapshots.ForwardingSnapshotter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotsServiceTest {
    private static final String NS = "testing";

    @TempDir
    Path dir;
    private Fixture fixture;
    private SnapshotsGrpc.SnapshotsBlockingStub snapshots;

    @BeforeEach
    void start() throws Exception {
        fixture = new Fixture(dir);
        snapshots = in(SnapshotsGrpc.newBlockingStub(fixture.channel), NS);
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    @Test
    void preparesCommitsViewsAndRefusesToRemoveAParentWithChildren() throws Exception {
        try (Subscription events = fixture.exchange.subscribe(e -> e.topic().startsWith("/snapshot/"))) {
            List<Mount> mounts = prepare("work", "", Map.of("stage", "one"));
            Files.writeString(directory(mounts).resolve("hello.txt"), "hello");
            assertEquals(mounts, snapshots.mounts(MountsRequest.newBuilder().setSnapshotter("native").setKey("work")
                    .build()).getMountsList());
            snapshots.commit(CommitSnapshotRequest.newBuilder().setSnapshotter("native").setKey("work").setName("base")
                    .putLabels("layer", "base").build());

            Info base = stat("base");
            assertEquals(Kind.COMMITTED, base.getKind());
            assertEquals("", base.getParent());
            assertEquals(Map.of("layer", "base"), base.getLabelsMap());
            assertTrue(base.getCreatedAt().getSeconds() > 0);
            assertStatus(Status.Code.NOT_FOUND, () -> stat("work"));

            List<Mount> view = snapshots.view(ViewSnapshotRequest.newBuilder().setSnapshotter("native").setKey("look")
                    .setParent("base").build()).getMountsList();
            assertTrue(view.getFirst().getOptionsList().contains("ro"), view.toString());
            assertEquals("hello", Files.readString(directory(view).resolve("hello.txt")));
            assertEquals(Kind.VIEW, stat("look").getKind());
            assertEquals("base", stat("look").getParent());

            List<Mount> child = prepare("child", "base", Map.of());
            assertEquals("hello", Files.readString(directory(child).resolve("hello.txt")));
            assertStatus(Status.Code.FAILED_PRECONDITION, () -> remove("base"));
            assertStatus(Status.Code.FAILED_PRECONDITION, () -> snapshots.commit(CommitSnapshotRequest.newBuilder()
                    .setSnapshotter("native").setKey("look").setName("never").build()));
            assertStatus(Status.Code.ALREADY_EXISTS, () -> prepare("child", "", Map.of()));
            assertStatus(Status.Code.NOT_FOUND, () -> prepare("orphan", "missing", Map.of()));

            remove("child");
            remove("look");
            remove("base");
            assertEquals(List.of(), list());

            assertEquals(new Event.SnapshotPrepare("work", ""), next(events, EventTypes.SNAPSHOT_PREPARE));
            assertEquals(new Event.SnapshotCommit("work", "base"), next(events, EventTypes.SNAPSHOT_COMMIT));
            assertEquals(new Event.SnapshotPrepare("child", "base"), next(events, EventTypes.SNAPSHOT_PREPARE));
            assertEquals(new Event.SnapshotRemove("child"), next(events, EventTypes.SNAPSHOT_REMOVE));
            assertEquals(new Event.SnapshotRemove("look"), next(events, EventTypes.SNAPSHOT_REMOVE));
            assertEquals(new Event.SnapshotRemove("base"), next(events, EventTypes.SNAPSHOT_REMOVE));
            assertEquals(Optional.empty(), events.poll(Duration.ofMillis(50)));
        }
    }

    @Test
    void declaresStatAndMountsNonBlocking() {
        SnapshotsService service = new SnapshotsService(fixture.metadata, fixture.exchange);
        assertEquals(Set.of("containerd.services.snapshots.v1.Snapshots/Stat",
                "containerd.services.snapshots.v1.Snapshots/Mounts"), service.nonBlockingMethods());
    }

    @Test
    void answersReadsOnTheCallsThreadOnlyForSnapshottersWhoseReadsNeverWait() throws Exception {
        try (Recording declared = new Recording(NativeSnapshotter.open(dir.resolve("declared"), Clock.systemUTC()), true);
                Recording undeclared = new Recording(NativeSnapshotter.open(dir.resolve("undeclared"), Clock.systemUTC()), false);
                Fixture vendors = new Fixture(dir.resolve("vendors"), Map.of("declared", declared, "undeclared", undeclared))) {
            var stub = in(SnapshotsGrpc.newBlockingStub(vendors.channel), NS);
            for (String name : List.of("declared", "undeclared")) {
                stub.prepare(PrepareSnapshotRequest.newBuilder().setSnapshotter(name).setKey("k").build());
                assertEquals(Kind.ACTIVE, stub.stat(StatSnapshotRequest.newBuilder().setSnapshotter(name).setKey("k")
                        .build()).getInfo().getKind());
                assertEquals(1, stub.mounts(MountsRequest.newBuilder().setSnapshotter(name).setKey("k").build())
                        .getMountsCount());
                assertStatus(Status.Code.NOT_FOUND, () -> stub.stat(StatSnapshotRequest.newBuilder()
                        .setSnapshotter(name).setKey("missing").build()));
            }
            // the metadata answers for a missing key before the backend is asked
            assertEquals(List.of("stat", "mounts"), declared.reads.stream().map(Read::method).toList());
            assertEquals(List.of("stat", "mounts"), undeclared.reads.stream().map(Read::method).toList());
            declared.reads.forEach(read -> assertFalse(read.thread().startsWith("snapshot-read"), read.toString()));
            undeclared.reads.forEach(read -> assertEquals("snapshot-read", read.thread(), read.toString()));
        }
    }

    @Test
    void listsWithContainerdFiltersInBatches() {
        prepare("a", "", Map.of("team", "x"));
        commit("a", "layer-a");
        prepare("b", "layer-a", Map.of("team", "y"));
        snapshots.view(ViewSnapshotRequest.newBuilder().setSnapshotter("native").setKey("v").setParent("layer-a")
                .putLabels("team", "x").build());

        assertEquals(Set.of("layer-a", "b", "v"), names(list()));
        assertEquals(Set.of("layer-a"), names(list("kind==committed")));
        assertEquals(Set.of("b"), names(list("kind==active")));
        assertEquals(Set.of("b", "v"), names(list("parent==layer-a")));
        // a commit without labels drops those of the active snapshot, as in containerd
        assertEquals(Set.of("v"), names(list("labels.team==x")));
        assertEquals(Set.of("b", "v"), names(list("labels.team")));
        // any of several filters; both terms of one
        assertEquals(Set.of("b", "v"), names(list("kind==view", "labels.team==y")));
        assertEquals(Set.of("v"), names(list("kind==view,labels.team==x")));
        assertEquals(Set.of("layer-a"), names(list("name~=layer")));
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> list("==x"));

        for (int i = 0; i < SnapshotsService.LIST_BATCH + 20; i++) {
            prepare("many-" + i, "layer-a", Map.of());
        }
        List<ListSnapshotsResponse> responses = all(snapshots.list(ListSnapshotsRequest.newBuilder()
                .setSnapshotter("native").addFilters("name~=^many-").build()));
        assertEquals(List.of(SnapshotsService.LIST_BATCH, 20), responses.stream().map(ListSnapshotsResponse::getInfoCount).toList());
    }

    @Test
    void updatesLabelsByFieldMask() {
        prepare("k", "", Map.of("a", "1", "b", "2"));
        Info change = Info.newBuilder().setName("k").putLabels("a", "10").putLabels("c", "3").build();

        Info one = snapshots.update(UpdateSnapshotRequest.newBuilder().setSnapshotter("native").setInfo(change)
                .setUpdateMask(FieldMask.newBuilder().addPaths("labels.a").addPaths("labels.b")).build()).getInfo();
        assertEquals(Map.of("a", "10"), one.getLabelsMap());
        assertEquals(Kind.ACTIVE, one.getKind());

        Info all = snapshots.update(UpdateSnapshotRequest.newBuilder().setSnapshotter("native").setInfo(change)
                .build()).getInfo();
        assertEquals(Map.of("a", "10", "c", "3"), all.getLabelsMap());
        assertEquals(all.getLabelsMap(), stat("k").getLabelsMap());

        assertStatus(Status.Code.INVALID_ARGUMENT, () -> snapshots.update(UpdateSnapshotRequest.newBuilder()
                .setSnapshotter("native").setInfo(change).setUpdateMask(FieldMask.newBuilder().addPaths("parent"))
                .build()));
        assertStatus(Status.Code.NOT_FOUND, () -> snapshots.update(UpdateSnapshotRequest.newBuilder()
                .setSnapshotter("native").setInfo(Info.newBuilder().setName("missing")).build()));
    }

    @Test
    void reportsUsageOfActiveAndCommittedSnapshots() throws Exception {
        List<Mount> mounts = prepare("u", "", Map.of());
        Files.write(directory(mounts).resolve("data"), new byte[64 * 1024]);
        UsageResponse active = usage("u");
        assertTrue(active.getSize() >= 64 * 1024, active.toString());
        assertTrue(active.getInodes() >= 2, active.toString());

        commit("u", "u-done");
        UsageResponse committed = usage("u-done");
        assertTrue(committed.getSize() >= 64 * 1024, committed.toString());
        assertStatus(Status.Code.NOT_FOUND, () -> usage("u"));
    }

    @Test
    void answersAsContainerdWithoutSnapshotterOrNamespace() {
        StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
                () -> snapshots.stat(StatSnapshotRequest.newBuilder().setKey("k").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, missing.getStatus().getCode());
        assertEquals("snapshotter argument missing: invalid argument", missing.getStatus().getDescription());

        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                () -> snapshots.stat(StatSnapshotRequest.newBuilder().setSnapshotter("zfs").setKey("k").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, unknown.getStatus().getCode());
        assertEquals("snapshotter not loaded: zfs: invalid argument", unknown.getStatus().getDescription());

        SnapshotsGrpc.SnapshotsBlockingStub anonymous = SnapshotsGrpc.newBlockingStub(fixture.channel);
        assertStatus(Status.Code.FAILED_PRECONDITION, () -> anonymous.prepare(PrepareSnapshotRequest.newBuilder()
                .setSnapshotter("native").setKey("k").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> all(anonymous.list(ListSnapshotsRequest.newBuilder().build())));
    }

    @Test
    void cleanupAnswersAsTheNamespacedSnapshotterAllows() {
        boolean cleaner = fixture.metadata.snapshotter(NS, "native", Optional.empty()) instanceof Cleaner;
        CleanupRequest request = CleanupRequest.newBuilder().setSnapshotter("native").build();
        if (cleaner) {
            snapshots.cleanup(request);
        } else {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> snapshots.cleanup(request));
            assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
        }
    }

    @Test
    void keepsNamespacesApartAndAddsSnapshotsToTheLease() {
        fixture.metadata.leases().create(NS, "pull", Map.of());
        Fixture.leased(SnapshotsGrpc.newBlockingStub(fixture.channel), NS, "pull").prepare(PrepareSnapshotRequest
                .newBuilder().setSnapshotter("native").setKey("leased").build());
        assertEquals(List.of(new Resource("leased", "snapshots/native")),
                fixture.metadata.leases().listResources(NS, "pull"));

        SnapshotsGrpc.SnapshotsBlockingStub other = in(SnapshotsGrpc.newBlockingStub(fixture.channel), "other");
        assertStatus(Status.Code.NOT_FOUND, () -> other.stat(StatSnapshotRequest.newBuilder().setSnapshotter("native")
                .setKey("leased").build()));
        other.prepare(PrepareSnapshotRequest.newBuilder().setSnapshotter("native").setKey("leased").build());
        assertEquals(Set.of("leased"), names(list()));
    }

    private List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return snapshots.prepare(PrepareSnapshotRequest.newBuilder().setSnapshotter("native").setKey(key)
                .setParent(parent).putAllLabels(labels).build()).getMountsList();
    }

    private void commit(String key, String name) {
        snapshots.commit(CommitSnapshotRequest.newBuilder().setSnapshotter("native").setKey(key).setName(name).build());
    }

    private Info stat(String key) {
        return snapshots.stat(StatSnapshotRequest.newBuilder().setSnapshotter("native").setKey(key).build()).getInfo();
    }

    private UsageResponse usage(String key) {
        return snapshots.usage(UsageRequest.newBuilder().setSnapshotter("native").setKey(key).build());
    }

    private void remove(String key) {
        snapshots.remove(RemoveSnapshotRequest.newBuilder().setSnapshotter("native").setKey(key).build());
    }

    private List<Info> list(String... filters) {
        List<Info> infos = new ArrayList<>();
        snapshots.list(ListSnapshotsRequest.newBuilder().setSnapshotter("native").addAllFilters(List.of(filters))
                .build()).forEachRemaining(response -> infos.addAll(response.getInfoList()));
        return infos;
    }

    private static Set<String> names(List<Info> infos) {
        Set<String> names = new TreeSet<>();
        infos.forEach(info -> names.add(info.getName()));
        return names;
    }

    /** The directory a native snapshot's single bind mount shows. */
    static Path directory(List<Mount> mounts) {
        assertEquals(1, mounts.size(), mounts.toString());
        assertEquals("bind", mounts.getFirst().getType());
        return Path.of(mounts.getFirst().getSource());
    }

    private static Event next(Subscription events, String topic) throws InterruptedException {
        Envelope envelope = events.poll(Duration.ofSeconds(5)).orElseThrow(() -> new AssertionError("no " + topic));
        assertEquals(topic, envelope.topic());
        assertEquals(NS, envelope.namespace());
        return assertInstanceOf(Event.class, envelope.event());
    }

    static void assertStatus(Status.Code code, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    }

    private record Read(String method, String thread) {}

    /** A snapshotter that declares its reads non-blocking or not as told, and records where they ran. */
    private static final class Recording extends ForwardingSnapshotter {
        final List<Read> reads = new CopyOnWriteArrayList<>();
        private final Snapshotter inner;
        private final boolean nonBlocking;

        Recording(Snapshotter inner, boolean nonBlocking) {
            this.inner = inner;
            this.nonBlocking = nonBlocking;
        }

        @Override
        protected Snapshotter delegate() {
            return inner;
        }

        @Override
        public SnapshotInfo stat(String key) {
            reads.add(new Read("stat", Thread.currentThread().getName()));
            return inner.stat(key);
        }

        @Override
        public List<dev.berth.plugin.mount.Mount> mounts(String key) {
            reads.add(new Read("mounts", Thread.currentThread().getName()));
            return inner.mounts(key);
        }

        @Override
        public boolean nonBlockingReads() {
            return nonBlocking;
        }
    }
}
