package dev.berth.plugin.snapshots.storage;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.snapshots.Kind;
import dev.berth.plugin.snapshots.Usage;
import dev.berth.plugin.snapshots.storage.MetaStore.Stored;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * How a {@link MetaStore} writes its snapshots down: the payloads of its {@link MetaLog} records (a
 * snapshot as it now is, or a snapshot's removal), and the per-snapshot files of the earlier layout,
 * which it reads once to move them into the log.
 */
final class StoredRecords {
    private static final byte PUT = 1;
    private static final byte DELETE = 2;

    private StoredRecords() {}

    /**
     * Reads one record, giving the snapshot it stores to {@code put} or the id it removes to
     * {@code delete}.
     *
     * @throws IllegalArgumentException if the record is not one of these
     */
    static void read(ByteBuffer record, Consumer<Stored> put, LongConsumer delete) {
        byte op = record.get();
        if (op == DELETE) {
            delete.accept(record.getLong());
        } else if (op == PUT) {
            put.accept(decode(record));
        } else {
            throw new IllegalArgumentException("unknown record type " + op);
        }
        if (record.hasRemaining()) {
            throw new IllegalArgumentException(record.remaining() + " bytes after the record");
        }
    }

    /** The record of a snapshot's removal. */
    static byte[] deletion(long id) {
        return ByteBuffer.allocate(9).put(DELETE).putLong(id).array();
    }

    /** The record of a snapshot as it now is. */
    static byte[] put(Stored stored) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(PUT);
            out.writeLong(stored.id());
            writeString(out, stored.kind().name());
            writeString(out, stored.name());
            out.writeLong(stored.parent());
            out.writeLong(stored.created().getEpochSecond());
            out.writeInt(stored.created().getNano());
            out.writeLong(stored.updated().getEpochSecond());
            out.writeInt(stored.updated().getNano());
            out.writeLong(stored.usage().inodes());
            out.writeLong(stored.usage().size());
            out.writeInt(stored.labels().size());
            for (Map.Entry<String, String> label : new TreeMap<>(stored.labels()).entrySet()) {
                writeString(out, label.getKey());
                writeString(out, label.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    private static Stored decode(ByteBuffer in) {
        long id = in.getLong();
        Kind kind = Kind.valueOf(readString(in));
        String name = readString(in);
        long parent = in.getLong();
        Instant created = Instant.ofEpochSecond(in.getLong(), in.getInt());
        Instant updated = Instant.ofEpochSecond(in.getLong(), in.getInt());
        Usage usage = new Usage(in.getLong(), in.getLong());
        int count = in.getInt();
        if (count < 0 || count > in.remaining() / 8) {
            throw new IllegalArgumentException("a count of " + count + " labels");
        }
        Map<String, String> labels = new HashMap<>();
        for (int i = 0; i < count; i++) {
            labels.put(readString(in), readString(in));
        }
        return new Stored(id, kind, name, parent, Map.copyOf(labels), created, updated, usage);
    }

    private static void writeString(DataOutputStream out, String value) throws IOException {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static String readString(ByteBuffer in) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw new IllegalArgumentException("a string of " + length + " bytes");
        }
        byte[] utf8 = new byte[length];
        in.get(utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }

    /** A snapshot's file of the earlier layout: a properties file named by its id. */
    static Stored readLegacy(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        try {
            Map<String, String> labels = new HashMap<>();
            for (String key : properties.stringPropertyNames()) {
                if (key.startsWith("label.")) {
                    labels.put(key.substring("label.".length()), properties.getProperty(key));
                }
            }
            return new Stored(
                    Long.parseLong(properties.getProperty("id")),
                    Kind.valueOf(properties.getProperty("kind")),
                    requireNonNull(properties.getProperty("name"), "name"),
                    Long.parseLong(properties.getProperty("parent")),
                    Map.copyOf(labels),
                    Instant.parse(properties.getProperty("created")),
                    Instant.parse(properties.getProperty("updated")),
                    new Usage(Long.parseLong(properties.getProperty("inodes")), Long.parseLong(properties.getProperty("size"))));
        } catch (RuntimeException e) {
            throw new IOException("corrupt snapshot metadata " + file + ": " + e.getMessage(), e);
        }
    }
}
