package dev.berth.plugins.content;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.BerthException.Kind;
import dev.berth.plugin.CanceledException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.content.ContentInfo;
import dev.berth.plugin.content.ContentReader;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.content.IngestStatus;
import dev.berth.plugin.content.Refs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blobs on local disk, laid out as containerd's local store: {@code blobs/<alg>/<hex>} for
 * committed content and {@code ingest/<sha256 of ref>/} holding {@code data}, {@code ref},
 * {@code startedat}, {@code updatedat}, {@code total} and {@code expected} for each ingest.
 *
 * <p>A blob's creation time is its file's modification time, set from the clock at commit. Its
 * labels and update time live in {@code info/<alg>/<hex>}, written only once a blob has labels or
 * has been updated, always by atomic replacement.
 */
final class LocalContentStore implements ContentStore {
    private static final Logger log = LoggerFactory.getLogger(LocalContentStore.class);

    private static final Set<String> ALGORITHMS = Set.of("sha256", "sha384", "sha512");
    private static final int LOCK_ATTEMPTS = 10;

    // Process-wide and keyed by ingest directory, so that two store objects over one root (a
    // reload, or a restart inside one test) still let only one writer per ref.
    private static final ConcurrentHashMap<Path, IngestLock> LOCKS = new ConcurrentHashMap<>();

    private final Path blobs;
    private final Path ingests;
    private final Path infos;
    final Clock clock;
    // Serialise commit, delete and label updates of one digest without a store-wide lock.
    private final ReentrantLock[] stripes = new ReentrantLock[64];

    private LocalContentStore(Path root, Clock clock) {
        Path absolute = root.toAbsolutePath().normalize();
        this.blobs = absolute.resolve("blobs");
        this.ingests = absolute.resolve("ingest");
        this.infos = absolute.resolve("info");
        this.clock = clock;
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    /** Opens (creating if needed) the store under {@code root} and drops ingests a crash left unusable. */
    static LocalContentStore open(Path root, Clock clock) throws IOException {
        requireNonNull(root, "root is null");
        requireNonNull(clock, "clock is null");
        LocalContentStore store = new LocalContentStore(root, clock);
        Files.createDirectories(store.blobs.resolve(Digest.CANONICAL));
        Files.createDirectories(store.ingests);
        Files.createDirectories(store.infos);
        store.removeBrokenIngests();
        return store;
    }

    // ---- provider and manager -------------------------------------------------------------

    @Override
    public ContentReader readerAt(Digest digest) {
        requireNonNull(digest, "digest is null");
        try {
            return new LocalContentReader(FileChannel.open(blobPath(digest), StandardOpenOption.READ));
        } catch (NoSuchFileException e) {
            throw notFound(digest);
        } catch (IOException e) {
            throw new UncheckedIOException("content " + digest + ": open failed", e);
        }
    }

    @Override
    public ContentInfo info(Digest digest) {
        requireNonNull(digest, "digest is null");
        return infoOf(digest, attributes(digest));
    }

    @Override
    public ContentInfo update(ContentInfo info, List<String> fieldPaths) {
        requireNonNull(info, "info is null");
        requireNonNull(fieldPaths, "fieldPaths is null");
        Digest digest = info.digest();
        ReentrantLock stripe = stripe(digest);
        stripe.lock();
        try {
            BasicFileAttributes attributes = attributes(digest);
            ContentInfo current = infoOf(digest, attributes);
            Map<String, String> labels = updatedLabels(current, info, fieldPaths);
            Instant now = clock.instant();
            BlobInfoFile.write(infoPath(digest), new BlobInfoFile(now, labels));
            return new ContentInfo(digest, attributes.size(), current.createdAt(), now, labels);
        } catch (IOException e) {
            throw new UncheckedIOException("content " + digest + ": update failed", e);
        } finally {
            stripe.unlock();
        }
    }

    private static Map<String, String> updatedLabels(ContentInfo current, ContentInfo requested, List<String> fieldPaths) {
        if (fieldPaths.isEmpty() || fieldPaths.contains("labels")) {
            for (String path : fieldPaths) {
                checkPath(path, requested.digest());
            }
            return withoutEmptyValues(requested.labels());
        }
        Map<String, String> labels = new HashMap<>(current.labels());
        for (String path : fieldPaths) {
            checkPath(path, requested.digest());
            String key = path.substring("labels.".length());
            labels.put(key, requested.labels().getOrDefault(key, ""));
        }
        return withoutEmptyValues(labels);
    }

    private static void checkPath(String path, Digest digest) {
        if (!path.equals("labels") && !(path.startsWith("labels.") && path.length() > "labels.".length())) {
            throw BerthException.of(Kind.INVALID_ARGUMENT,
                    "cannot update \"" + path + "\" field on content info \"" + digest + "\"");
        }
    }

    // As in containerd's metadata, a label set to the empty string does not exist.
    static Map<String, String> withoutEmptyValues(Map<String, String> labels) {
        Map<String, String> kept = new HashMap<>();
        labels.forEach((key, value) -> {
            if (!value.isEmpty()) {
                kept.put(key, value);
            }
        });
        return Map.copyOf(kept);
    }

    @Override
    public void walk(Predicate<? super ContentInfo> filter, Consumer<? super ContentInfo> consumer) {
        requireNonNull(filter, "filter is null");
        requireNonNull(consumer, "consumer is null");
        try (DirectoryStream<Path> algorithms = Files.newDirectoryStream(blobs)) {
            for (Path algorithmDir : algorithms) {
                String algorithm = algorithmDir.getFileName().toString();
                if (ALGORITHMS.contains(algorithm) && Files.isDirectory(algorithmDir)) {
                    walk(algorithm, algorithmDir, filter, consumer);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("content walk failed", e);
        }
    }

    private void walk(String algorithm, Path dir, Predicate<? super ContentInfo> filter,
            Consumer<? super ContentInfo> consumer) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                Digest digest;
                try {
                    digest = new Digest(algorithm, entry.getFileName().toString());
                } catch (InvalidArgumentException e) {
                    log.warn("ignoring {}: not a blob of this store ({})", entry, e.getMessage());
                    continue;
                }
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(entry, BasicFileAttributes.class);
                } catch (NoSuchFileException deletedMeanwhile) {
                    continue;
                }
                ContentInfo info = infoOf(digest, attributes);
                if (filter.test(info)) {
                    consumer.accept(info);
                }
            }
        }
    }

    @Override
    public void delete(Digest digest) {
        requireNonNull(digest, "digest is null");
        ReentrantLock stripe = stripe(digest);
        stripe.lock();
        try {
            Files.delete(blobPath(digest));
            // an info file left behind by a crash here is replaced or removed by the next commit
            Files.deleteIfExists(infoPath(digest));
        } catch (NoSuchFileException e) {
            throw notFound(digest);
        } catch (IOException e) {
            throw new UncheckedIOException("content " + digest + ": delete failed", e);
        } finally {
            stripe.unlock();
        }
    }

    // ---- ingests ----------------------------------------------------------------------------

    @Override
    public IngestStatus status(String ref) {
        Path dir = ingestDir(Refs.validate(ref));
        IngestLock lock = LOCKS.get(dir);
        LocalContentWriter active = lock == null ? null : lock.writer;
        if (active != null) {
            return active.status();
        }
        IngestStatus status = IngestFiles.readStatus(dir, ref);
        if (status == null) {
            throw ingestNotFound(ref);
        }
        return status;
    }

    @Override
    public List<IngestStatus> listStatuses(Predicate<? super IngestStatus> filter) {
        requireNonNull(filter, "filter is null");
        List<IngestStatus> statuses = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(ingests)) {
            for (Path dir : dirs) {
                IngestLock lock = LOCKS.get(dir);
                LocalContentWriter active = lock == null ? null : lock.writer;
                // an ingest being created, committed or aborted meanwhile reads as absent
                IngestStatus status = active != null ? active.status() : IngestFiles.readStatus(dir, null);
                if (status != null && filter.test(status)) {
                    statuses.add(status);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("listing ingests failed", e);
        }
        return statuses;
    }

    @Override
    public void abort(String ref) {
        Path dir = ingestDir(Refs.validate(ref));
        IngestLock lock = acquire(dir, ref);
        try {
            if (!Files.isDirectory(dir)) {
                throw ingestNotFound(ref);
            }
            IngestFiles.deleteTree(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("ingest ref \"" + ref + "\": abort failed", e);
        } finally {
            release(dir, lock);
        }
    }

    @Override
    public ContentWriter writer(String ref, long total, Optional<Digest> expected) {
        Path dir = ingestDir(Refs.validate(ref));
        requireNonNull(expected, "expected is null");
        IngestLock lock = acquire(dir, ref);
        try {
            if (expected.isPresent() && Files.exists(blobPath(expected.get()))) {
                throw BerthException.of(Kind.ALREADY_EXISTS, "content " + expected.get());
            }
            LocalContentWriter writer = LocalContentWriter.open(this, dir, ref, total, expected, lock);
            lock.writer = writer;
            return writer;
        } catch (IOException e) {
            release(dir, lock);
            throw new UncheckedIOException("ingest ref \"" + ref + "\": open failed", e);
        } catch (RuntimeException | Error e) {
            release(dir, lock);
            throw e;
        }
    }

    /**
     * Moves a verified ingest into place. The data file already carries its final mode and
     * modification time and has been synced, so the rename is the only step a reader can see.
     */
    void commit(Path dir, String ref, Digest digest, Instant committedAt, Map<String, String> labels) throws IOException {
        Path target = blobPath(digest);
        Files.createDirectories(target.getParent());
        ReentrantLock stripe = stripe(digest);
        stripe.lock();
        try {
            if (Files.exists(target)) {
                IngestFiles.deleteTree(dir);
                throw BerthException.of(Kind.ALREADY_EXISTS, "content " + digest);
            }
            Path info = infoPath(digest);
            if (labels.isEmpty()) {
                Files.deleteIfExists(info);
            } else {
                // written before the blob appears, so a visible blob always has its labels
                BlobInfoFile.write(info, new BlobInfoFile(committedAt, labels));
            }
            Files.move(dir.resolve("data"), target, StandardCopyOption.ATOMIC_MOVE);
            IngestFiles.syncDirectory(target.getParent());
        } finally {
            stripe.unlock();
        }
        try {
            IngestFiles.deleteTree(dir);
        } catch (IOException e) {
            // the blob is committed; the leftover directory has no data and is dropped on the next open
            log.warn("ingest ref \"{}\": committed {} but could not remove {}", ref, digest, dir, e);
        }
    }

    // ---- locking ----------------------------------------------------------------------------

    /** Holds a ref exclusively; {@code writer} is set once a writer is open under it. */
    static final class IngestLock {
        final Instant since;
        volatile LocalContentWriter writer;

        IngestLock(Instant since) {
            this.since = since;
        }
    }

    // Retries briefly, as containerd does, because a client that reconnects after losing its
    // stream often arrives before the server has closed the old writer.
    private IngestLock acquire(Path dir, String ref) {
        IngestLock mine = new IngestLock(clock.instant());
        for (int attempt = 0; ; attempt++) {
            IngestLock held = LOCKS.putIfAbsent(dir, mine);
            if (held == null) {
                return mine;
            }
            if (attempt == LOCK_ATTEMPTS - 1) {
                Duration age = Duration.between(held.since, clock.instant());
                throw BerthException.of(Kind.UNAVAILABLE,
                        "ref " + ref + " locked for " + age + " (since " + held.since + ")");
            }
            try {
                Thread.sleep(ThreadLocalRandom.current().nextInt(1 << attempt));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CanceledException("ref " + ref + ": interrupted while waiting for its lock: canceled", e);
            }
        }
    }

    void release(Path dir, IngestLock lock) {
        LOCKS.remove(dir, lock);
    }

    // ---- layout -----------------------------------------------------------------------------

    Path blobPath(Digest digest) {
        return blobs.resolve(digest.algorithm()).resolve(digest.hex());
    }

    private Path infoPath(Digest digest) {
        return infos.resolve(digest.algorithm()).resolve(digest.hex());
    }

    // The ref is hashed, as containerd does, so that any ref (even "../x") maps to one fixed-length
    // name inside ingest/.
    private Path ingestDir(String ref) {
        return ingests.resolve(Digest.sha256(ref.getBytes(StandardCharsets.UTF_8)).hex());
    }

    private ReentrantLock stripe(Digest digest) {
        return stripes[Math.floorMod(digest.hex().hashCode(), stripes.length)];
    }

    private BasicFileAttributes attributes(Digest digest) {
        try {
            return Files.readAttributes(blobPath(digest), BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw notFound(digest);
        } catch (IOException e) {
            throw new UncheckedIOException("content " + digest + ": stat failed", e);
        }
    }

    private ContentInfo infoOf(Digest digest, BasicFileAttributes attributes) {
        Instant createdAt = attributes.lastModifiedTime().toInstant();
        BlobInfoFile extra = BlobInfoFile.read(infoPath(digest));
        if (extra == null) {
            return new ContentInfo(digest, attributes.size(), createdAt, createdAt, Map.of());
        }
        return new ContentInfo(digest, attributes.size(), createdAt, extra.updatedAt(), extra.labels());
    }

    private void removeBrokenIngests() throws IOException {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(ingests)) {
            for (Path dir : dirs) {
                if (!LOCKS.containsKey(dir) && IngestFiles.readStatus(dir, null) == null) {
                    log.info("removing incomplete ingest {}", dir.getFileName());
                    IngestFiles.deleteTree(dir);
                }
            }
        }
    }

    private static BerthException notFound(Digest digest) {
        return BerthException.of(Kind.NOT_FOUND, "content " + digest);
    }

    static BerthException ingestNotFound(String ref) {
        return BerthException.of(Kind.NOT_FOUND, "ingest ref \"" + ref + "\"");
    }
}
