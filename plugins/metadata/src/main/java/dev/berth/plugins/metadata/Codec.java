package dev.berth.plugins.metadata;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Keys and values of the LMDB schema. A key is its parts joined by NUL; no part contains NUL
 * (namespaces, digests and refs cannot), and a part longer than {@link #MAX_PART} bytes, which
 * would not fit LMDB's 511-byte key limit, is replaced by {@code \1} and its SHA-256. The full
 * text always lives in the value too, so nothing is ever read back from a key.
 */
final class Codec {
    static final int MAX_PART = 160;
    private static final int VERSION = 1;

    private Codec() {}

    static byte[] key(String... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                out.write(0);
            }
            out.writeBytes(part(parts[i]));
        }
        return out.toByteArray();
    }

    /** The prefix shared by every key that starts with {@code parts}. */
    static byte[] prefix(String... parts) {
        byte[] key = key(parts);
        byte[] prefix = Arrays.copyOf(key, key.length + 1);
        prefix[key.length] = 0;
        return prefix;
    }

    private static byte[] part(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_PART && (bytes.length == 0 || bytes[0] != 1)) {
            return bytes;
        }
        try {
            byte[] sum = MessageDigest.getInstance("SHA-256").digest(bytes);
            return ("\1" + HexFormat.of().formatHex(sum)).getBytes(StandardCharsets.US_ASCII);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    /** Builds a value: a version byte then fields written by {@code body}. */
    static byte[] value(IoConsumer<DataOutputStream> body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            body.accept(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static <T> T read(byte[] value, IoFunction<DataInputStream, T> body) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value))) {
            int version = in.readUnsignedByte();
            if (version != VERSION) {
                throw new IllegalStateException("metadata value of unknown version " + version);
            }
            return body.apply(in);
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt metadata value", e);
        }
    }

    static void writeString(DataOutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    static String readString(DataInputStream in) throws IOException {
        return new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
    }

    static void writeInstant(DataOutputStream out, Instant instant) throws IOException {
        out.writeLong(instant.getEpochSecond());
        out.writeInt(instant.getNano());
    }

    static Instant readInstant(DataInputStream in) throws IOException {
        return Instant.ofEpochSecond(in.readLong(), in.readInt());
    }

    static void writeOptional(DataOutputStream out, Optional<String> text) throws IOException {
        out.writeBoolean(text.isPresent());
        if (text.isPresent()) {
            writeString(out, text.get());
        }
    }

    static Optional<String> readOptional(DataInputStream in) throws IOException {
        return in.readBoolean() ? Optional.of(readString(in)) : Optional.empty();
    }

    static void writeLabels(DataOutputStream out, Map<String, String> labels) throws IOException {
        out.writeInt(labels.size());
        for (var entry : new TreeMap<>(labels).entrySet()) {
            writeString(out, entry.getKey());
            writeString(out, entry.getValue());
        }
    }

    static Map<String, String> readLabels(DataInputStream in) throws IOException {
        int count = in.readInt();
        Map<String, String> labels = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            labels.put(readString(in), readString(in));
        }
        return labels;
    }

    @FunctionalInterface
    interface IoConsumer<T> {
        void accept(T value) throws IOException;
    }

    @FunctionalInterface
    interface IoFunction<T, R> {
        R apply(T value) throws IOException;
    }
}
