package dev.berth.plugins.content;

import dev.berth.plugin.content.ContentReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Positional reads over an open blob file; the open descriptor outlives a delete of the blob. */
final class LocalContentReader implements ContentReader {
    private final FileChannel channel;
    private final long size;

    LocalContentReader(FileChannel channel) throws IOException {
        this.channel = channel;
        try {
            this.size = channel.size();
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int read(ByteBuffer dst, long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
        if (offset >= size) {
            return -1;
        }
        if (!dst.hasRemaining()) {
            return 0;
        }
        try {
            return channel.read(dst, offset);
        } catch (IOException e) {
            throw new UncheckedIOException("read at " + offset + " failed", e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
