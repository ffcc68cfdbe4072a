package dev.berth.ttrpc;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import com.google.rpc.Code;
import com.google.rpc.Status;
import dev.berth.ttrpc.wire.KeyValue;
import dev.berth.ttrpc.wire.Request;
import dev.berth.ttrpc.wire.Response;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ttrpc server on one unix socket. Handlers are registered per service and method, before or while serving;
 * each request runs on its own virtual thread, so a slow call never holds up others on the same connection.
 * Answers follow ttrpc's: an unknown service or method gets {@code UNIMPLEMENTED}, an oversized frame
 * {@code RESOURCE_EXHAUSTED}, a request's {@code timeout_nano} becomes its deadline, after which the caller gets
 * {@code DEADLINE_EXCEEDED} and the handler's thread is interrupted.
 */
public final class TtrpcServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TtrpcServer.class);
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(10);

    /** Serves one method: turns a parsed request into a response message, or throws to answer with a status. */
    @FunctionalInterface
    public interface Handler<Q> {
        /**
         * Handles one call. A thrown {@link TtrpcException} answers with its status, a
         * {@link dev.berth.plugin.BerthException} with its kind's code, anything else with {@code UNKNOWN}.
         */
        MessageLite handle(Q request, CallContext context) throws Exception;
    }

    /** What a handler may know about its call. */
    public record CallContext(String service, String method, Map<String, List<String>> metadata,
                              Optional<Instant> deadline) {
        public CallContext {
            requireNonNull(service, "service is null");
            requireNonNull(method, "method is null");
            metadata = Map.copyOf(metadata);
            requireNonNull(deadline, "deadline is null");
        }
    }

    private record Method<Q>(Parser<Q> parser, Handler<Q> handler) {}

    private final Map<String, Map<String, Method<?>>> services = new ConcurrentHashMap<>();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("ttrpc-deadlines").factory());
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition();
    private int inFlight;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile ServerSocketChannel listener;
    private volatile Path socket;

    /**
     * Registers the handler of {@code service/method}, whose request payloads {@code parser} reads.
     *
     * @throws IllegalStateException if that method is already registered
     */
    public <Q> TtrpcServer register(String service, String method, Parser<Q> parser, Handler<Q> handler) {
        requireNonNull(service, "service is null");
        requireNonNull(method, "method is null");
        Method<Q> entry = new Method<>(requireNonNull(parser, "parser is null"), requireNonNull(handler, "handler is null"));
        if (services.computeIfAbsent(service, s -> new ConcurrentHashMap<>()).putIfAbsent(method, entry) != null) {
            throw new IllegalStateException("ttrpc method " + service + "/" + method + " already registered");
        }
        return this;
    }

    /**
     * Binds {@code socket} and serves it until {@link #close()}. A file left at that path (a stale socket of an
     * earlier process) is replaced.
     */
    public TtrpcServer serve(Path socket) throws IOException {
        requireNonNull(socket, "socket is null");
        if (closed.get()) {
            throw new IllegalStateException("ttrpc server is closed");
        }
        if (listener != null) {
            throw new IllegalStateException("ttrpc server already serves " + this.socket);
        }
        Files.createDirectories(socket.toAbsolutePath().getParent());
        Files.deleteIfExists(socket);
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        channel.bind(UnixDomainSocketAddress.of(socket));
        this.socket = socket;
        this.listener = channel;
        Thread.ofVirtual().name("ttrpc-accept-" + socket.getFileName()).start(() -> acceptLoop(channel));
        return this;
    }

    /** The socket this server is bound to, if it is serving. */
    public Optional<Path> socket() {
        return Optional.ofNullable(socket);
    }

    /**
     * Stops accepting connections, lets calls in flight answer for up to {@code grace}, then closes every
     * connection and removes the socket file.
     *
     * @return true if every call in flight answered within {@code grace}
     */
    public boolean shutdown(Duration grace) throws InterruptedException {
        requireNonNull(grace, "grace is null");
        if (!closed.compareAndSet(false, true)) {
            return true;
        }
        closeQuietly(listener);
        boolean drained = awaitIdle(grace);
        connections.forEach(Connection::close);
        deadlines.shutdownNow();
        Path path = socket;
        if (path != null) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                log.warn("cannot remove ttrpc socket {}", path, e);
            }
        }
        return drained;
    }

    /** {@link #shutdown(Duration)} with a grace of 10 seconds. */
    @Override
    public void close() {
        try {
            shutdown(CLOSE_GRACE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connections.forEach(Connection::close);
        }
    }

    private boolean awaitIdle(Duration grace) throws InterruptedException {
        long left = grace.toNanos();
        lock.lock();
        try {
            while (inFlight > 0) {
                if (left <= 0) {
                    return false;
                }
                left = idle.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void acceptLoop(ServerSocketChannel channel) {
        while (!closed.get()) {
            SocketChannel accepted;
            try {
                accepted = channel.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed.get()) {
                    return;
                }
                log.error("ttrpc: accept on {} failed", socket, e);
                return;
            }
            Connection connection = new Connection(new FrameChannel(accepted));
            connections.add(connection);
            if (closed.get()) {
                connection.close();
                return;
            }
            Thread.ofVirtual().name("ttrpc-conn-" + socket.getFileName()).start(connection::readLoop);
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            log.debug("closing {}", closeable, e);
        }
    }

    private final class Connection {
        private final FrameChannel channel;

        Connection(FrameChannel channel) {
            this.channel = channel;
        }

        void readLoop() {
            try {
                FrameChannel.Frame frame;
                while ((frame = channel.read()) != null) {
                    receive(frame);
                }
            } catch (IOException e) {
                if (!closed.get()) {
                    log.debug("ttrpc: connection on {} ended: {}", socket, e.toString());
                }
            } finally {
                close();
            }
        }

        void close() {
            connections.remove(this);
            closeQuietly(channel);
        }

        private void receive(FrameChannel.Frame frame) {
            if (frame.oversized()) {
                send(frame.streamId(), Response.newBuilder().setStatus(Statuses.status(Code.RESOURCE_EXHAUSTED,
                        "message length " + frame.length() + " exceed maximum message size of "
                                + FrameChannel.MAX_MESSAGE_LENGTH)).build());
                return;
            }
            if (frame.type() != FrameChannel.TYPE_REQUEST) {
                return;
            }
            Request request;
            try {
                request = Request.parseFrom(frame.payload());
            } catch (InvalidProtocolBufferException e) {
                send(frame.streamId(), failure(Code.INVALID_ARGUMENT, "unmarshal request error: " + e.getMessage()));
                return;
            }
            if (frame.streamId() % 2 == 0) {
                send(frame.streamId(), failure(Code.INVALID_ARGUMENT,
                        "StreamID must be odd for client initiated streams"));
                return;
            }
            started();
            new Call(this, frame.streamId(), request).start();
        }

        /** Writes one response; a connection that fails to take it is closed, as the peer can no longer be served. */
        void send(int streamId, Response response) {
            try {
                channel.write(streamId, FrameChannel.TYPE_RESPONSE, response.toByteArray());
            } catch (IOException e) {
                log.debug("ttrpc: cannot answer stream {} on {}: {}", streamId, socket, e.toString());
                close();
            }
        }
    }

    /** One request in flight: answered exactly once, by its handler or by its deadline, whichever comes first. */
    private final class Call {
        private final Connection connection;
        private final int streamId;
        private final Request request;
        private final AtomicBoolean answered = new AtomicBoolean();
        private volatile Thread thread;
        private volatile ScheduledFuture<?> timer;

        Call(Connection connection, int streamId, Request request) {
            this.connection = connection;
            this.streamId = streamId;
            this.request = request;
        }

        void start() {
            long timeout = request.getTimeoutNano();
            Optional<Instant> deadline = timeout > 0 ? Optional.of(Instant.now().plusNanos(timeout)) : Optional.empty();
            thread = Thread.ofVirtual().name("ttrpc-call-" + request.getService() + "/" + request.getMethod())
                    .unstarted(() -> run(deadline));
            if (timeout > 0) {
                try {
                    timer = deadlines.schedule(this::expire, timeout, TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException e) {
                    answer(failure(Code.UNAVAILABLE, "ttrpc: server closed"));
                    return;
                }
            }
            thread.start();
        }

        private void run(Optional<Instant> deadline) {
            Response response;
            try {
                response = Response.newBuilder().setStatus(Statuses.status(Code.OK, ""))
                        .setPayload(invoke(deadline).toByteString()).build();
            } catch (Throwable e) {
                Status status = Statuses.fromThrowable(e);
                if (status.getCode() == Code.UNKNOWN_VALUE) {
                    log.debug("ttrpc: {}/{} failed", request.getService(), request.getMethod(), e);
                }
                response = Response.newBuilder().setStatus(status).build();
            }
            if (response.getSerializedSize() > FrameChannel.MAX_MESSAGE_LENGTH) {
                response = failure(Code.RESOURCE_EXHAUSTED, "message length " + response.getSerializedSize()
                        + " exceed maximum message size of " + FrameChannel.MAX_MESSAGE_LENGTH);
            }
            answer(response);
        }

        private MessageLite invoke(Optional<Instant> deadline) throws Exception {
            Map<String, Method<?>> methods = services.get(request.getService());
            if (methods == null) {
                throw new TtrpcException(Code.UNIMPLEMENTED, "service " + request.getService());
            }
            Method<?> method = methods.get(request.getMethod());
            if (method == null) {
                throw new TtrpcException(Code.UNIMPLEMENTED, "method " + request.getMethod());
            }
            return handle(method, deadline);
        }

        private <Q> MessageLite handle(Method<Q> method, Optional<Instant> deadline) throws Exception {
            Q parsed;
            try {
                parsed = method.parser().parseFrom(request.getPayload());
            } catch (InvalidProtocolBufferException e) {
                throw new TtrpcException(Code.INTERNAL, "ttrpc: error unmarshalling payload: " + e.getMessage());
            }
            MessageLite response = method.handler().handle(parsed, new CallContext(request.getService(),
                    request.getMethod(), metadata(request), deadline));
            if (response == null) {
                throw new TtrpcException(Code.INTERNAL, "ttrpc: marshal called with nil");
            }
            return response;
        }

        private void expire() {
            if (answer(failure(Code.DEADLINE_EXCEEDED, "context deadline exceeded"))) {
                thread.interrupt();
            }
        }

        private boolean answer(Response response) {
            if (!answered.compareAndSet(false, true)) {
                return false;
            }
            ScheduledFuture<?> pendingTimer = timer;
            if (pendingTimer != null) {
                pendingTimer.cancel(false);
            }
            try {
                connection.send(streamId, response);
            } finally {
                finished();
            }
            return true;
        }
    }

    private static Map<String, List<String>> metadata(Request request) {
        Map<String, List<String>> metadata = new LinkedHashMap<>();
        for (KeyValue pair : request.getMetadataList()) {
            metadata.computeIfAbsent(pair.getKey(), k -> new ArrayList<>()).add(pair.getValue());
        }
        metadata.replaceAll((k, v) -> List.copyOf(v));
        return metadata;
    }

    private static Response failure(Code code, String message) {
        return Response.newBuilder().setStatus(Statuses.status(code, message)).build();
    }

    private void started() {
        lock.lock();
        try {
            inFlight++;
        } finally {
            lock.unlock();
        }
    }

    private void finished() {
        lock.lock();
        try {
            if (--inFlight == 0) {
                idle.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }
}
