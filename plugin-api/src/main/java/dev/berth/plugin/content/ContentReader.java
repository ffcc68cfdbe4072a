package dev.berth.plugin.content;

import java.nio.ByteBuffer;

/**
 * Random access to one committed blob. The bytes a reader sees never change: a blob is immutable
 * once committed, and a reader opened before a delete keeps reading the old bytes until closed.
 * A reader may be used from several threads at once.
 */
public interface ContentReader extends AutoCloseable {

    /** The blob's length in bytes. */
    long size();

    /**
     * Reads up to {@code dst.remaining()} bytes starting at {@code offset} into {@code dst},
     * advancing its position.
     *
     * @return the number of bytes read, possibly fewer than requested near the end, or {@code -1}
     *         if {@code offset} is at or past the end
     * @throws IllegalArgumentException if {@code offset} is negative
     */
    int read(ByteBuffer dst, long offset);

    /** Releases the reader; closing twice is harmless. */
    @Override
    void close();
}
