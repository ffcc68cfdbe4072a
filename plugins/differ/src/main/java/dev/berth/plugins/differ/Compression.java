package dev.berth.plugins.differ;

import io.airlift.compress.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/**
 * Recognises a layer's compression from its first bytes, as containerd's
 * {@code compression.DecompressStream} does, whatever its media type claims.
 */
final class Compression {

    private static final int BUFFER = 64 * 1024;

    private Compression() {}

    /** A stream of the uncompressed bytes of {@code raw} (gzip, zstd or plain). */
    static InputStream decompress(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, BUFFER);
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(in, BUFFER), BUFFER);
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
            return new BufferedInputStream(new ZstdInputStream(in), BUFFER);
        }
        return in;
    }
}
