package dev.berth.plugins.content;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.BerthException.Kind;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.content.IngestStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One open ingest: appends to {@code ingest/<key>/data} while hashing incrementally, so commit
 * costs one sync and one rename rather than a second pass over the bytes.
 */
final class LocalContentWriter implements ContentWriter {
    private static final Logger log = LoggerFactory.getLogger(LocalContentWriter.class);
    private static final int REHASH_BUFFER = 1 << 20;

    private final LocalContentStore store;
    private final Path dir;
    private final String ref;
    private final LocalContentStore.IngestLock lock;
    private final MessageDigest hasher;
    private final long total;
    private final Optional<Digest> expected;
    private final Instant startedAt;
    private FileChannel channel; // null once closed or committed
    private volatile long offset;
    private volatile Instant updatedAt;

    private LocalContentWriter(LocalContentStore store, Path dir, String ref, LocalContentStore.IngestLock lock,
            MessageDigest hasher, FileChannel channel, long offset, long total, Optional<Digest> expected,
            Instant startedAt, Instant updatedAt) {
        this.store = store;
        this.dir = dir;
        this.ref = ref;
        this.lock = lock;
        this.hasher = hasher;
        this.channel = channel;
        this.offset = offset;
        this.total = total;
        this.expected = expected;
        this.startedAt = startedAt;
        this.updatedAt = updatedAt;
    }

    /** Resumes the ingest in {@code dir} if it is intact and compatible, or starts it afresh. The caller holds its lock. */
    static LocalContentWriter open(LocalContentStore store, Path dir, String ref, long total, Optional<Digest> expected,
            LocalContentStore.IngestLock lock) throws IOException {
        MessageDigest hasher = Digest.hasher(Digest.CANONICAL);
        Path data = dir.resolve(IngestFiles.DATA);
        IngestStatus prior = Files.isDirectory(dir) ? IngestFiles.readStatus(dir, ref) : null;
        if (prior != null && total > 0 && prior.total() > 0 && total != prior.total()) {
            log.info("ingest ref \"{}\": total {} differs from recorded {}; starting again", ref, total, prior.total());
            prior = null;
        }
        if (prior != null) {
            FileChannel channel = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                long offset = rehash(channel, hasher, channel.size());
                channel.position(offset);
                long effectiveTotal = prior.total() > 0 ? prior.total() : Math.max(total, 0);
                if (effectiveTotal != prior.total()) {
                    IngestFiles.write(dir.resolve(IngestFiles.TOTAL), Long.toString(effectiveTotal));
                }
                Optional<Digest> effectiveExpected = expected.isPresent() ? expected : prior.expected();
                if (!effectiveExpected.equals(prior.expected())) {
                    IngestFiles.write(dir.resolve(IngestFiles.EXPECTED), effectiveExpected.get().toString());
                }
                return new LocalContentWriter(store, dir, ref, lock, hasher, channel, offset, effectiveTotal,
                        effectiveExpected, prior.startedAt(), prior.updatedAt());
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }
        Files.createDirectories(dir);
        Files.deleteIfExists(data);
        Instant now = store.clock.instant();
        IngestFiles.write(dir.resolve(IngestFiles.REF), ref);
        IngestFiles.writeInstant(dir.resolve(IngestFiles.STARTED_AT), now);
        IngestFiles.writeInstant(dir.resolve(IngestFiles.UPDATED_AT), now);
        long effectiveTotal = Math.max(total, 0);
        if (effectiveTotal > 0) {
            IngestFiles.write(dir.resolve(IngestFiles.TOTAL), Long.toString(effectiveTotal));
        } else {
            Files.deleteIfExists(dir.resolve(IngestFiles.TOTAL));
        }
        if (expected.isPresent()) {
            IngestFiles.write(dir.resolve(IngestFiles.EXPECTED), expected.get().toString());
        } else {
            Files.deleteIfExists(dir.resolve(IngestFiles.EXPECTED));
        }
        // data comes last: a directory without it is an ingest whose creation did not finish
        FileChannel channel = FileChannel.open(data, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        return new LocalContentWriter(store, dir, ref, lock, hasher, channel, 0, effectiveTotal, expected, now, now);
    }

    private static long rehash(FileChannel channel, MessageDigest hasher, long length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(REHASH_BUFFER, Math.max(length, 1)));
        long position = 0;
        while (position < length) {
            buffer.clear();
            buffer.limit((int) Math.min(buffer.capacity(), length - position));
            int n = channel.read(buffer, position);
            if (n < 0) {
                break;
            }
            hasher.update(buffer.array(), 0, n);
            position += n;
        }
        return position;
    }

    @Override
    public Digest digest() {
        try {
            return Digest.of(Digest.CANONICAL, ((MessageDigest) hasher.clone()).digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("the JDK's SHA-256 is expected to be cloneable", e);
        }
    }

    @Override
    public IngestStatus status() {
        return new IngestStatus(ref, offset, total, expected, startedAt, updatedAt);
    }

    @Override
    public void write(ByteBuffer src) {
        FileChannel open = requireOpen("write to");
        int start = src.position();
        int length = src.remaining();
        try {
            while (src.hasRemaining()) {
                open.write(src);
            }
        } catch (IOException e) {
            abandon();
            throw new UncheckedIOException("ingest ref \"" + ref + "\": write failed", e);
        }
        if (src.hasArray()) {
            hasher.update(src.array(), src.arrayOffset() + start, length);
        } else {
            hasher.update(src.duplicate().position(start).limit(start + length));
        }
        offset += length;
        updatedAt = store.clock.instant();
    }

    @Override
    public void commit(long size, Optional<Digest> expectedDigest, Map<String, String> labels) {
        Map<String, String> kept = LocalContentStore.withoutEmptyValues(labels);
        FileChannel open = channel;
        if (open == null) {
            throw BerthException.of(Kind.FAILED_PRECONDITION, "ingest ref \"" + ref + "\": cannot commit on closed writer");
        }
        channel = null;
        try {
            Digest digest = digest();
            if (size > 0 && size != offset) {
                keepForResume(open);
                throw BerthException.of(Kind.FAILED_PRECONDITION, "unexpected commit size " + offset + ", expected " + size);
            }
            if (expectedDigest.isPresent() && !expectedDigest.get().equals(digest)) {
                keepForResume(open);
                throw BerthException.of(Kind.FAILED_PRECONDITION,
                        "unexpected commit digest " + digest + ", expected " + expectedDigest.get());
            }
            Instant committedAt = store.clock.instant();
            Path data = dir.resolve(IngestFiles.DATA);
            try (open) {
                // mode and time are set before the sync so that the rename publishes a finished file
                setReadOnly(data);
                Files.setLastModifiedTime(data, FileTime.from(committedAt));
                open.force(true);
            }
            try {
                store.commit(dir, ref, digest, committedAt, kept);
            } catch (IOException e) {
                // the ingest stays for a retry, which must be able to open the data for writing again
                makeWritable(data);
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("ingest ref \"" + ref + "\": commit failed", e);
        } finally {
            store.release(dir, lock);
        }
    }

    private void keepForResume(FileChannel open) throws IOException {
        try (open) {
            IngestFiles.writeInstant(dir.resolve(IngestFiles.UPDATED_AT), updatedAt);
        }
    }

    private static void setReadOnly(Path data) throws IOException {
        try {
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("r--r--r--"));
        } catch (UnsupportedOperationException notPosix) {
            data.toFile().setReadOnly();
        }
    }

    private void makeWritable(Path data) {
        try {
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (IOException | UnsupportedOperationException e) {
            log.warn("ingest ref \"{}\": cannot make {} writable again", ref, data, e);
        }
    }

    @Override
    public void truncate(long size) {
        FileChannel open = requireOpen("truncate");
        if (size < 0 || size > offset) {
            throw BerthException.of(Kind.INVALID_ARGUMENT,
                    "ingest ref \"" + ref + "\": cannot truncate to " + size + " at offset " + offset);
        }
        try {
            open.truncate(size);
            hasher.reset();
            rehash(open, hasher, size);
            open.position(size);
        } catch (IOException e) {
            abandon();
            throw new UncheckedIOException("ingest ref \"" + ref + "\": truncate failed", e);
        }
        offset = size;
        updatedAt = store.clock.instant();
    }

    @Override
    public void close() {
        FileChannel open = channel;
        if (open == null) {
            return;
        }
        channel = null;
        try {
            // synced so that a resume after a host crash finds what the client was told was written
            try (open) {
                open.force(false);
            }
            IngestFiles.writeInstant(dir.resolve(IngestFiles.UPDATED_AT), updatedAt);
        } catch (IOException e) {
            throw new UncheckedIOException("ingest ref \"" + ref + "\": close failed", e);
        } finally {
            store.release(dir, lock);
        }
    }

    private FileChannel requireOpen(String operation) {
        FileChannel open = channel;
        if (open == null) {
            throw BerthException.of(Kind.FAILED_PRECONDITION, "ingest ref \"" + ref + "\": cannot " + operation + " closed writer");
        }
        return open;
    }

    // After an I/O error the in-memory offset and hash may not match the file; closing makes the
    // next writer re-read the file, which is the truth.
    private void abandon() {
        FileChannel open = channel;
        channel = null;
        try {
            open.close();
        } catch (IOException e) {
            log.warn("ingest ref \"{}\": close after failure failed", ref, e);
        } finally {
            store.release(dir, lock);
        }
    }
}
