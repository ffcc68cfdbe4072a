package dev.berth.bootstrap.h2;

import static java.util.Objects.requireNonNull;

import io.grpc.InternalChannelz.SocketStats;
import io.grpc.InternalInstrumented;
import io.grpc.ServerStreamTracer;
import io.grpc.internal.InternalServer;
import io.grpc.internal.ServerImplBuilder;
import io.grpc.internal.ServerListener;
import io.grpc.internal.ServerTransportListener;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * grpc-java's server core over a transport of the daemon's own: HTTP/2 (RFC 9113) on a unix socket, one
 * platform thread per client connection reading its frames. A local socket has no TLS, no proxies and no
 * need for HTTP/2's prioritisation, so the transport is small: a connection's set-up is a few objects and
 * one write, where a general-purpose transport builds a pipeline of handlers for each.
 */
public final class H2Server implements InternalServer {
    private static final Logger log = LoggerFactory.getLogger(H2Server.class);
    /** The connection whose frames the current thread is handling, if any. */
    private static final ThreadLocal<H2Connection> HANDLING = new ThreadLocal<>();
    /** At most this many calls run on threads that were reading a connection; more go to their executor. */
    public static final int MAX_CALLS_ON_READERS = 8;
    /** How long to wait before accepting again when accepting failed (out of file descriptors, say). */
    private static final long ACCEPT_BACKOFF_MILLIS = 100;

    private final UnixDomainSocketAddress address;
    private final int maxMessageSize;
    private final List<? extends ServerStreamTracer.Factory> tracerFactories;
    private final Set<H2Connection> connections = ConcurrentHashMap.newKeySet();
    private final ScheduledThreadPoolExecutor scheduler;
    private final ExecutorService connectionThreads;
    private final Semaphore callsOnReaders = new Semaphore(MAX_CALLS_ON_READERS);
    private volatile ServerSocketChannel channel;
    private volatile ServerListener listener;

    private H2Server(Path socket, int maxMessageSize, List<? extends ServerStreamTracer.Factory> tracerFactories) {
        this.address = UnixDomainSocketAddress.of(socket);
        this.maxMessageSize = maxMessageSize;
        this.tracerFactories = List.copyOf(tracerFactories);
        this.scheduler = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().name("grpc-timer").daemon().factory());
        this.scheduler.setRemoveOnCancelPolicy(true);
        this.connectionThreads = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                Thread.ofPlatform().name("grpc-connection-", 0).daemon().factory());
    }

    /**
     * A server builder for the unix socket at {@code socket}, which must not exist yet, accepting request
     * messages of at most {@code maxMessageSize} bytes.
     */
    public static ServerImplBuilder builder(Path socket, int maxMessageSize) {
        requireNonNull(socket, "socket is null");
        if (maxMessageSize <= 0) {
            throw new IllegalArgumentException("maxMessageSize must be positive, got " + maxMessageSize);
        }
        return new ServerImplBuilder((tracers, metrics) -> new H2Server(socket, maxMessageSize, tracers));
    }

    @Override
    public void start(ServerListener listener) throws IOException {
        this.listener = requireNonNull(listener, "listener is null");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(address, 128);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + address.getPath() + ": " + e.getMessage(), e);
        }
        channel = server;
        Thread.ofPlatform().name("grpc-accept").daemon().start(this::accept);
    }

    private void accept() {
        try {
            while (channel.isOpen()) {
                SocketChannel client;
                try {
                    client = channel.accept();
                } catch (ClosedChannelException e) {
                    break; // shut down
                } catch (IOException e) {
                    // the clients already connected are served on; new ones wait in the backlog meanwhile
                    log.warn("cannot accept a connection on {}: {}", address.getPath(), e.toString());
                    Thread.sleep(ACCEPT_BACKOFF_MILLIS);
                    continue;
                }
                H2Connection connection = new H2Connection(this, client);
                connections.add(connection);
                connection.greet();
                connectionThreads.execute(connection::serve);
            }
        } catch (InterruptedException | RuntimeException e) {
            log.error("stopped accepting connections on {}: {}", address.getPath(), e.toString());
        } finally {
            listener.serverShutdown();
            if (connections.isEmpty()) {
                stopThreads();
            }
        }
    }

    /**
     * An executor for calls that may block: a call started while a connection's frames are being handled
     * runs on the thread that handled them, which then stops reading the connection and wakes another
     * thread to read on. The call starts at once, and the other thread's wake-up is off its path. A call
     * that arrives with another on the same frames, or while {@link #MAX_CALLS_ON_READERS} run so, goes
     * to {@code executor}.
     *
     * <p>Every connection has a thread of its own, so a call that blocks holds up no other connection, and
     * the connection's next frames are read by the next thread.
     */
    public static Executor readerFirst(Executor executor) {
        requireNonNull(executor, "executor is null");
        return task -> {
            H2Connection connection = HANDLING.get();
            if (connection == null || !connection.server().callsOnReaders.tryAcquire()) {
                executor.execute(task);
            } else if (!connection.takeCall(task)) {
                connection.server().callsOnReaders.release();
                executor.execute(task);
            }
        };
    }

    static void handling(H2Connection connection) {
        if (connection == null) {
            HANDLING.remove();
        } else {
            HANDLING.set(connection);
        }
    }

    /** Continues reading a connection on another thread. */
    void readOn(Runnable reader) {
        connectionThreads.execute(reader);
    }

    /** Runs a call a reader took, on the current thread. */
    void runCall(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            log.warn("a call failed outside of gRPC's handling: {}", e.toString());
        } finally {
            callsOnReaders.release();
        }
    }

    ServerTransportListener transportCreated(H2Connection connection) {
        return listener.transportCreated(connection);
    }

    void transportTerminated(H2Connection connection) {
        connections.remove(connection);
        if (!channel.isOpen() && connections.isEmpty()) {
            stopThreads();
        }
    }

    private void stopThreads() {
        scheduler.shutdown();
        connectionThreads.shutdown();
    }

    int maxMessageSize() {
        return maxMessageSize;
    }

    List<? extends ServerStreamTracer.Factory> tracerFactories() {
        return tracerFactories;
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    @Override
    public void shutdown() {
        ServerSocketChannel server = channel;
        if (server == null) {
            return;
        }
        try {
            server.close();
        } catch (IOException e) {
            log.debug("cannot close {}: {}", address.getPath(), e.toString());
        }
    }

    @Override
    public SocketAddress getListenSocketAddress() {
        return address;
    }

    @Override
    public InternalInstrumented<SocketStats> getListenSocketStats() {
        return null;
    }

    @Override
    public List<? extends SocketAddress> getListenSocketAddresses() {
        return List.of(address);
    }

    @Override
    public List<InternalInstrumented<SocketStats>> getListenSocketStatsList() {
        return List.of();
    }
}
