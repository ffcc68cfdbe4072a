package dev.berth.plugins.differ;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.BerthException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Reads a stream ahead of its reader on a thread of its own, so that what producing the bytes costs
 * (reading a blob, hashing it, decompressing it, hashing the result) runs beside what consuming them
 * costs (unpacking files), each on its own core.
 *
 * <p>At most {@code chunks} chunks of {@code chunkSize} bytes wait between the two. What the source
 * throws reaches the reader, the same exception, at the point of the stream where it happened. Once
 * {@link #read} has returned -1 or thrown what the source threw, or once this is closed, the thread no
 * longer touches the source. Closing stops the thread, waits for it, and leaves the source open: the
 * caller owns it. A reader interrupted while it waits gets a {@code CANCELED} {@link BerthException},
 * as {@link LayerApplier} throws.
 */
final class ReadAhead extends InputStream {

    /** Bytes of the stream: the first {@code length} of {@code data}. */
    private record Chunk(byte[] data, int length) {}

    /** Ends the stream: the source's end, or what it threw. */
    private record End(Throwable failure) {}

    private static final Chunk NONE = new Chunk(new byte[0], 0);

    private final InputStream source;
    private final int chunkSize;
    private final BlockingQueue<Object> chunks;
    /** Arrays the reader is done with, for the thread to fill again. */
    private final BlockingQueue<byte[]> free;
    private final Thread thread;
    private volatile boolean closed;
    private Chunk current = NONE;
    private int position;
    private End end;

    ReadAhead(InputStream source, int chunkSize, int chunks, String threadName) {
        this.source = requireNonNull(source, "source is null");
        if (chunkSize <= 0 || chunks <= 0) {
            throw new IllegalArgumentException("chunk size and count must be positive");
        }
        this.chunkSize = chunkSize;
        this.chunks = new ArrayBlockingQueue<>(chunks);
        this.free = new ArrayBlockingQueue<>(chunks + 1);
        this.thread = Thread.ofPlatform().name(threadName).daemon().unstarted(this::run);
        thread.start();
    }

    private void run() {
        while (!closed) {
            byte[] data = free.poll();
            if (data == null) {
                data = new byte[chunkSize];
            }
            int filled = 0;
            Throwable failure = null;
            boolean atEnd = false;
            try {
                while (filled < chunkSize && !atEnd) {
                    int n = source.read(data, filled, chunkSize - filled);
                    if (n < 0) {
                        atEnd = true;
                    } else {
                        filled += n;
                    }
                }
            } catch (IOException | RuntimeException | Error e) {
                failure = e;
            }
            // the bytes before a failure are the reader's too
            if (filled > 0 && !put(new Chunk(data, filled))) {
                return;
            }
            if (atEnd || failure != null) {
                put(new End(failure));
                return;
            }
        }
    }

    /** Hands an item to the reader; false once this is closed. */
    private boolean put(Object item) {
        try {
            while (!closed) {
                if (chunks.offer(item, 100, TimeUnit.MILLISECONDS)) {
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** Makes {@code current} hold unread bytes; false at the end of the stream. */
    private boolean fill() throws IOException {
        if (position < current.length()) {
            return true;
        }
        if (end == null) {
            Object next;
            try {
                next = chunks.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw BerthException.of(BerthException.Kind.CANCELED, "reading interrupted");
            }
            if (next instanceof Chunk chunk) {
                if (current != NONE) {
                    free.offer(current.data());
                }
                current = chunk;
                position = 0;
                return true;
            }
            end = (End) next;
        }
        switch (end.failure()) {
            case null -> {}
            case IOException e -> throw e;
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new IOException(end.failure());
        }
        return false;
    }

    @Override
    public int read() throws IOException {
        ensureOpen();
        return fill() ? current.data()[position++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        ensureOpen();
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, current.length() - position);
        System.arraycopy(current.data(), position, b, off, n);
        position += n;
        return n;
    }

    @Override
    public int available() throws IOException {
        ensureOpen();
        return current.length() - position;
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
    }

    /** Stops the thread and waits for it: within a read of the source and 100 ms. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        chunks.clear();
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
