package dev.berth.plugins.grpc.images;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Empty;
import dev.berth.api.Calls;
import dev.berth.api.Errors;
import dev.berth.api.Headers;
import dev.berth.api.NonBlockingService;
import dev.berth.api.Timestamps;
import dev.berth.api.filters.Adaptor;
import dev.berth.api.filters.Filter;
import dev.berth.api.services.snapshots.v1.CleanupRequest;
import dev.berth.api.services.snapshots.v1.CommitSnapshotRequest;
import dev.berth.api.services.snapshots.v1.Info;
import dev.berth.api.services.snapshots.v1.ListSnapshotsRequest;
import dev.berth.api.services.snapshots.v1.ListSnapshotsResponse;
import dev.berth.api.services.snapshots.v1.MountsRequest;
import dev.berth.api.services.snapshots.v1.MountsResponse;
import dev.berth.api.services.snapshots.v1.PrepareSnapshotRequest;
import dev.berth.api.services.snapshots.v1.PrepareSnapshotResponse;
import dev.berth.api.services.snapshots.v1.RemoveSnapshotRequest;
import dev.berth.api.services.snapshots.v1.SnapshotsGrpc;
import dev.berth.api.services.snapshots.v1.StatSnapshotRequest;
import dev.berth.api.services.snapshots.v1.StatSnapshotResponse;
import dev.berth.api.services.snapshots.v1.UpdateSnapshotRequest;
import dev.berth.api.services.snapshots.v1.UpdateSnapshotResponse;
import dev.berth.api.services.snapshots.v1.UsageRequest;
import dev.berth.api.services.snapshots.v1.UsageResponse;
import dev.berth.api.services.snapshots.v1.ViewSnapshotRequest;
import dev.berth.api.services.snapshots.v1.ViewSnapshotResponse;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Publisher;
import dev.berth.plugin.metadata.MetadataStore;
import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.snapshots.Cleaner;
import dev.berth.plugin.snapshots.Kind;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugin.snapshots.Snapshotter;
import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * {@code containerd.services.snapshots.v1.Snapshots} over the metadata store's namespaced
 * snapshotters: each request names its snapshotter, the {@code containerd-namespace} header its
 * namespace, and the {@code containerd-lease} header, when sent, the lease new snapshots join.
 * Prepare, commit and remove are published as containerd publishes them.
 *
 * <p>Stat and Mounts start on the transport's thread. A snapshotter whose reads never wait (see
 * {@link Snapshotter#nonBlockingReads}) answers them there; the others' are handed to a thread of
 * their own.
 */
final class SnapshotsService implements SnapshotsGrpc.AsyncService, BindableService, NonBlockingService {
    /** Infos per {@code List} response, as containerd batches them. */
    static final int LIST_BATCH = 100;
    private static final Set<String> NON_BLOCKING = Set.of(
            SnapshotsGrpc.getStatMethod().getFullMethodName(),
            SnapshotsGrpc.getMountsMethod().getFullMethodName());
    /** Runs the reads of snapshotters that may block. */
    private static final Executor BLOCKING_READS = task -> Thread.ofVirtual().name("snapshot-read").start(task);

    private final MetadataStore metadata;
    private final Publisher publisher;

    SnapshotsService(MetadataStore metadata, Publisher publisher) {
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.publisher = requireNonNull(publisher, "publisher is null");
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerInterceptors.intercept(SnapshotsGrpc.bindService(this), Headers.INSTANCE);
    }

    @Override
    public Set<String> nonBlockingMethods() {
        return NON_BLOCKING;
    }

    @Override
    public void prepare(PrepareSnapshotRequest request, StreamObserver<PrepareSnapshotResponse> observer) {
        Calls.reply(observer, () -> {
            List<Mount> mounts = snapshotter(request.getSnapshotter())
                    .prepare(request.getKey(), request.getParent(), request.getLabelsMap());
            publisher.publish(Headers.namespace(), EventTypes.SNAPSHOT_PREPARE,
                    new Event.SnapshotPrepare(request.getKey(), request.getParent()));
            return PrepareSnapshotResponse.newBuilder().addAllMounts(Protos.toProto(mounts)).build();
        });
    }

    @Override
    public void view(ViewSnapshotRequest request, StreamObserver<ViewSnapshotResponse> observer) {
        // containerd publishes no event for a view
        Calls.reply(observer, () -> ViewSnapshotResponse.newBuilder().addAllMounts(Protos.toProto(
                snapshotter(request.getSnapshotter())
                        .view(request.getKey(), request.getParent(), request.getLabelsMap()))).build());
    }

    @Override
    public void mounts(MountsRequest request, StreamObserver<MountsResponse> observer) {
        read(observer, request.getSnapshotter(), snapshotter -> MountsResponse.newBuilder()
                .addAllMounts(Protos.toProto(snapshotter.mounts(request.getKey()))).build());
    }

    @Override
    public void commit(CommitSnapshotRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            snapshotter(request.getSnapshotter())
                    .commit(request.getName(), request.getKey(), request.getLabelsMap());
            publisher.publish(Headers.namespace(), EventTypes.SNAPSHOT_COMMIT,
                    new Event.SnapshotCommit(request.getKey(), request.getName()));
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void remove(RemoveSnapshotRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            snapshotter(request.getSnapshotter()).remove(request.getKey());
            publisher.publish(Headers.namespace(), EventTypes.SNAPSHOT_REMOVE, new Event.SnapshotRemove(request.getKey()));
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void stat(StatSnapshotRequest request, StreamObserver<StatSnapshotResponse> observer) {
        read(observer, request.getSnapshotter(), snapshotter -> StatSnapshotResponse.newBuilder()
                .setInfo(toProto(snapshotter.stat(request.getKey())))
                .build());
    }

    /**
     * Answers a read of snapshotter {@code name} on this thread if its reads never wait, and
     * otherwise on a thread of its own.
     */
    private <T> void read(StreamObserver<T> observer, String name, Function<Snapshotter, T> read) {
        Snapshotter snapshotter;
        try {
            snapshotter = snapshotter(name);
        } catch (RuntimeException e) {
            observer.onError(Errors.toStatus(e));
            return;
        }
        if (snapshotter.nonBlockingReads()) {
            Calls.reply(observer, () -> read.apply(snapshotter));
        } else {
            BLOCKING_READS.execute(() -> Calls.reply(observer, () -> read.apply(snapshotter)));
        }
    }

    @Override
    public void update(UpdateSnapshotRequest request, StreamObserver<UpdateSnapshotResponse> observer) {
        Calls.reply(observer, () -> {
            Info info = request.getInfo();
            // only the name and the labels are read: the rest is immutable and ignored, as in containerd
            SnapshotInfo wanted = new SnapshotInfo(kind(info.getKind()), info.getName(), info.getParent(),
                    info.getLabelsMap(), Instant.EPOCH, Instant.EPOCH);
            SnapshotInfo updated = snapshotter(request.getSnapshotter())
                    .update(wanted, request.getUpdateMask().getPathsList());
            return UpdateSnapshotResponse.newBuilder().setInfo(toProto(updated)).build();
        });
    }

    /**
     * Streams the snapshots that match any of the filters ({@code kind}, {@code name},
     * {@code parent}, {@code labels.<key>}, as containerd's snapshot adaptor), {@value #LIST_BATCH}
     * to a message.
     */
    @Override
    public void list(ListSnapshotsRequest request, StreamObserver<ListSnapshotsResponse> observer) {
        try {
            Filter filter = Filter.parseAll(request.getFiltersList());
            Snapshotter snapshotter = snapshotter(request.getSnapshotter());
            List<Info> batch = new ArrayList<>(LIST_BATCH);
            snapshotter.walk(info -> filter.matches(adaptor(info)), info -> {
                batch.add(toProto(info));
                if (batch.size() == LIST_BATCH) {
                    observer.onNext(ListSnapshotsResponse.newBuilder().addAllInfo(batch).build());
                    batch.clear();
                }
            });
            if (!batch.isEmpty()) {
                observer.onNext(ListSnapshotsResponse.newBuilder().addAllInfo(batch).build());
            }
        } catch (RuntimeException e) {
            observer.onError(Errors.toStatus(e));
            return;
        }
        observer.onCompleted();
    }

    @Override
    public void usage(UsageRequest request, StreamObserver<UsageResponse> observer) {
        Calls.reply(observer, () -> {
            var usage = snapshotter(request.getSnapshotter()).usage(request.getKey());
            return UsageResponse.newBuilder().setSize(usage.size()).setInodes(usage.inodes()).build();
        });
    }

    /** As containerd: only a snapshotter that is a {@link Cleaner} as the namespace sees it can be asked to clean up. */
    @Override
    public void cleanup(CleanupRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            if (!(snapshotter(request.getSnapshotter()) instanceof Cleaner cleaner)) {
                throw BerthException.of(BerthException.Kind.UNIMPLEMENTED,
                        "snapshotter does not implement Cleanup method");
            }
            cleaner.cleanup();
            return Empty.getDefaultInstance();
        });
    }

    /**
     * The snapshotter a request names, as the call's namespace sees it. As in containerd, the name
     * is checked before the namespace, with containerd's wording.
     */
    private Snapshotter snapshotter(String name) {
        if (name.isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "snapshotter argument missing");
        }
        if (!metadata.snapshotters().contains(name)) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "snapshotter not loaded: " + name);
        }
        return metadata.snapshotter(Headers.namespace(), name, Headers.lease());
    }

    static Info toProto(SnapshotInfo info) {
        return Info.newBuilder()
                .setName(info.name())
                .setParent(info.parent())
                .setKind(switch (info.kind()) {
                    case VIEW -> dev.berth.api.services.snapshots.v1.Kind.VIEW;
                    case ACTIVE -> dev.berth.api.services.snapshots.v1.Kind.ACTIVE;
                    case COMMITTED -> dev.berth.api.services.snapshots.v1.Kind.COMMITTED;
                })
                .setCreatedAt(Timestamps.timestamp(info.created()))
                .setUpdatedAt(Timestamps.timestamp(info.updated()))
                .putAllLabels(info.labels())
                .build();
    }

    /** As containerd's {@code toKind}: anything but active or view reads as committed. */
    private static Kind kind(dev.berth.api.services.snapshots.v1.Kind kind) {
        return switch (kind) {
            case ACTIVE -> Kind.ACTIVE;
            case VIEW -> Kind.VIEW;
            default -> Kind.COMMITTED;
        };
    }

    /** containerd's snapshot fields for filters; name and parent are present even when empty, as there. */
    private static Adaptor adaptor(SnapshotInfo info) {
        return path -> switch (path.getFirst()) {
            case "kind" -> Optional.of(info.kind().name().toLowerCase(Locale.ROOT));
            case "name" -> Optional.of(info.name());
            case "parent" -> Optional.of(info.parent());
            case "labels" -> Protos.labels(info.labels(), path.subList(1, path.size()));
            default -> Optional.empty();
        };
    }
}
