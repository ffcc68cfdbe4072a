package dev.berth.plugin.snapshots.storage;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * The file a {@link MetaStore} keeps its changes in: checksummed records appended to one file whose
 * space is written (with zeros) before it is used, so a change costs one write and one
 * {@code fdatasync} of blocks the file already has. The file's size and the directory do not change
 * with a record, so the file system has no metadata to commit with it; a file replaced by rename
 * for every change (and its directory synced) costs two journal commits instead.
 *
 * <p>Layout: a 16-byte magic, then records, each 8-byte aligned: the payload's length (4 bytes), a
 * CRC-32C of the sequence number and payload (4), a sequence number (8, one more than the previous
 * record's), the payload, zeros to the alignment. Zeros follow the last record up to the end of the file.
 *
 * <p>A change is acknowledged once its record is synced, and the next starts after that, so a crash
 * can only leave the last record incomplete. Opening stops at the first record that does not check
 * and zeros the rest of the file; but if a record that checks (with a later sequence number) follows
 * it, the file was damaged after it was written, and opening fails rather than drop those records.
 *
 * <p>When a record does not fit, the live records (from the store's memory) are written to a new
 * file twice their size or more, which replaces the old one by rename.
 *
 * <p>Not thread-safe: the store calls it under its lock. One process at a time: the file is locked.
 */
final class MetaLog implements AutoCloseable {
    static final String FILE = "snapshots.log";
    static final int MIN_CAPACITY = 256 * 1024;
    private static final byte[] MAGIC = "berth snapshots\n".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = 16;
    private static final int ALIGN = 8;
    /** Larger than any record of a snapshot: its labels are bounded by the API's message size. */
    private static final int MAX_PAYLOAD = 64 << 20;
    private static final byte[] ZEROS = new byte[64 * 1024];

    private final Path directory;
    private final Path file;
    private final Supplier<List<byte[]>> live;
    private FileChannel channel;
    /** Where the next record goes; zeros from here to {@link #capacity}. */
    private long position;
    private long capacity;
    /** The sequence number of the last record, or of the record before the first. */
    private long sequence;

    private MetaLog(Path directory, Supplier<List<byte[]>> live) {
        this.directory = directory;
        this.file = directory.resolve(FILE);
        this.live = live;
    }

    /**
     * Opens the log in {@code directory}, creating it if there is none, and gives {@code replay} each
     * record's payload in order. {@code live} gives, whenever the log is rewritten, the payloads that
     * make up the store's whole state.
     */
    static MetaLog open(Path directory, Consumer<ByteBuffer> replay, Supplier<List<byte[]>> live) throws IOException {
        requireNonNull(replay, "replay is null");
        requireNonNull(live, "live is null");
        MetaLog log = new MetaLog(directory, live);
        Files.deleteIfExists(log.temp());
        if (!Files.exists(log.file)) {
            log.writeFile(List.of(), 0, MIN_CAPACITY);
        }
        log.attach(FileChannel.open(log.file, StandardOpenOption.READ, StandardOpenOption.WRITE));
        try {
            log.replay(replay);
        } catch (IOException | RuntimeException e) {
            log.close();
            throw e;
        }
        return log;
    }

    /** Appends one record and syncs it. */
    void append(byte[] payload) throws IOException {
        requireNonNull(payload, "payload is null");
        if (payload.length == 0 || payload.length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("a record of " + payload.length + " bytes");
        }
        if (position + aligned(payload.length) > capacity) {
            rewrite(aligned(payload.length));
        }
        ByteBuffer record = record(sequence + 1, payload);
        long at = position;
        while (record.hasRemaining()) {
            at += channel.write(record, at);
        }
        channel.force(false);
        position = at;
        sequence++;
    }

    /** Writes the live records to a new file, with room for {@code room} more bytes and as many again. */
    void rewrite(long room) throws IOException {
        List<byte[]> payloads = live.get();
        long size = MAGIC.length;
        for (byte[] payload : payloads) {
            size += aligned(payload.length);
        }
        long wanted = 2 * (size + room);
        long newCapacity = Math.max(MIN_CAPACITY, (wanted + ZEROS.length - 1) / ZEROS.length * ZEROS.length);
        // the new file starts after this one's sequence, so no record of either can pass for the other's
        long first = sequence + 1;
        long end = writeFile(payloads, first, newCapacity);
        close();
        attach(FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE));
        position = end;
        capacity = newCapacity;
        sequence = first + payloads.size() - 1;
    }

    @Override
    public void close() throws IOException {
        FileChannel open = channel;
        channel = null;
        if (open != null) {
            open.close(); // releases the lock
        }
    }

    private void attach(FileChannel opened) throws IOException {
        FileLock taken;
        try {
            taken = opened.tryLock();
        } catch (OverlappingFileLockException e) {
            taken = null;
        } catch (IOException | RuntimeException e) {
            opened.close();
            throw e;
        }
        if (taken == null) {
            opened.close();
            throw new IOException(file + " is in use by another snapshotter");
        }
        channel = opened;
    }

    private void replay(Consumer<ByteBuffer> replay) throws IOException {
        long size = channel.size();
        if (size > Integer.MAX_VALUE - 8) {
            throw new IOException(file + ": " + size + " bytes is too large for snapshot metadata");
        }
        ByteBuffer all = ByteBuffer.allocate((int) size).order(ByteOrder.BIG_ENDIAN);
        while (all.hasRemaining()) {
            if (channel.read(all, all.position()) < 0) {
                break;
            }
        }
        all.flip();
        if (all.remaining() < MAGIC.length || !Arrays.equals(MAGIC, 0, MAGIC.length, all.array(), 0, MAGIC.length)) {
            throw new IOException(file + " is not a snapshot metadata log");
        }
        int at = MAGIC.length;
        boolean first = true;
        while (true) {
            long found = check(all, at, first ? Long.MIN_VALUE : sequence + 1);
            if (found < 0) {
                break;
            }
            int length = all.getInt(at);
            if (first) {
                sequence = all.getLong(at + 8) - 1;
                first = false;
            }
            replay.accept(all.slice(at + HEADER, length).asReadOnlyBuffer());
            sequence++;
            at += (int) aligned(length);
        }
        endAt(all, at);
        position = at;
        capacity = size;
    }

    /**
     * The log ends at {@code at}: nothing after it may check as a later record (the file was damaged
     * there), and what is not zero is the unacknowledged rest of the last change, zeroed now.
     */
    private void endAt(ByteBuffer all, int at) throws IOException {
        int lastNonZero = -1;
        for (int i = all.limit() - 1; i >= at; i--) {
            if (all.get(i) != 0) {
                lastNonZero = i;
                break;
            }
        }
        if (lastNonZero < 0) {
            return;
        }
        for (int later = at + ALIGN; later + HEADER <= all.limit(); later += ALIGN) {
            if (check(all, later, Long.MIN_VALUE) > sequence) {
                throw new IOException(file + ": the record at offset " + at + " is damaged, and records after it are intact;"
                        + " refusing to drop them (restore the file or remove it to start with no snapshots)");
            }
        }
        long zeroed = at;
        while (zeroed <= lastNonZero) {
            int n = (int) Math.min(ZEROS.length, lastNonZero + 1 - zeroed);
            zeroed += channel.write(ByteBuffer.wrap(ZEROS, 0, n), zeroed);
        }
        channel.force(false);
    }

    /**
     * The sequence number of the record at {@code at} if it checks (and has sequence number
     * {@code expected}, unless that is {@link Long#MIN_VALUE}); otherwise -1.
     */
    private static long check(ByteBuffer all, int at, long expected) {
        if (at + HEADER > all.limit()) {
            return -1;
        }
        int length = all.getInt(at);
        if (length <= 0 || length > MAX_PAYLOAD || length > all.limit() - at - HEADER) {
            return -1;
        }
        long sequence = all.getLong(at + 8);
        if (sequence <= 0 || (expected != Long.MIN_VALUE && sequence != expected)) {
            return -1;
        }
        CRC32C crc = new CRC32C();
        crc.update(all.array(), at + 8, 8 + length);
        return (int) crc.getValue() == all.getInt(at + 4) ? sequence : -1;
    }

    /** Writes a complete log file of {@code payloads} by rename; returns where its next record goes. */
    private long writeFile(List<byte[]> payloads, long firstSequence, long size) throws IOException {
        Path temp = temp();
        long end;
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            end = writeFully(out, ByteBuffer.wrap(MAGIC), 0);
            long next = firstSequence;
            for (byte[] payload : payloads) {
                end = writeFully(out, record(next++, payload), end);
            }
            for (long at = end; at < size; ) {
                at = writeFully(out, ByteBuffer.wrap(ZEROS, 0, (int) Math.min(ZEROS.length, size - at)), at);
            }
            out.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
        return end;
    }

    private static long writeFully(FileChannel out, ByteBuffer buffer, long at) throws IOException {
        while (buffer.hasRemaining()) {
            at += out.write(buffer, at);
        }
        return at;
    }

    private static ByteBuffer record(long sequence, byte[] payload) {
        ByteBuffer record = ByteBuffer.allocate((int) aligned(payload.length)).order(ByteOrder.BIG_ENDIAN);
        record.putInt(0, payload.length);
        record.putLong(8, sequence);
        record.put(HEADER, payload);
        CRC32C crc = new CRC32C();
        crc.update(record.array(), 8, 8 + payload.length);
        record.putInt(4, (int) crc.getValue());
        return record;
    }

    private static long aligned(int payloadLength) {
        return (HEADER + (long) payloadLength + ALIGN - 1) / ALIGN * ALIGN;
    }

    private Path temp() {
        return directory.resolve(FILE + ".tmp");
    }
}
