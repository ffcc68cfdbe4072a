package dev.berth.bootstrap;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.MessageLite;
import dev.berth.api.GrpcServices;
import dev.berth.api.NonBlockingService;
import dev.berth.kernel.KernelListener;
import dev.berth.plugin.PluginInfo;
import io.grpc.BindableService;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.internal.ServerImplBuilder;
import dev.berth.bootstrap.h2.H2Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.util.MutableHandlerRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC server on the daemon's unix socket. Services present at start are bound directly; services of
 * plugins that start later (a hot-loaded jar) are added to a fallback registry as the kernel reports
 * them, and removed before their plugin closes.
 */
final class GrpcServer implements KernelListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GrpcServer.class);
    /** Platform threads kept for calls that may block; calls beyond them get virtual threads. */
    static final int PLATFORM_REQUEST_THREADS = 8;

    private final Path socket;
    private final Server server;
    private final ExecutorService requests;
    private final MutableHandlerRegistry registry;
    private final Set<String> builtIn;
    private final ServerInterceptor sizeLimit;
    private final Set<String> nonBlocking;
    private final Map<String, ServerServiceDefinition> added = new ConcurrentHashMap<>();

    private GrpcServer(Path socket, Server server, ExecutorService requests,
            MutableHandlerRegistry registry, ServerInterceptor sizeLimit, Set<String> nonBlocking) {
        this.socket = socket;
        this.server = server;
        this.requests = requests;
        this.registry = registry;
        this.sizeLimit = sizeLimit;
        this.nonBlocking = nonBlocking;
        this.builtIn = server.getImmutableServices().stream()
                .map(service -> service.getServiceDescriptor().getName())
                .collect(Collectors.toUnmodifiableSet());
    }

    /**
     * Claims the socket (see {@link UnixSocket#claim}), binds it with {@code services} and restricts it to
     * mode 0660.
     */
    static GrpcServer start(DaemonConfig.Grpc config, Collection<BindableService> services)
            throws IOException {
        requireNonNull(config, "config is null");
        Path socket = Path.of(config.address());
        UnixSocket.claim(socket);
        ExecutorService requests = requestThreads();
        MutableHandlerRegistry registry = new MutableHandlerRegistry();
        Set<String> nonBlocking = ConcurrentHashMap.newKeySet();
        ServerInterceptor sizeLimit = new MaxResponseSize(Math.toIntExact(config.maxSendMessageSize()));
        ServerImplBuilder builder = H2Server.builder(socket, Math.toIntExact(config.maxRecvMessageSize()));
        // calls start on the transport's thread, which looks up their method; the supplier then gives every
        // call but those of non-blocking methods to the thread that read it, which hands the connection's
        // reading on, or else to a request thread
        builder.directExecutor()
                .callExecutor(new RequestThreadCalls(H2Server.readerFirst(requests), nonBlocking))
                .fallbackHandlerRegistry(registry);
        for (BindableService service : services) {
            builder.addService(ServerInterceptors.intercept(service, sizeLimit));
            if (service instanceof NonBlockingService declared) {
                nonBlocking.addAll(declared.nonBlockingMethods());
            }
        }
        Server server;
        try {
            server = builder.build().start();
            UnixSocket.restrict(socket, config.uid(), config.gid());
        } catch (IOException | RuntimeException e) {
            requests.shutdownNow();
            Files.deleteIfExists(socket);
            throw e;
        }
        return new GrpcServer(socket, server, requests, registry, sizeLimit, nonBlocking);
    }

    Path socket() {
        return socket;
    }

    /** Every service served: the built-in ones, then those of plugins loaded later. */
    List<ServerServiceDefinition> services() {
        return Stream.concat(server.getImmutableServices().stream(), registry.getServices().stream())
                .toList();
    }

    @Override
    public void started(PluginInfo plugin, Object instance) {
        if (!plugin.type().equals(GrpcServices.TYPE.uri()) || !(instance instanceof BindableService service)) {
            return;
        }
        ServerServiceDefinition definition = ServerInterceptors.intercept(service.bindService(), sizeLimit);
        String name = definition.getServiceDescriptor().getName();
        if (builtIn.contains(name)) {
            log.warn("{} serves {}, which a built-in plugin already serves; its calls go to the built-in", plugin.uri(), name);
        }
        added.put(plugin.uri(), definition);
        registry.addService(definition);
        if (instance instanceof NonBlockingService declared && !builtIn.contains(name)) {
            nonBlocking.addAll(declared.nonBlockingMethods());
        }
        log.info("serving {} from {}", name, plugin.uri());
    }

    @Override
    public void stopping(PluginInfo plugin, Object instance) {
        ServerServiceDefinition definition = added.remove(plugin.uri());
        if (definition != null) {
            registry.removeService(definition);
            if (instance instanceof NonBlockingService declared && !builtIn.contains(definition.getServiceDescriptor().getName())) {
                nonBlocking.removeAll(declared.nonBlockingMethods());
            }
            log.info("stopped serving {} from {}", definition.getServiceDescriptor().getName(), plugin.uri());
        }
    }

    /** Stops accepting calls, lets running ones finish within {@code grace}, then removes the socket. */
    void stop(Duration grace) {
        server.shutdown();
        try {
            if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("calls still running after {} s; cancelling them", grace.toSeconds());
                server.shutdownNow();
                server.awaitTermination(1, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        requests.shutdownNow();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", socket, e.toString());
        }
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(5));
    }

    /**
     * The threads of the calls that may block. A few platform threads take them first: most such calls
     * write the metadata, and LMDB lets a platform thread run its write transaction itself, where a
     * virtual thread must hand it to the store's writer thread and wait. When all of those are busy (many
     * clients waiting for their tasks to exit, say), each further call gets a virtual thread of its own.
     */
    static ExecutorService requestThreads() {
        return new ThreadPoolExecutor(0, PLATFORM_REQUEST_THREADS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                Thread.ofPlatform().name("grpc-call-", 0).daemon().factory(),
                (call, pool) -> Thread.ofVirtual().name("grpc-call").start(call));
    }

    /**
     * Gives every call a request thread of {@code requests}, except the calls of methods their services
     * declare non-blocking (see {@link NonBlockingService}), which stay on the transport's thread.
     */
    private record RequestThreadCalls(Executor requests, Set<String> nonBlocking) implements ServerCallExecutorSupplier {
        @Override
        public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
            return nonBlocking.contains(call.getMethodDescriptor().getFullMethodName()) ? null : requests;
        }
    }

    /**
     * Enforces {@code grpc.max-send-message-size}: grpc-java limits only what a server receives. The size
     * of a protobuf message is computed once and memoised, and the marshaller needs it anyway.
     */
    private record MaxResponseSize(int limit) implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            return next.startCall(new SimpleForwardingServerCall<>(call) {
                @Override
                public void sendMessage(R message) {
                    if (message instanceof MessageLite proto && proto.getSerializedSize() > limit) {
                        throw Status.RESOURCE_EXHAUSTED
                                .withDescription("response of " + proto.getSerializedSize()
                                        + " bytes exceeds grpc.max-send-message-size (" + limit + ")")
                                .asRuntimeException();
                    }
                    super.sendMessage(message);
                }
            }, headers);
        }
    }
}
