package dev.berth.bootstrap.h2;

import static dev.berth.bootstrap.h2.Frames.*;

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Attributes;
import io.grpc.InternalChannelz.SocketStats;
import io.grpc.InternalLogId;
import io.grpc.InternalStatus;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.ReadableBuffers;
import io.grpc.internal.ServerTransport;
import io.grpc.internal.ServerTransportListener;
import io.grpc.internal.StatsTraceContext;
import io.grpc.internal.TransportTracer;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: HTTP/2 frames read by the thread that runs {@link #serve}, and grpc-java's calls on
 * its streams. A single lock guards the connection's state and its writes. The thread holding it is
 * grpc-java's "transport thread": the reader while it handles frames, or a call's thread while it writes.
 *
 * <p>Written frames collect in a buffer that goes out in one write when the lock is released, or, while
 * the reader is handling frames, before it waits for more: a unary call's response headers, message and
 * trailers, and the acknowledgements of the frames that came with it, leave in one system call.
 */
final class H2Connection implements ServerTransport {
    private static final Logger log = LoggerFactory.getLogger(H2Connection.class);
    /** The window of each stream this side receives on, and of the connection as a whole. */
    static final int STREAM_WINDOW = 1 << 20;
    static final int CONNECTION_WINDOW = 1 << 20;
    /** grpc-java's default limit on a call's metadata. */
    static final int MAX_HEADER_LIST_SIZE = 8192;
    /** A header block held across CONTINUATION frames may not grow past this. */
    private static final int MAX_HEADER_BLOCK = 4 * MAX_HEADER_LIST_SIZE;
    /** Written frames are sent once this many bytes wait, so a long response does not pile up in memory. */
    private static final int WRITE_CHUNK = 256 * 1024;

    private final H2Server server;
    private final SocketChannel channel;
    private final InternalLogId logId = InternalLogId.allocate(getClass(), null);
    private final TransportTracer tracer = new TransportTracer();
    private final ReentrantLock lock = new ReentrantLock();

    // guarded by lock
    private final HpackDecoder decoder = new HpackDecoder(MAX_HEADER_LIST_SIZE);
    private final Frames.Out out = new Frames.Out();
    private final Map<Integer, H2Stream> streams = new HashMap<>();
    /** Streams with data waiting for the connection's window, in the order they blocked. */
    private final ArrayDeque<H2Stream> blocked = new ArrayDeque<>();
    /** Sent bytes to report to their streams once the lock is released. */
    private final List<Sent> sent = new ArrayList<>();
    private ServerTransportListener listener;
    /** The frames read and not yet handled, between {@code start} and {@code end}: owned by the reading thread. */
    private final byte[] buffer = new byte[HEADER_LENGTH + DEFAULT_MAX_FRAME_SIZE + 65_536];
    private int start;
    private int end;
    private boolean preface;
    /** A call this thread runs once it has handled the frames at hand; see {@link #takeCall}. */
    private Runnable takenCall;
    private boolean reading;
    private boolean flushRequested;
    private int peerInitialWindow = DEFAULT_WINDOW;
    private int peerMaxFrame = DEFAULT_MAX_FRAME_SIZE;
    private long connectionSendWindow = DEFAULT_WINDOW;
    private int connectionUnacknowledged;
    private int lastStreamId;
    private boolean goingAway;
    private boolean closing;
    private int headerStream;
    private boolean headerEndStream;
    private byte[] headerBlock;
    private int headerBlockLength;

    private record Sent(H2Stream stream, int count) {}

    /** A connection error (RFC 9113, 5.4.1): the connection ends with GOAWAY and this code. */
    private static final class ConnectionError extends Exception {
        final int code;

        ConnectionError(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    H2Connection(H2Server server, SocketChannel channel) {
        this.server = server;
        this.channel = channel;
    }

    /**
     * Sends the server's preface: called by the accepting thread at once, since a Go client sends no call
     * before it has the server's SETTINGS, and the connection's own thread has yet to be woken.
     */
    void greet() {
        lock.lock();
        try {
            out.settings(SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW, SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_SIZE);
            out.windowUpdate(0, CONNECTION_WINDOW - DEFAULT_WINDOW);
            flush();
        } finally {
            unlock();
        }
    }

    H2Server server() {
        return server;
    }

    /** Serves the connection until it ends; runs on a thread of its own, after {@link #greet}. */
    void serve() {
        lock.lock();
        try {
            listener = server.transportCreated(this);
        } finally {
            unlock();
        }
        readOn();
    }

    /**
     * Reads and handles frames until the connection ends, or until a call handed to this thread (see
     * {@link #takeCall}) is to run: another thread then reads on, and this one runs the call.
     */
    private void readOn() {
        Runnable call;
        try {
            call = read();
        } catch (ConnectionError e) {
            lock.lock();
            try {
                out.goAway(lastStreamId, e.code);
                flush();
            } finally {
                unlock();
            }
            end(e);
            return;
        } catch (EOFException | ClosedChannelException e) {
            end(null); // the peer or this side closed the connection
            return;
        } catch (IOException | RuntimeException e) {
            end(e);
            return;
        }
        try {
            server.readOn(this::readOn);
        } catch (RuntimeException e) {
            // no thread to read on (the server is stopping): the call still runs, and the connection ends
            closeChannel();
            terminate(e);
        }
        server.runCall(call);
    }

    /**
     * Ends the connection, then runs a call the frames before its end handed to this thread: the call
     * learns that its stream ended, and its place among the calls on readers is freed.
     */
    private void end(Throwable failure) {
        terminate(failure);
        Runnable call;
        lock.lock();
        try {
            call = takenCall;
            takenCall = null;
        } finally {
            lock.unlock();
        }
        if (call != null) {
            server.runCall(call);
        }
    }

    /**
     * Takes {@code call} to run on this thread once the frames at hand are handled, if this thread is handling
     * them and has no call yet: a call then starts without waiting for another thread to wake up, while the
     * thread that reads on does.
     */
    boolean takeCall(Runnable call) {
        // called under the lock, on the thread that handles frames
        if (!reading || takenCall != null) {
            return false;
        }
        takenCall = call;
        return true;
    }

    /** Reads until the connection ends (an exception) or a call is taken, which it returns. */
    private Runnable read() throws IOException, ConnectionError {
        ByteBuffer view = ByteBuffer.wrap(buffer);
        while (true) {
            // handle every whole frame in the buffer, then send what they produced and wait for more
            int needed = preface ? HEADER_LENGTH : CLIENT_PREFACE.length;
            Runnable call;
            lock.lock();
            try {
                reading = true;
                H2Server.handling(this);
                while (end - start >= needed) {
                    if (!preface) {
                        if (!Arrays.equals(buffer, start, start + needed, CLIENT_PREFACE, 0, needed)) {
                            throw new ConnectionError(PROTOCOL_ERROR, "not an HTTP/2 client preface");
                        }
                        preface = true;
                        start += needed;
                        listener.transportReady(Attributes.EMPTY);
                        needed = HEADER_LENGTH;
                        continue;
                    }
                    int length = ((buffer[start] & 0xff) << 16) | ((buffer[start + 1] & 0xff) << 8) | (buffer[start + 2] & 0xff);
                    if (length > DEFAULT_MAX_FRAME_SIZE) {
                        throw new ConnectionError(FRAME_SIZE_ERROR, "frame of " + length + " bytes");
                    }
                    if (end - start < HEADER_LENGTH + length) {
                        needed = HEADER_LENGTH + length;
                        break;
                    }
                    int type = buffer[start + 3] & 0xff;
                    int flags = buffer[start + 4] & 0xff;
                    int streamId = int31(buffer, start + 5);
                    frame(type, flags, streamId, buffer, start + HEADER_LENGTH, length);
                    start += HEADER_LENGTH + length;
                    needed = HEADER_LENGTH;
                }
                reading = false;
                if (flushRequested) {
                    flush();
                }
                call = takenCall;
                takenCall = null;
            } finally {
                reading = false;
                H2Server.handling(null);
                unlock();
            }
            if (start == end) {
                start = end = 0;
            } else if (buffer.length - start < needed) {
                System.arraycopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            if (call != null) {
                return call;
            }
            view.limit(buffer.length).position(end);
            int count = channel.read(view);
            if (count < 0) {
                throw new EOFException();
            }
            end += count;
        }
    }

    private void frame(int type, int flags, int streamId, byte[] b, int offset, int length) throws ConnectionError {
        if (headerStream != 0 && type != CONTINUATION) {
            throw new ConnectionError(PROTOCOL_ERROR, "frame of type " + type + " inside a header block");
        }
        switch (type) {
            case DATA -> data(flags, streamId, b, offset, length);
            case HEADERS -> headers(flags, streamId, b, offset, length);
            case CONTINUATION -> continuation(flags, streamId, b, offset, length);
            case RST_STREAM -> {
                if (length != 4 || streamId == 0) {
                    throw new ConnectionError(length != 4 ? FRAME_SIZE_ERROR : PROTOCOL_ERROR, "bad RST_STREAM");
                }
                H2Stream stream = streams.get(streamId);
                if (stream != null) {
                    remove(stream);
                    stream.transportState().transportReportStatus(
                            Status.CANCELLED.withDescription("the client reset the stream (HTTP/2 error " + int32(b, offset) + ")"));
                }
            }
            case SETTINGS -> settings(flags, streamId, b, offset, length);
            case PING -> {
                if (length != 8 || streamId != 0) {
                    throw new ConnectionError(length != 8 ? FRAME_SIZE_ERROR : PROTOCOL_ERROR, "bad PING");
                }
                if ((flags & FLAG_ACK) == 0) {
                    out.header(8, PING, FLAG_ACK, 0);
                    out.write(b, offset, 8);
                    flushRequested = true;
                }
            }
            case WINDOW_UPDATE -> windowUpdate(streamId, b, offset, length);
            case PUSH_PROMISE -> throw new ConnectionError(PROTOCOL_ERROR, "a client may not push");
            case GOAWAY -> {
                // the client starts no more streams; those it has run to their end
            }
            default -> {
                // PRIORITY, and types this side does not know, are ignored (RFC 9113, 4.1 and 5.3.2)
            }
        }
    }

    private void data(int flags, int streamId, byte[] b, int offset, int length) throws ConnectionError {
        if (streamId == 0) {
            throw new ConnectionError(PROTOCOL_ERROR, "DATA on stream 0");
        }
        connectionUnacknowledged += length;
        if (connectionUnacknowledged >= CONNECTION_WINDOW / 2) {
            out.windowUpdate(0, connectionUnacknowledged);
            connectionUnacknowledged = 0;
            flushRequested = true;
        }
        int padding = 0;
        if ((flags & FLAG_PADDED) != 0) {
            padding = (length == 0 ? 0 : b[offset] & 0xff) + 1;
            if (padding > length) {
                throw new ConnectionError(PROTOCOL_ERROR, "padding longer than its frame");
            }
        }
        H2Stream stream = streams.get(streamId);
        if (stream == null || stream.inboundClosed) {
            if (streamId > lastStreamId) {
                throw new ConnectionError(PROTOCOL_ERROR, "DATA on idle stream " + streamId);
            }
            return; // a stream this side has finished: its data was in flight
        }
        stream.receiveWindow -= length;
        if (stream.receiveWindow < 0) {
            reset(stream, FLOW_CONTROL_ERROR, Status.INTERNAL.withDescription("the client overran the stream's window"));
            return;
        }
        if (padding > 0) {
            consumed(stream, padding);
        }
        boolean endStream = (flags & FLAG_END_STREAM) != 0;
        int dataLength = length - padding;
        byte[] copy = Arrays.copyOfRange(b, offset + (padding > 0 ? 1 : 0), offset + (padding > 0 ? 1 : 0) + dataLength);
        if (endStream) {
            stream.inboundClosed = true;
        }
        stream.transportState().received(ReadableBuffers.wrap(copy), endStream);
    }

    private void headers(int flags, int streamId, byte[] b, int offset, int length) throws ConnectionError {
        if (streamId == 0) {
            throw new ConnectionError(PROTOCOL_ERROR, "HEADERS on stream 0");
        }
        int from = offset;
        int to = offset + length;
        if ((flags & FLAG_PADDED) != 0) {
            if (length == 0) {
                throw new ConnectionError(PROTOCOL_ERROR, "padded HEADERS without its pad length");
            }
            to -= b[from++] & 0xff;
        }
        if ((flags & FLAG_PRIORITY) != 0) {
            from += 5;
        }
        if (from > to) {
            throw new ConnectionError(PROTOCOL_ERROR, "HEADERS shorter than its padding and priority");
        }
        headerBlock = Arrays.copyOfRange(b, from, to);
        headerBlockLength = to - from;
        headerEndStream = (flags & FLAG_END_STREAM) != 0;
        if ((flags & FLAG_END_HEADERS) != 0) {
            headerBlockDone(streamId);
        } else {
            headerStream = streamId;
        }
    }

    private void continuation(int flags, int streamId, byte[] b, int offset, int length) throws ConnectionError {
        if (headerStream == 0 || streamId != headerStream) {
            throw new ConnectionError(PROTOCOL_ERROR, "CONTINUATION without its HEADERS");
        }
        if (headerBlockLength + length > MAX_HEADER_BLOCK) {
            throw new ConnectionError(PROTOCOL_ERROR, "header block over " + MAX_HEADER_BLOCK + " bytes");
        }
        if (headerBlockLength + length > headerBlock.length) {
            headerBlock = Arrays.copyOf(headerBlock, Math.max(headerBlock.length * 2, headerBlockLength + length));
        }
        System.arraycopy(b, offset, headerBlock, headerBlockLength, length);
        headerBlockLength += length;
        if ((flags & FLAG_END_HEADERS) != 0) {
            headerStream = 0;
            headerBlockDone(streamId);
        }
    }

    private void headerBlockDone(int streamId) throws ConnectionError {
        byte[] block = headerBlock;
        int blockLength = headerBlockLength;
        boolean endStream = headerEndStream;
        headerBlock = null;
        byte[][] fields;
        try {
            fields = decoder.decode(block, 0, blockLength);
        } catch (HpackDecoder.CompressionException e) {
            throw new ConnectionError(COMPRESSION_ERROR, "cannot decode a header block: " + e.getMessage());
        }
        H2Stream existing = streams.get(streamId);
        if (existing != null) {
            // trailers from the client: gRPC has none, but they end its side of the stream
            if (!endStream) {
                throw new ConnectionError(PROTOCOL_ERROR, "second HEADERS on stream " + streamId + " without END_STREAM");
            }
            existing.inboundClosed = true;
            existing.transportState().received(ReadableBuffers.empty(), true);
            return;
        }
        if (streamId <= lastStreamId || (streamId & 1) == 0) {
            throw new ConnectionError(PROTOCOL_ERROR, "HEADERS opening stream " + streamId + " after " + lastStreamId);
        }
        lastStreamId = streamId;
        if (goingAway) {
            out.rstStream(streamId, REFUSED_STREAM);
            flushRequested = true;
            return;
        }
        if (fields == null) {
            refuse(streamId, endStream, 431, Status.Code.RESOURCE_EXHAUSTED,
                    "the call's metadata exceeds " + MAX_HEADER_LIST_SIZE + " bytes");
            return;
        }
        GrpcHeaders.Request request = GrpcHeaders.Request.of(fields);
        if (request.malformed() != null) {
            refuse(streamId, endStream, 400, Status.Code.INTERNAL, request.malformed());
            return;
        }
        if (!"POST".equals(request.method())) {
            refuse(streamId, endStream, 405, Status.Code.INTERNAL, "method '" + request.method() + "' is not supported");
            return;
        }
        if (request.contentType() == null || !GrpcUtil.isGrpcContentType(request.contentType())) {
            refuse(streamId, endStream, 415, Status.Code.INTERNAL, "Content-Type '" + request.contentType() + "' is not supported");
            return;
        }
        String path = request.path();
        if (path == null || path.isEmpty() || path.charAt(0) != '/') {
            refuse(streamId, endStream, 404, Status.Code.UNIMPLEMENTED, "expected a path of the form /service/method, got '" + path + "'");
            return;
        }
        String methodName = path.substring(1);
        Metadata metadata = request.metadata();
        H2Stream stream = new H2Stream(this, streamId, request.authority(),
                server.maxMessageSize(), peerInitialWindow,
                StatsTraceContext.newServerContext(server.tracerFactories(), methodName, metadata), tracer);
        streams.put(streamId, stream);
        tracer.reportRemoteStreamStarted();
        listener.streamCreated(stream, methodName, metadata);
        stream.transportState().allocated();
        if (endStream) {
            stream.inboundClosed = true;
            stream.transportState().received(ReadableBuffers.empty(), true);
        }
    }

    /** Answers a request that is not a gRPC call with an HTTP status and a gRPC status, and ends the stream. */
    private void refuse(int streamId, boolean endStream, int httpStatus, Status.Code code, String message) {
        byte[] block = GrpcHeaders.refusal(httpStatus, code, message);
        headerFrames(streamId, block, true);
        if (!endStream) {
            out.rstStream(streamId, NO_ERROR);
        }
        flushRequested = true;
    }

    private void settings(int flags, int streamId, byte[] b, int offset, int length) throws ConnectionError {
        if (streamId != 0) {
            throw new ConnectionError(PROTOCOL_ERROR, "SETTINGS on stream " + streamId);
        }
        if ((flags & FLAG_ACK) != 0) {
            return;
        }
        if (length % 6 != 0) {
            throw new ConnectionError(FRAME_SIZE_ERROR, "SETTINGS of " + length + " bytes");
        }
        int windowDelta = 0;
        for (int i = offset; i < offset + length; i += 6) {
            int id = ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
            int value = int32(b, i + 2);
            switch (id) {
                case SETTINGS_INITIAL_WINDOW_SIZE -> {
                    if (value < 0) {
                        throw new ConnectionError(FLOW_CONTROL_ERROR, "initial window of " + Integer.toUnsignedString(value));
                    }
                    windowDelta += value - peerInitialWindow;
                    peerInitialWindow = value;
                }
                case SETTINGS_MAX_FRAME_SIZE -> {
                    if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) {
                        throw new ConnectionError(PROTOCOL_ERROR, "maximum frame size of " + value);
                    }
                    peerMaxFrame = value;
                }
                default -> {
                    // this side never indexes the headers it sends, so the peer's table size does not matter;
                    // the rest concern features a server does not use
                }
            }
        }
        out.header(0, SETTINGS, FLAG_ACK, 0);
        flushRequested = true;
        if (windowDelta != 0) {
            for (H2Stream stream : streams.values()) {
                stream.sendWindow += windowDelta;
            }
            if (windowDelta > 0) {
                for (H2Stream stream : new ArrayList<>(streams.values())) {
                    send(stream);
                }
            }
        }
    }

    private void windowUpdate(int streamId, byte[] b, int offset, int length) throws ConnectionError {
        if (length != 4) {
            throw new ConnectionError(FRAME_SIZE_ERROR, "WINDOW_UPDATE of " + length + " bytes");
        }
        int increment = int31(b, offset);
        if (streamId == 0) {
            if (increment == 0) {
                throw new ConnectionError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
            }
            connectionSendWindow += increment;
            if (connectionSendWindow > MAX_WINDOW) {
                throw new ConnectionError(FLOW_CONTROL_ERROR, "connection window over 2^31-1");
            }
            while (connectionSendWindow > 0 && !blocked.isEmpty()) {
                send(blocked.poll());
            }
            return;
        }
        H2Stream stream = streams.get(streamId);
        if (stream == null) {
            return;
        }
        if (increment == 0 || stream.sendWindow + increment > MAX_WINDOW) {
            reset(stream, increment == 0 ? PROTOCOL_ERROR : FLOW_CONTROL_ERROR,
                    Status.INTERNAL.withDescription("bad WINDOW_UPDATE from the client"));
            return;
        }
        stream.sendWindow += increment;
        send(stream);
    }

    // ---- called by streams, on any thread

    /** Runs {@code task} as grpc-java's transport thread for this connection's streams. */
    void runLocked(Runnable task) {
        lock.lock();
        try {
            task.run();
        } finally {
            unlock();
        }
    }

    /** grpc-java consumed {@code count} received bytes of {@code stream}: give them back to the client. */
    void consumed(H2Stream stream, int count) {
        // called on the transport thread, under the lock
        if (stream.removed || stream.inboundClosed) {
            return;
        }
        stream.unacknowledged += count;
        if (stream.unacknowledged >= STREAM_WINDOW / 2) {
            out.windowUpdate(stream.id(), stream.unacknowledged);
            stream.receiveWindow += stream.unacknowledged;
            stream.unacknowledged = 0;
            flushRequested = true;
        }
    }

    void writeHeaders(H2Stream stream, Metadata metadata, boolean flush) {
        lock.lock();
        try {
            if (stream.removed) {
                return;
            }
            headerFrames(stream.id(), Frames.headerBlock(true, GrpcHeaders.response(metadata, true)), false);
            stream.headersSent = true;
            flushRequested |= flush;
        } finally {
            unlock();
        }
    }

    void writeData(H2Stream stream, H2Stream.ArrayBuffer frame, boolean flush, int messages) {
        lock.lock();
        try {
            if (!stream.removed && frame != null && frame.size > 0) {
                stream.pending.add(new H2Stream.Pending(frame.bytes, frame.size, false));
                tracer.reportMessageSent(messages);
                send(stream);
            }
            flushRequested |= flush;
        } finally {
            unlock();
        }
    }

    void writeTrailers(H2Stream stream, Metadata trailers, boolean headersSent) {
        lock.lock();
        try {
            if (stream.removed) {
                return;
            }
            byte[] block = Frames.headerBlock(!headersSent, GrpcHeaders.response(trailers, !headersSent));
            stream.pending.add(new H2Stream.Pending(block, block.length, true));
            send(stream);
            flushRequested = true;
        } finally {
            unlock();
        }
    }

    /** Ends {@code stream} with RST_STREAM and reports {@code status} to its call. */
    void reset(H2Stream stream, int errorCode, Status status) {
        lock.lock();
        try {
            if (stream.removed) {
                return;
            }
            remove(stream);
            out.rstStream(stream.id(), errorCode);
            flushRequested = true;
            stream.transportState().transportReportStatus(status);
        } finally {
            unlock();
        }
    }

    /**
     * Ends {@code stream}, whose request could not be read (over the size limit, say), and reports
     * {@code status} to its call. The client learns the status from trailers when no headers went out yet.
     */
    void fail(H2Stream stream, Status status) {
        lock.lock();
        try {
            if (stream.removed) {
                return;
            }
            remove(stream);
            stream.transportState().transportReportStatus(status);
            if (stream.headersSent) {
                out.rstStream(stream.id(), CANCEL);
            } else {
                Metadata trailers = new Metadata();
                trailers.put(InternalStatus.CODE_KEY, status);
                if (status.getDescription() != null) {
                    trailers.put(InternalStatus.MESSAGE_KEY, status.getDescription());
                }
                headerFrames(stream.id(), Frames.headerBlock(true, GrpcHeaders.response(trailers, true)), true);
                if (!stream.inboundClosed) {
                    out.rstStream(stream.id(), NO_ERROR);
                }
            }
            flushRequested = true;
        } finally {
            unlock();
        }
    }

    // ---- writing, under the lock

    /** Sends what {@code stream} has waiting, as far as the windows allow; its trailers end it. */
    private void send(H2Stream stream) {
        while (!stream.removed && !stream.pending.isEmpty()) {
            H2Stream.Pending next = stream.pending.peek();
            if (next.trailers) {
                stream.pending.poll();
                headerFrames(stream.id(), next.bytes, true);
                if (!stream.inboundClosed) {
                    // the response is complete: the rest of the request is not wanted (RFC 9113, 8.1)
                    out.rstStream(stream.id(), NO_ERROR);
                }
                flushRequested = true;
                remove(stream);
                stream.transportState().complete();
                return;
            }
            int count = (int) Math.min(Math.min(next.remaining(), peerMaxFrame), Math.min(stream.sendWindow, connectionSendWindow));
            if (count <= 0) {
                if (connectionSendWindow <= 0 && !blocked.contains(stream)) {
                    blocked.add(stream);
                }
                return;
            }
            out.header(count, DATA, 0, stream.id());
            out.write(next.bytes, next.offset, count);
            // data a window update let through goes out with the batch, whatever else it holds
            flushRequested = true;
            next.offset += count;
            stream.sendWindow -= count;
            connectionSendWindow -= count;
            if (next.remaining() == 0) {
                stream.pending.poll();
                sent.add(new Sent(stream, next.length));
            }
            if (out.size() >= WRITE_CHUNK) {
                flush();
            }
        }
    }

    /** A header block as HEADERS and, past the peer's frame size, CONTINUATION frames. */
    private void headerFrames(int streamId, byte[] block, boolean endStream) {
        int offset = 0;
        int type = HEADERS;
        do {
            int count = Math.min(block.length - offset, peerMaxFrame);
            boolean last = offset + count == block.length;
            int flags = (last ? FLAG_END_HEADERS : 0) | (type == HEADERS && endStream ? FLAG_END_STREAM : 0);
            out.header(count, type, flags, streamId);
            out.write(block, offset, count);
            offset += count;
            type = CONTINUATION;
        } while (offset < block.length);
    }

    private void remove(H2Stream stream) {
        stream.removed = true;
        stream.pending.clear();
        streams.remove(stream.id());
        blocked.remove(stream);
        tracer.reportStreamClosed(true);
        if (goingAway && streams.isEmpty()) {
            closing = true;
            flushRequested = true;
        }
    }

    /** Writes what has collected; a failed write closes the connection, which its reader then ends. */
    private void flush() {
        flushRequested = false;
        if (out.size() > 0) {
            ByteBuffer bytes = ByteBuffer.wrap(out.array(), 0, out.size());
            try {
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
            } catch (IOException e) {
                log.debug("cannot write to a client: {}", e.toString());
                closeChannel();
            }
            out.clear();
        }
        if (closing) {
            closeChannel();
        }
    }

    /** Releases the lock; the outermost release sends what collected, unless the reader will. */
    private void unlock() {
        List<Sent> report = null;
        try {
            if (lock.getHoldCount() == 1) {
                if (flushRequested && !reading) {
                    flush();
                }
                if (!sent.isEmpty()) {
                    report = List.copyOf(sent);
                    sent.clear();
                }
            }
        } finally {
            lock.unlock();
        }
        if (report != null) {
            // outside the lock: a call may take this as its cue to write more
            for (Sent s : report) {
                s.stream().transportState().sent(s.count());
            }
        }
    }

    private void terminate(Throwable failure) {
        if (failure != null && !(failure instanceof IOException)) {
            log.warn("closing a client connection: {}", failure.toString());
        } else if (failure != null) {
            log.debug("client connection failed: {}", failure.toString());
        }
        List<H2Stream> open;
        lock.lock();
        try {
            closing = true;
            open = new ArrayList<>(streams.values());
            for (H2Stream stream : open) {
                remove(stream);
                stream.transportState().transportReportStatus(
                        Status.UNAVAILABLE.withDescription("the client's connection ended").withCause(failure));
            }
        } finally {
            lock.unlock();
        }
        closeChannel();
        if (listener != null) {
            listener.transportTerminated();
        }
        server.transportTerminated(this);
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("cannot close a client connection: {}", e.toString());
        }
    }

    // ---- ServerTransport

    @Override
    public void shutdown() {
        lock.lock();
        try {
            if (goingAway) {
                return;
            }
            goingAway = true;
            out.goAway(lastStreamId, NO_ERROR);
            flushRequested = true;
            if (streams.isEmpty()) {
                closing = true;
            }
        } finally {
            unlock();
        }
    }

    @Override
    public void shutdownNow(Status reason) {
        lock.lock();
        try {
            goingAway = true;
            for (H2Stream stream : new ArrayList<>(streams.values())) {
                remove(stream);
                stream.transportState().transportReportStatus(reason);
            }
            closing = true;
            flushRequested = true;
        } finally {
            unlock();
        }
    }

    @Override
    public ScheduledExecutorService getScheduledExecutorService() {
        return server.scheduler();
    }

    @Override
    public InternalLogId getLogId() {
        return logId;
    }

    @Override
    public ListenableFuture<SocketStats> getStats() {
        return Futures.immediateFuture(null);
    }

    // ---- bytes

    private static int int31(byte[] b, int offset) {
        return int32(b, offset) & 0x7fff_ffff;
    }

    private static int int32(byte[] b, int offset) {
        return ((b[offset] & 0xff) << 24) | ((b[offset + 1] & 0xff) << 16) | ((b[offset + 2] & 0xff) << 8) | (b[offset + 3] & 0xff);
    }
}
