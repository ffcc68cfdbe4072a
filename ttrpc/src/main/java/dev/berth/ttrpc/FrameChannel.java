package dev.berth.ttrpc;

import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * ttrpc's framing over a stream socket: a 10-byte big-endian header (uint32 payload length, uint32 stream id,
 * uint8 type, uint8 flags) followed by the payload. One thread reads; any number of threads write, one frame at
 * a time.
 */
final class FrameChannel implements Closeable {

    static final int HEADER_LENGTH = 10;
    /** Largest payload either side accepts, as ttrpc's {@code messageLengthMax}. */
    static final int MAX_MESSAGE_LENGTH = 4 << 20;
    static final byte TYPE_REQUEST = 0x1;
    static final byte TYPE_RESPONSE = 0x2;

    /**
     * One received frame. {@code payload} is null when the declared length exceeded the maximum: its bytes were
     * skipped so the stream stays aligned, and the peer gets an error for that stream only.
     */
    record Frame(int streamId, byte type, long length, byte[] payload) {
        boolean oversized() {
            return payload == null;
        }
    }

    private final SocketChannel channel;
    private final ByteBuffer header = ByteBuffer.allocate(HEADER_LENGTH);
    // a ReentrantLock rather than synchronized so a virtual thread blocked on a write does not pin its carrier
    private final ReentrantLock writeLock = new ReentrantLock();

    FrameChannel(SocketChannel channel) {
        this.channel = requireNonNull(channel, "channel is null");
    }

    /** The next frame, or null when the peer closed the connection between frames. */
    Frame read() throws IOException {
        header.clear();
        if (!fill(header, true)) {
            return null;
        }
        header.flip();
        long length = Integer.toUnsignedLong(header.getInt());
        int streamId = header.getInt();
        byte type = header.get();
        header.get(); // flags: no flag is defined for unary calls
        if (length > MAX_MESSAGE_LENGTH) {
            skip(length);
            return new Frame(streamId, type, length, null);
        }
        ByteBuffer payload = ByteBuffer.allocate((int) length);
        fill(payload, false);
        return new Frame(streamId, type, length, payload.array());
    }

    /** Writes one frame; frames of concurrent writers never interleave. */
    void write(int streamId, byte type, byte[] payload) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(HEADER_LENGTH)
                .putInt(payload.length)
                .putInt(streamId)
                .put(type)
                .put((byte) 0)
                .flip();
        ByteBuffer[] buffers = {head, ByteBuffer.wrap(payload)};
        writeLock.lock();
        try {
            while (buffers[0].hasRemaining() || buffers[1].hasRemaining()) {
                channel.write(buffers);
            }
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** Fills {@code buffer}; returns false on end of stream before the first byte when {@code eofAllowed}. */
    private boolean fill(ByteBuffer buffer, boolean eofAllowed) throws IOException {
        boolean first = true;
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                if (first && eofAllowed) {
                    return false;
                }
                throw new EOFException("connection closed inside a ttrpc frame");
            }
            first = buffer.position() == 0;
        }
        return true;
    }

    private void skip(long length) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate(64 * 1024);
        long left = length;
        while (left > 0) {
            scratch.clear().limit((int) Math.min(scratch.capacity(), left));
            fill(scratch, false);
            left -= scratch.limit();
        }
    }
}
