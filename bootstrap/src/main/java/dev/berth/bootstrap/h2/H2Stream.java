package dev.berth.bootstrap.h2;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.internal.AbstractServerStream;
import io.grpc.internal.StatsTraceContext;
import io.grpc.internal.TransportTracer;
import io.grpc.internal.WritableBuffer;
import java.util.ArrayDeque;

/**
 * One call: grpc-java's server stream over one HTTP/2 stream of an {@link H2Connection}. Its state is
 * guarded by the connection's lock; grpc-java's transport thread is whichever thread holds that lock.
 */
final class H2Stream extends AbstractServerStream {
    /** Largest buffer handed to grpc-java's framer: a message larger than this spans several. */
    private static final int MAX_BUFFER = 1 << 20;

    private final H2Connection connection;
    private final int id;
    private final String authority;
    private final State state;
    private final Output output = new Output();

    // guarded by the connection's lock
    /** Bytes this side may still send before the peer opens the stream's window further. */
    long sendWindow;
    /** Bytes the peer may still send before this side opens the stream's window further. */
    int receiveWindow = H2Connection.STREAM_WINDOW;
    /** Received bytes grpc-java has consumed that the peer has not been given back yet. */
    int unacknowledged;
    /** Data, and then the trailers, waiting for the stream's or the connection's window. */
    final ArrayDeque<Pending> pending = new ArrayDeque<>();
    boolean headersSent;
    boolean inboundClosed;
    boolean removed;

    H2Stream(H2Connection connection, int id, String authority, int maxMessageSize, long sendWindow,
            StatsTraceContext stats, TransportTracer tracer) {
        super(capacity -> new ArrayBuffer(Math.min(Math.max(capacity, 4096), MAX_BUFFER)), stats);
        this.connection = connection;
        this.id = id;
        this.authority = authority;
        this.sendWindow = sendWindow;
        this.state = new State(maxMessageSize, stats, tracer);
    }

    int id() {
        return id;
    }

    @Override
    protected State transportState() {
        return state;
    }

    @Override
    protected Output abstractServerStreamSink() {
        return output;
    }

    @Override
    public int streamId() {
        return id;
    }

    @Override
    public String getAuthority() {
        return authority;
    }

    /** Something queued for the peer in the stream's order: a DATA payload, or the trailers' header block. */
    static final class Pending {
        final byte[] bytes;
        final int length;
        final boolean trailers;
        int offset;

        Pending(byte[] bytes, int length, boolean trailers) {
            this.bytes = bytes;
            this.length = length;
            this.trailers = trailers;
        }

        int remaining() {
            return length - offset;
        }
    }

    final class State extends TransportState {
        State(int maxMessageSize, StatsTraceContext stats, TransportTracer tracer) {
            super(maxMessageSize, stats, tracer);
        }

        @Override
        public void runOnTransportThread(Runnable task) {
            connection.runLocked(task);
        }

        @Override
        public void bytesRead(int count) {
            connection.consumed(H2Stream.this, count);
        }

        @Override
        public void deframeFailed(Throwable cause) {
            connection.fail(H2Stream.this, Status.fromThrowable(cause));
        }

        // visible to the connection, which drives the stream from its frames
        void received(io.grpc.internal.ReadableBuffer data, boolean endOfStream) {
            inboundDataReceived(data, endOfStream);
        }

        void allocated() {
            onStreamAllocated();
        }

        void sent(int count) {
            onSentBytes(count);
        }
    }

    private final class Output implements AbstractServerStream.Sink {
        @Override
        public void writeHeaders(Metadata headers, boolean flush) {
            connection.writeHeaders(H2Stream.this, headers, flush);
        }

        @Override
        public void writeFrame(WritableBuffer frame, boolean flush, int numMessages) {
            connection.writeData(H2Stream.this, (ArrayBuffer) frame, flush, numMessages);
        }

        @Override
        public void writeTrailers(Metadata trailers, boolean headersSent, Status status) {
            connection.writeTrailers(H2Stream.this, trailers, headersSent);
        }

        @Override
        public void cancel(Status status) {
            connection.reset(H2Stream.this, Frames.CANCEL, status);
        }
    }

    /** A buffer grpc-java's framer writes a message into, handed to the connection as it is. */
    static final class ArrayBuffer implements WritableBuffer {
        final byte[] bytes;
        int size;

        ArrayBuffer(int capacity) {
            bytes = new byte[capacity];
        }

        @Override
        public void write(byte[] source, int offset, int length) {
            System.arraycopy(source, offset, bytes, size, length);
            size += length;
        }

        @Override
        public void write(byte b) {
            bytes[size++] = b;
        }

        @Override
        public int writableBytes() {
            return bytes.length - size;
        }

        @Override
        public int readableBytes() {
            return size;
        }

        @Override
        public void release() {
            // garbage collected
        }
    }
}
