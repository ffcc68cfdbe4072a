package dev.berth.plugins.content;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mutable part of a blob's info (labels and when they last changed), kept beside the blob in
 * a small binary file: a magic number and version, the update time, then the labels as
 * length-prefixed UTF-8 pairs.
 */
record BlobInfoFile(Instant updatedAt, Map<String, String> labels) {
    private static final Logger log = LoggerFactory.getLogger(BlobInfoFile.class);
    private static final int MAGIC = 0x42525449; // "BRTI"
    private static final int VERSION = 1;

    BlobInfoFile {
        requireNonNull(updatedAt, "updatedAt is null");
        labels = Map.copyOf(requireNonNull(labels, "labels is null"));
    }

    /** The file's content, or {@code null} if there is none or it cannot be read (then the blob has no labels). */
    static BlobInfoFile read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            log.warn("cannot read content info {}; reporting no labels", file, e);
            return null;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (in.readInt() != MAGIC || in.readInt() != VERSION) {
                throw new IOException("unknown format");
            }
            Instant updatedAt = Instant.ofEpochSecond(in.readLong(), in.readInt());
            int count = in.readInt();
            Map<String, String> labels = new HashMap<>();
            for (int i = 0; i < count; i++) {
                labels.put(readString(in), readString(in));
            }
            if (in.available() != 0) {
                throw new IOException("trailing bytes");
            }
            return new BlobInfoFile(updatedAt, labels);
        } catch (IOException | RuntimeException e) {
            log.warn("corrupt content info {}; reporting no labels", file, e);
            return null;
        }
    }

    /** Replaces {@code file} atomically and durably: written aside, synced, renamed, directory synced. */
    static void write(Path file, BlobInfoFile info) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(buffer)) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeLong(info.updatedAt.getEpochSecond());
            out.writeInt(info.updatedAt.getNano());
            out.writeInt(info.labels.size());
            for (Map.Entry<String, String> label : new TreeMap<>(info.labels).entrySet()) {
                writeString(out, label.getKey());
                writeString(out, label.getValue());
            }
        }
        Path dir = file.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(buffer.toByteArray());
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(false);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        IngestFiles.syncDirectory(dir);
    }

    private static void writeString(DataOutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static String readString(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > in.available()) {
            throw new IOException("bad string length " + length);
        }
        return new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
}
