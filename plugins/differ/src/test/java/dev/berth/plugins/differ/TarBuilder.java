package dev.berth.plugins.differ;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;

/** Builds layer tars entry by entry, including the malformed and hostile ones real layers must not be. */
final class TarBuilder {

    static final Instant TIME = Instant.parse("2021-06-01T12:00:00Z");

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarWriter writer = new TarWriter(bytes);

    TarBuilder dir(String name, int mode) {
        return entry(new TarEntry(name, TarEntry.Type.DIRECTORY, mode, 0, 0, 0, TIME, Optional.empty(), "", 0, 0, Map.of()), null);
    }

    TarBuilder file(String name, String content) {
        return file(name, content, 0644, 0, 0, Map.of());
    }

    TarBuilder file(String name, String content, int mode, long uid, long gid, Map<String, byte[]> xattrs) {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        return entry(new TarEntry(name, TarEntry.Type.REGULAR, mode, uid, gid, data.length, TIME, Optional.empty(), "",
                0, 0, xattrs), data);
    }

    TarBuilder symlink(String name, String target) {
        return entry(new TarEntry(name, TarEntry.Type.SYMLINK, 0777, 0, 0, 0, TIME, Optional.empty(), target, 0, 0, Map.of()), null);
    }

    TarBuilder hardlink(String name, String target) {
        return entry(new TarEntry(name, TarEntry.Type.HARD_LINK, 0644, 0, 0, 0, TIME, Optional.empty(), target, 0, 0, Map.of()), null);
    }

    TarBuilder fifo(String name) {
        return entry(new TarEntry(name, TarEntry.Type.FIFO, 0600, 0, 0, 0, TIME, Optional.empty(), "", 0, 0, Map.of()), null);
    }

    TarBuilder charDevice(String name, int major, int minor) {
        return entry(new TarEntry(name, TarEntry.Type.CHAR_DEVICE, 0666, 0, 0, 0, TIME, Optional.empty(), "", major, minor,
                Map.of()), null);
    }

    TarBuilder whiteout(String name) {
        return file(name, "");
    }

    TarBuilder entry(TarEntry entry, byte[] content) {
        try {
            writer.write(entry, new ByteArrayInputStream(content == null ? new byte[0] : content));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    byte[] tar() {
        try {
            writer.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    InputStream stream() {
        return new ByteArrayInputStream(tar());
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }
}
