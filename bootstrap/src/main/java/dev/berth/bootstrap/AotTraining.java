package dev.berth.bootstrap;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The training run behind the AOT cache ({@code --aot-training}, used by the build): starts the daemon on
 * a temporary root and state, calls what a client calls first over the real socket, and stops. The JVM
 * records the classes this loads and links, and the methods it profiles, so the daemon's start and first
 * answer need not repeat that work.
 */
final class AotTraining {
    /** Calls a client such as {@code ctr version} makes first; each takes an empty request. */
    private static final Set<String> CALLS = Set.of(
            "containerd.services.version.v1.Version/Version",
            "containerd.services.introspection.v1.Introspection/Plugins",
            "containerd.services.introspection.v1.Introspection/Server",
            "grpc.health.v1.Health/Check");
    private static final int ROUNDS = 20;

    private AotTraining() {}

    static int run(BuildInfo build, Host host) throws Daemon.StartupException {
        Path dir = temporaryDirectory();
        try {
            Settings settings = Settings.load(Optional.empty(),
                    Map.of("root", dir.resolve("root").toString(), "state", dir.resolve("state").toString()),
                    host, AotTraining.class.getClassLoader());
            Logging.level(settings.daemon().logLevel());
            try (Daemon daemon = Daemon.start(settings, build, GrpcServer.Transport.prepare())) {
                call(daemon.server());
            }
            return Berthd.OK;
        } finally {
            delete(dir);
        }
    }

    private static void call(GrpcServer server) {
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(server.socket().toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(loop)
                .usePlaintext()
                .build();
        try {
            for (int round = 0; round < ROUNDS; round++) {
                for (ServerServiceDefinition service : server.services()) {
                    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
                        if (CALLS.contains(method.getMethodDescriptor().getFullMethodName())) {
                            call(channel, method.getMethodDescriptor());
                        }
                    }
                }
            }
        } finally {
            channel.shutdownNow();
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** The server's own descriptor serves as the client's: its protobuf marshallers work both ways. */
    private static <Q, R> void call(ManagedChannel channel, MethodDescriptor<Q, R> method) {
        if (method.getType() == MethodDescriptor.MethodType.UNARY
                && method.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<Q> marshaller) {
            ClientCalls.blockingUnaryCall(channel, method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                    marshaller.getMessagePrototype());
        }
    }

    private static Path temporaryDirectory() {
        try {
            return Files.createTempDirectory("berthd-aot");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
