package dev.berth.ttrpc;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import com.google.rpc.Code;
import dev.berth.plugin.CanceledException;
import dev.berth.plugin.DeadlineExceededException;
import dev.berth.plugin.UnavailableException;
import dev.berth.ttrpc.wire.KeyValue;
import dev.berth.ttrpc.wire.Request;
import dev.berth.ttrpc.wire.Response;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ttrpc client on one unix socket connection. Calls from any number of threads share the connection, each
 * on its own odd stream id; one reader thread hands every response to its caller. When the connection ends
 * (peer gone or {@link #close()}), every pending and later call fails with
 * {@link UnavailableException} and the {@code onClose} callback runs once.
 */
public final class TtrpcClient implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TtrpcClient.class);

    private final Path socket;
    private final FrameChannel channel;
    private final Runnable onClose;
    /** Completes a pending call when the connection ends; the caller then throws on its own thread. */
    private static final Response CLOSED = Response.newBuilder().build();

    private final ConcurrentHashMap<Integer, CompletableFuture<Response>> pending = new ConcurrentHashMap<>();
    // client-initiated streams are odd; unsigned wrap-around after 2^31 calls is harmless
    private final AtomicInteger nextStreamId = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile String closeReason;

    private TtrpcClient(Path socket, SocketChannel channel, Runnable onClose) {
        this.socket = socket;
        this.channel = new FrameChannel(channel);
        this.onClose = onClose;
        Thread.ofVirtual().name("ttrpc-client-" + socket.getFileName()).start(this::readLoop);
    }

    /** Connects to the ttrpc server listening on {@code socket}. */
    public static TtrpcClient connect(Path socket) throws IOException {
        return connect(socket, () -> {});
    }

    /**
     * Connects to the ttrpc server listening on {@code socket}; {@code onClose} runs once, on the reader thread,
     * after the connection has ended for any reason and every pending call has failed.
     */
    public static TtrpcClient connect(Path socket, Runnable onClose) throws IOException {
        requireNonNull(socket, "socket is null");
        requireNonNull(onClose, "onClose is null");
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        return new TtrpcClient(socket, channel, onClose);
    }

    /** Calls {@code service/method} with no metadata; see {@link #call(String, String, MessageLite, Parser, Duration, Map)}. */
    public <T> T call(String service, String method, MessageLite request, Parser<T> responseParser, Duration timeout) {
        return call(service, method, request, responseParser, timeout, Map.of());
    }

    /**
     * Calls {@code service/method} and waits for its response.
     *
     * @param timeout how long to wait, also sent to the server as the call's deadline; null or zero for no limit
     * @param metadata sent as ttrpc metadata (one key/value pair per value)
     * @return the parsed response payload
     * @throws dev.berth.plugin.BerthException of the class matching the server's status (e.g.
     *     {@link dev.berth.plugin.NotFoundException} for {@code NOT_FOUND}), with a {@link TtrpcException}
     *     cause; {@link DeadlineExceededException} when the timeout passes first; {@link UnavailableException}
     *     when the connection is or becomes closed; {@link CanceledException} when the calling thread is
     *     interrupted
     * @throws TtrpcException for a status with no Berth class, and {@code RESOURCE_EXHAUSTED} for a request
     *     larger than ttrpc's 4 MiB limit (refused before sending)
     */
    public <T> T call(String service, String method, MessageLite request, Parser<T> responseParser,
                      Duration timeout, Map<String, List<String>> metadata) {
        requireNonNull(service, "service is null");
        requireNonNull(method, "method is null");
        requireNonNull(request, "request is null");
        requireNonNull(responseParser, "responseParser is null");
        requireNonNull(metadata, "metadata is null");
        boolean limited = timeout != null && timeout.isPositive();
        Request.Builder envelope = Request.newBuilder()
                .setService(service)
                .setMethod(method)
                .setPayload(request.toByteString())
                .setTimeoutNano(limited ? timeout.toNanos() : 0);
        metadata.forEach((key, values) -> values.forEach(
                value -> envelope.addMetadata(KeyValue.newBuilder().setKey(key).setValue(value))));
        byte[] bytes = envelope.build().toByteArray();
        if (bytes.length > FrameChannel.MAX_MESSAGE_LENGTH) {
            throw new TtrpcException(Code.RESOURCE_EXHAUSTED, "message length " + bytes.length
                    + " exceed maximum message size of " + FrameChannel.MAX_MESSAGE_LENGTH);
        }

        int streamId = nextStreamId.getAndAdd(2);
        CompletableFuture<Response> result = new CompletableFuture<>();
        pending.put(streamId, result);
        // registered before the check so that a concurrent close either sees this call or is seen here
        if (closed.get()) {
            pending.remove(streamId);
            throw unavailable();
        }
        try {
            channel.write(streamId, FrameChannel.TYPE_REQUEST, bytes);
        } catch (IOException e) {
            pending.remove(streamId);
            shutDown("ttrpc: write to " + socket + " failed: " + e.getMessage());
            throw unavailable();
        }

        Response response = await(streamId, result, limited ? timeout : null, service + "/" + method);
        if (response == CLOSED) {
            throw unavailable();
        }
        if (response.hasStatus() && response.getStatus().getCode() != Code.OK_VALUE) {
            throw Statuses.toException(response.getStatus());
        }
        try {
            return responseParser.parseFrom(response.getPayload());
        } catch (InvalidProtocolBufferException e) {
            throw new TtrpcException(Code.INTERNAL, "ttrpc: cannot parse response of " + service + "/" + method
                    + ": " + e.getMessage());
        }
    }

    /** True once the connection has ended; every call then fails with {@link UnavailableException}. */
    public boolean isClosed() {
        return closed.get();
    }

    /** Closes the connection; pending calls fail with {@link UnavailableException}. Idempotent. */
    @Override
    public void close() {
        shutDown("ttrpc: closed");
    }

    private Response await(int streamId, CompletableFuture<Response> result, Duration timeout, String call) {
        try {
            // completed normally in every case, failures as statuses, so exceptions are thrown on the caller's thread
            return timeout == null ? result.get() : result.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            pending.remove(streamId);
            throw new DeadlineExceededException(call + ": deadline of " + timeout + " exceeded");
        } catch (InterruptedException e) {
            pending.remove(streamId);
            Thread.currentThread().interrupt();
            throw new CanceledException(call + ": canceled", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("ttrpc: pending call failed", e.getCause());
        }
    }

    private void readLoop() {
        String reason = "ttrpc: connection to " + socket + " closed";
        try {
            FrameChannel.Frame frame;
            while ((frame = channel.read()) != null) {
                dispatch(frame);
            }
        } catch (IOException e) {
            if (!closed.get()) {
                reason = "ttrpc: connection to " + socket + " lost: " + e.getMessage();
            }
        } finally {
            shutDown(reason);
            try {
                onClose.run();
            } catch (RuntimeException e) {
                log.warn("onClose callback of ttrpc client on {} failed", socket, e);
            }
        }
    }

    private void dispatch(FrameChannel.Frame frame) {
        CompletableFuture<Response> call = pending.remove(frame.streamId());
        if (call == null) {
            // the caller gave up (timeout, interrupt) before the answer came
            log.debug("ttrpc: response for unknown stream {} on {}", Integer.toUnsignedLong(frame.streamId()), socket);
            return;
        }
        if (frame.oversized()) {
            call.complete(failure(Code.RESOURCE_EXHAUSTED, "message length " + frame.length()
                    + " exceed maximum message size of " + FrameChannel.MAX_MESSAGE_LENGTH));
        } else if (frame.type() != FrameChannel.TYPE_RESPONSE) {
            call.complete(failure(Code.INTERNAL, "ttrpc: unknown message type " + frame.type() + " received"));
        } else {
            try {
                call.complete(Response.parseFrom(frame.payload()));
            } catch (InvalidProtocolBufferException e) {
                call.complete(failure(Code.INTERNAL, "ttrpc: cannot parse response envelope: " + e.getMessage()));
            }
        }
    }

    private void shutDown(String reason) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeReason = reason;
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("closing ttrpc connection to {}", socket, e);
        }
        pending.keySet().forEach(id -> {
            CompletableFuture<Response> call = pending.remove(id);
            if (call != null) {
                call.complete(CLOSED);
            }
        });
    }

    private static Response failure(Code code, String message) {
        return Response.newBuilder().setStatus(Statuses.status(code, message)).build();
    }

    private UnavailableException unavailable() {
        return new UnavailableException(closeReason == null ? "ttrpc: closed" : closeReason);
    }
}
