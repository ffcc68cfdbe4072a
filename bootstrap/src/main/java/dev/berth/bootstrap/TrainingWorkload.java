package dev.berth.bootstrap;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.berth.api.services.containers.v1.Container;
import dev.berth.api.services.containers.v1.ContainersGrpc;
import dev.berth.api.services.containers.v1.CreateContainerRequest;
import dev.berth.api.services.containers.v1.DeleteContainerRequest;
import dev.berth.api.services.containers.v1.GetContainerRequest;
import dev.berth.api.services.content.v1.ContentGrpc;
import dev.berth.api.services.content.v1.InfoRequest;
import dev.berth.api.services.content.v1.ReadContentRequest;
import dev.berth.api.services.content.v1.WriteAction;
import dev.berth.api.services.content.v1.WriteContentRequest;
import dev.berth.api.services.content.v1.WriteContentResponse;
import dev.berth.api.services.diff.v1.ApplyRequest;
import dev.berth.api.services.diff.v1.DiffGrpc;
import dev.berth.api.services.diff.v1.DiffRequest;
import dev.berth.api.services.images.v1.CreateImageRequest;
import dev.berth.api.services.images.v1.GetImageRequest;
import dev.berth.api.services.images.v1.Image;
import dev.berth.api.services.images.v1.ImagesGrpc;
import dev.berth.api.services.introspection.v1.IntrospectionGrpc;
import dev.berth.api.services.introspection.v1.PluginsRequest;
import dev.berth.api.services.leases.v1.CreateRequest;
import dev.berth.api.services.leases.v1.DeleteRequest;
import dev.berth.api.services.leases.v1.LeasesGrpc;
import dev.berth.api.services.namespaces.v1.GetNamespaceRequest;
import dev.berth.api.services.namespaces.v1.NamespacesGrpc;
import dev.berth.api.services.snapshots.v1.CommitSnapshotRequest;
import dev.berth.api.services.snapshots.v1.MountsRequest;
import dev.berth.api.services.snapshots.v1.PrepareSnapshotRequest;
import dev.berth.api.services.snapshots.v1.RemoveSnapshotRequest;
import dev.berth.api.services.snapshots.v1.SnapshotsGrpc;
import dev.berth.api.services.snapshots.v1.StatSnapshotRequest;
import dev.berth.api.services.snapshots.v1.ViewSnapshotRequest;
import dev.berth.api.services.tasks.v1.GetRequest;
import dev.berth.api.services.tasks.v1.TasksGrpc;
import dev.berth.api.services.version.v1.VersionGrpc;
import dev.berth.api.types.Descriptor;
import dev.berth.api.types.Mount;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The client of the AOT training run, in a JVM of its own so that the daemon's profiles are of the
 * server's side alone. It sets up an image (where the overlayfs snapshotter could start, and so mounts
 * are possible, with a layer made by the differ and unpacked), then makes the calls of the daemon's short
 * everyday commands, each command over a connection of its own as {@code ctr} opens one: version,
 * snapshots prepare, commit and rm, containers create and rm.
 *
 * <p>Each of these commands is a few short calls, and the JIT compiles their paths only after some
 * thousands of calls, which a daemon may take hours of use to make. Long transfers (content get and
 * ingest, image import and export) are left out on purpose: they warm themselves within one call, and
 * their large messages would skew the profiles that the short calls share with them (Netty's buffers
 * and HTTP/2 framing, protobuf).
 *
 * <p>{@code TrainingWorkload SOCKET ROUNDS}; exits non-zero when a call fails other than as expected.
 */
final class TrainingWorkload {
    private static final String NAMESPACE = "aot-training";
    private static final Metadata.Key<String> NAMESPACE_HEADER =
            Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> LEASE_HEADER =
            Metadata.Key.of("containerd-lease", Metadata.ASCII_STRING_MARSHALLER);
    private static final String GC_ROOT = "containerd.io/gc.root";
    private static final String GC_EXPIRE = "containerd.io/gc.expire";
    private static final String IMAGE = "training.test/busybox:latest";
    private static final String BASE = "training-base";
    private static final String SPEC_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
    private static final ByteString SPEC = ByteString.copyFromUtf8(
            "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"/bin/true\"],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"}}");

    private final Path socket;
    private final EventLoopGroup loop;
    private String snapshotter;
    private Descriptor manifest;
    private Descriptor config;

    private TrainingWorkload(Path socket, EventLoopGroup loop) {
        this.socket = socket;
        this.loop = loop;
    }

    public static void main(String[] args) {
        Path socket = Path.of(args[0]);
        int rounds = Integer.parseInt(args[1]);
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            TrainingWorkload workload = new TrainingWorkload(socket, loop);
            workload.setUp();
            for (int round = 0; round < rounds; round++) {
                workload.round(round);
            }
        } finally {
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
        System.exit(0);
    }

    /** The image that containers are created from: its blobs and its unpacked snapshot. */
    private void setUp() {
        command(channel -> {
            snapshotter = snapshotter(channel);
            Channel leased = leased(channel, "training-setup");
            var snapshots = SnapshotsGrpc.newBlockingStub(leased);
            snapshots.prepare(prepare("training-base-active", ""));
            snapshots.commit(CommitSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setName(BASE)
                    .setKey("training-base-active").putLabels(GC_ROOT, "training").build());
            Descriptor layer = snapshotter.equals("overlayfs")
                    ? unpack(channel, "setup")
                    : write(channel, "training-layer", "layer".getBytes(StandardCharsets.UTF_8),
                            "application/vnd.oci.image.layer.v1.tar+gzip");
            config = write(channel, "training-config", ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
                    + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layer.getDigest() + "\"]}}")
                    .getBytes(StandardCharsets.UTF_8), "application/vnd.oci.image.config.v1+json");
            manifest = write(channel, "training-manifest", ("{\"schemaVersion\":2,\"config\":" + json(config)
                    + ",\"layers\":[" + json(layer) + "]}").getBytes(StandardCharsets.UTF_8),
                    "application/vnd.oci.image.manifest.v1+json");
            ImagesGrpc.newBlockingStub(channel).create(CreateImageRequest.newBuilder()
                    .setImage(Image.newBuilder().setName(IMAGE).setTarget(manifest)).build());
            LeasesGrpc.newBlockingStub(channel).delete(DeleteRequest.newBuilder().setId("training-setup").build());
        });
    }

    private void round(int round) {
        String key = "training-" + round;
        command(channel -> VersionGrpc.newBlockingStub(channel).version(Empty.getDefaultInstance()));
        // ctr snapshots prepare, commit, rm: as with ctr, a collection between the commands may take the
        // snapshot, which nothing references yet
        command(channel -> SnapshotsGrpc.newBlockingStub(channel).prepare(prepare(key, "")));
        command(channel -> allowingNotFound(() -> SnapshotsGrpc.newBlockingStub(channel).commit(CommitSnapshotRequest.newBuilder()
                .setSnapshotter(snapshotter).setName(key + "-committed").setKey(key).build())));
        command(channel -> allowingNotFound(() -> SnapshotsGrpc.newBlockingStub(channel).remove(remove(key + "-committed"))));
        command(channel -> createContainer(channel, key));
        command(channel -> removeContainer(channel, key));
    }

    /** ctr containers create: the calls in ctr's order, the container and its snapshot under a lease. */
    private void createContainer(Channel channel, String id) {
        ImagesGrpc.newBlockingStub(channel).get(GetImageRequest.newBuilder().setName(IMAGE).build());
        NamespacesGrpc.newBlockingStub(channel).get(GetNamespaceRequest.newBuilder().setName(NAMESPACE).build());
        read(channel, manifest);
        read(channel, config);
        SnapshotsGrpc.newBlockingStub(channel).stat(StatSnapshotRequest.newBuilder()
                .setSnapshotter(snapshotter).setKey(BASE).build());
        Channel leased = leased(channel, id + "-lease");
        for (int i = 0; i < 2; i++) {
            read(leased, manifest);
            read(leased, config);
        }
        NamespacesGrpc.newBlockingStub(leased).get(GetNamespaceRequest.newBuilder().setName(NAMESPACE).build());
        SnapshotsGrpc.newBlockingStub(leased).prepare(prepare(id, BASE));
        for (int i = 0; i < 2; i++) {
            read(leased, manifest);
            read(leased, config);
        }
        SnapshotsGrpc.newBlockingStub(leased).mounts(MountsRequest.newBuilder().setSnapshotter(snapshotter).setKey(id).build());
        ContainersGrpc.newBlockingStub(leased).create(CreateContainerRequest.newBuilder().setContainer(Container.newBuilder()
                .setId(id)
                .setImage(IMAGE)
                .setRuntime(Container.Runtime.newBuilder().setName("io.containerd.runc.v2"))
                .setSpec(Any.newBuilder().setTypeUrl(SPEC_TYPE).setValue(SPEC))
                .setSnapshotter(snapshotter)
                .setSnapshotKey(id))
                .build());
        LeasesGrpc.newBlockingStub(channel).delete(DeleteRequest.newBuilder().setId(id + "-lease").build());
    }

    /** ctr containers rm: the task looked for (there is none), the snapshot removed before the container. */
    private void removeContainer(Channel channel, String id) {
        var containers = ContainersGrpc.newBlockingStub(channel);
        containers.get(GetContainerRequest.newBuilder().setId(id).build());
        for (int i = 0; i < 2; i++) {
            allowingNotFound(() -> {
                TasksGrpc.newBlockingStub(channel).get(GetRequest.newBuilder().setContainerId(id).build());
                throw new IllegalStateException("training: container " + id + " has a task it never started");
            });
        }
        containers.get(GetContainerRequest.newBuilder().setId(id).build());
        SnapshotsGrpc.newBlockingStub(channel).remove(remove(id));
        containers.delete(DeleteContainerRequest.newBuilder().setId(id).build());
    }

    /**
     * A layer made by the differ from files written into an active snapshot, then applied onto another and
     * committed, as ctr's snapshot diff and image unpack do; returns the layer.
     */
    private Descriptor unpack(Channel channel, String key) {
        Channel leased = leased(channel, key + "-unpack");
        var snapshots = SnapshotsGrpc.newBlockingStub(leased);
        List<Mount> upper = snapshots.prepare(prepare(key + "-upper", "")).getMountsList();
        writeTree(Path.of(upper.getFirst().getSource()));
        List<Mount> lower = snapshots.view(ViewSnapshotRequest.newBuilder().setSnapshotter(snapshotter)
                .setKey(key + "-lower").build()).getMountsList();
        Descriptor diff = DiffGrpc.newBlockingStub(leased).diff(DiffRequest.newBuilder()
                .addAllLeft(lower).addAllRight(upper).build()).getDiff();
        List<Mount> target = snapshots.prepare(prepare(key + "-unpacked", "")).getMountsList();
        DiffGrpc.newBlockingStub(leased).apply(ApplyRequest.newBuilder().setDiff(diff).addAllMounts(target).build());
        snapshots.commit(CommitSnapshotRequest.newBuilder().setSnapshotter(snapshotter)
                .setName(key + "-layer").setKey(key + "-unpacked").build());
        for (String done : List.of(key + "-layer", key + "-upper", key + "-lower")) {
            snapshots.remove(remove(done));
        }
        return diff;
    }

    /** Many small files in a few directories, a larger one, a symlink and a hard link. */
    private static void writeTree(Path root) {
        try {
            for (int dir = 0; dir < 8; dir++) {
                Path directory = Files.createDirectories(root.resolve("dir" + dir));
                for (int file = 0; file < 40; file++) {
                    Files.writeString(directory.resolve("file" + file), ("training " + dir + "/" + file + "\n").repeat(file + 1));
                }
            }
            Files.write(root.resolve("large"), new byte[1 << 20]);
            Files.createSymbolicLink(root.resolve("link"), Path.of("dir0/file0"));
            Files.createLink(root.resolve("hardlink"), root.resolve("dir1/file1"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a call whose object may be missing (collected, as a snapshot, or never made, as a task); other failures go on. */
    private static void allowingNotFound(Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
                throw e;
            }
        }
    }

    /** overlayfs, as ctr's default, where it could start (it needs root and the kernel's overlay); else native. */
    private static String snapshotter(Channel channel) {
        boolean overlay = IntrospectionGrpc.newBlockingStub(channel)
                .plugins(PluginsRequest.newBuilder().addFilters("type==io.containerd.snapshotter.v1,id==overlayfs").build())
                .getPluginsList().stream()
                .anyMatch(plugin -> !plugin.hasInitErr());
        return overlay ? "overlayfs" : "native";
    }

    /** One ctr command: a connection of its own, in the training namespace. */
    private void command(Consumer<Channel> calls) {
        ManagedChannel connection = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(loop)
                .usePlaintext()
                .build();
        try {
            Metadata headers = new Metadata();
            headers.put(NAMESPACE_HEADER, NAMESPACE);
            calls.accept(ClientInterceptors.intercept(connection, MetadataUtils.newAttachHeadersInterceptor(headers)));
        } finally {
            connection.shutdownNow();
        }
    }

    /** A new lease of a day, as ctr takes, and the channel whose calls hold their resources with it. */
    private static Channel leased(Channel channel, String id) {
        LeasesGrpc.newBlockingStub(channel).create(CreateRequest.newBuilder().setId(id)
                .putLabels(GC_EXPIRE, Instant.now().plus(Duration.ofDays(1)).toString()).build());
        Metadata header = new Metadata();
        header.put(LEASE_HEADER, id);
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(header));
    }

    private PrepareSnapshotRequest prepare(String key, String parent) {
        return PrepareSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).setParent(parent).build();
    }

    private RemoveSnapshotRequest remove(String key) {
        return RemoveSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build();
    }

    private static void read(Channel channel, Descriptor blob) {
        var content = ContentGrpc.newBlockingStub(channel);
        content.info(InfoRequest.newBuilder().setDigest(blob.getDigest()).build());
        content.read(ReadContentRequest.newBuilder().setDigest(blob.getDigest()).build()).forEachRemaining(chunk -> { });
    }

    /** A blob written as ctr writes one (STAT, WRITE, COMMIT at the offset reached), kept as a GC root. */
    private static Descriptor write(Channel channel, String ref, byte[] data, String mediaType) {
        String digest = "sha256:" + sha256(data);
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<WriteContentRequest> requests = ContentGrpc.newStub(channel).write(new StreamObserver<>() {
            @Override
            public void onNext(WriteContentResponse response) {}

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.complete(null);
            }
        });
        requests.onNext(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref).build());
        requests.onNext(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE).setRef(ref)
                .setTotal(data.length).setData(ByteString.copyFrom(data)).build());
        requests.onNext(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setRef(ref)
                .setOffset(data.length).setTotal(data.length).setExpected(digest).putLabels(GC_ROOT, "training").build());
        requests.onCompleted();
        try {
            done.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : new IllegalStateException(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException("training: content write of " + ref + " did not finish", e);
        }
        return Descriptor.newBuilder().setMediaType(mediaType).setDigest(digest).setSize(data.length).build();
    }

    private static String json(Descriptor descriptor) {
        return "{\"mediaType\":\"" + descriptor.getMediaType() + "\",\"digest\":\"" + descriptor.getDigest()
                + "\",\"size\":" + descriptor.getSize() + "}";
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
