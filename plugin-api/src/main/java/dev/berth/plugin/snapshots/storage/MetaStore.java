package dev.berth.plugin.snapshots.storage;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.UnavailableException;
import dev.berth.plugin.snapshots.Kind;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugin.snapshots.Usage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The bookkeeping of a snapshotter, after containerd's {@code snapshots/storage}: which keys and
 * names exist, their kinds, parents, labels, timestamps and recorded usage, and the backend id of
 * each snapshot (the name of its directory, which a snapshot keeps when it is committed).
 *
 * <p>Every change is one record appended to a log and synced before the change returns (see
 * {@link MetaLog}), so every operation is durable when it returns and a crash leaves each snapshot
 * either before or after a change. Parents are recorded by id. The whole set is kept in memory. One
 * lock orders all changes, and holds only their own records' writes: nothing slow (copying,
 * measuring) happens under it. {@link #get} and {@link #mountable} take no lock at all: they see each
 * snapshot as of its last completed change, and never wait for one in progress (see
 * {@link dev.berth.plugin.snapshots.Snapshotter#nonBlockingReads}).
 *
 * <p>A directory written by an earlier version, with one {@code .properties} file per snapshot, is
 * moved into the log when it is opened.
 *
 * <p>Errors are those of the {@link dev.berth.plugin.snapshots.Snapshotter} contract, so a
 * snapshotter can let them through.
 */
public final class MetaStore implements AutoCloseable {
    /** The files of the earlier layout, one per snapshot. */
    private static final String LEGACY_SUFFIX = ".properties";

    /**
     * A snapshot as a snapshotter needs it to build mounts.
     *
     * @param id        its backend id
     * @param kind      its kind
     * @param parentIds the ids of its parents, nearest first
     */
    public record Snapshot(String id, Kind kind, List<String> parentIds) {
        public Snapshot {
            requireNonNull(id, "id is null");
            requireNonNull(kind, "kind is null");
            parentIds = List.copyOf(parentIds);
        }
    }

    /**
     * A snapshot's information with its backend id and recorded usage.
     *
     * @param id    its backend id
     * @param info  what the contract shows of it
     * @param usage the usage recorded at commit; none for active snapshots and views
     */
    public record Entry(String id, SnapshotInfo info, Usage usage) {
        public Entry {
            requireNonNull(id, "id is null");
            requireNonNull(info, "info is null");
            requireNonNull(usage, "usage is null");
        }
    }

    /** A snapshot as the store keeps it; {@link StoredRecords} writes and reads it. */
    record Stored(long id, Kind kind, String name, long parent, Map<String, String> labels, Instant created,
            Instant updated, Usage usage) {
        static final long NO_PARENT = 0;

        Stored with(Kind newKind, String newName, Map<String, String> newLabels, Instant newCreated,
                Instant newUpdated, Usage newUsage) {
            return new Stored(id, newKind, newName, parent, newLabels, newCreated, newUpdated, newUsage);
        }
    }

    private final Path directory;
    private final Clock clock;
    private final Object lock = new Object();
    // written under the lock, read without it by get and mountable
    private final Map<String, Stored> byName = new ConcurrentHashMap<>();
    private final Map<Long, Stored> byId = new ConcurrentHashMap<>();
    /** Children per parent id, counting creations not yet complete. */
    private final Map<Long, Integer> children = new HashMap<>();
    /** Keys and ids of creations not yet complete. */
    private final Map<String, Long> reserved = new HashMap<>();
    private long lastId;
    private MetaLog log;
    private volatile boolean closed;

    private MetaStore(Path directory, Clock clock) {
        this.directory = directory;
        this.clock = clock;
    }

    /** Opens (creating if needed) the store kept in {@code directory}, taking time from {@code clock}. */
    public static MetaStore open(Path directory, Clock clock) {
        requireNonNull(directory, "directory is null");
        requireNonNull(clock, "clock is null");
        MetaStore store = new MetaStore(directory, clock);
        try {
            Files.createDirectories(directory);
            store.load();
        } catch (IOException e) {
            throw new UncheckedIOException("open snapshot metadata in " + directory, e);
        }
        return store;
    }

    private void load() throws IOException {
        List<Path> legacyFiles = new ArrayList<>();
        List<Stored> legacy = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.endsWith(LEGACY_SUFFIX + ".tmp")) {
                    // A change that never reached its rename: the previous version still stands.
                    Files.delete(file);
                } else if (name.endsWith(LEGACY_SUFFIX)) {
                    legacyFiles.add(file);
                    legacy.add(StoredRecords.readLegacy(file));
                }
            }
        }
        log = MetaLog.open(directory, this::apply, this::payloads);
        try {
            if (!legacyFiles.isEmpty()) {
                // A move interrupted after its rewrite left these records in the log already: the log's copies stand.
                legacy.stream().filter(stored -> !byId.containsKey(stored.id())).forEach(this::replace);
                log.rewrite(0);
                for (Path file : legacyFiles) {
                    Files.delete(file);
                }
                syncDirectory();
            }
            for (Stored stored : byId.values()) {
                lastId = Math.max(lastId, stored.id());
                if (stored.parent() != Stored.NO_PARENT) {
                    if (!byId.containsKey(stored.parent())) {
                        throw new IOException("snapshot " + stored.name() + " has a missing parent (id " + stored.parent() + ")");
                    }
                    children.merge(stored.parent(), 1, Integer::sum);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.close();
            throw e;
        }
    }

    /**
     * The snapshot with this key or name.
     *
     * @throws NotFoundException if there is none
     */
    public Entry get(String key) {
        Stored stored = require(key);
        SnapshotInfo info = info(stored);
        if (info == null) {
            // removed, and then its parent, since it was looked up: look again as the changes left it
            synchronized (lock) {
                stored = require(key);
                info = info(stored);
            }
        }
        return new Entry(Long.toString(stored.id()), info, stored.usage());
    }

    /**
     * The active snapshot or view with this key, with its parent chain.
     *
     * @throws NotFoundException           if there is none
     * @throws FailedPreconditionException if it is committed
     */
    public Snapshot mountable(String key) {
        Stored stored = require(key);
        if (stored.kind() == Kind.COMMITTED) {
            // containerd's words
            throw new FailedPreconditionException("failed to get active mount: requested snapshot " + key
                    + " not active or view: failed precondition");
        }
        List<String> parentIds = parentIds(stored.parent());
        if (parentIds == null) {
            // removed, and then a parent, since it was looked up: look again as the changes left it
            synchronized (lock) {
                return mountable(key);
            }
        }
        return new Snapshot(Long.toString(stored.id()), stored.kind(), parentIds);
    }

    /**
     * Reserves {@code key} for a new active snapshot or view and gives it an id. Nothing is
     * recorded until {@link Creation#complete()}; until then the key is taken, the parent counts
     * the new snapshot as a child, and closing the creation releases both.
     *
     * @throws InvalidArgumentException if the kind is committed, the key is empty, or the parent is not committed
     * @throws NotFoundException        if the parent does not exist
     * @throws AlreadyExistsException   if the key is taken
     */
    public Creation create(Kind kind, String key, String parent, Map<String, String> labels) {
        requireNonNull(kind, "kind is null");
        requireNonNull(key, "key is null");
        requireNonNull(parent, "parent is null");
        requireNonNull(labels, "labels is null");
        if (kind == Kind.COMMITTED) {
            throw new InvalidArgumentException("snapshot " + key + ": only active snapshots and views can be created");
        }
        if (key.isEmpty()) {
            throw new InvalidArgumentException("snapshot key is empty");
        }
        synchronized (lock) {
            checkOpen();
            long parentId = Stored.NO_PARENT;
            if (!parent.isEmpty()) {
                Stored stored = byName.get(parent);
                if (stored == null) {
                    throw new NotFoundException("parent snapshot " + parent + ": not found");
                }
                if (stored.kind() != Kind.COMMITTED) {
                    throw new InvalidArgumentException("failed to create snapshot: parent \"" + parent
                            + "\" is not committed snapshot: invalid argument");
                }
                parentId = stored.id();
            }
            if (byName.containsKey(key) || reserved.containsKey(key)) {
                throw new AlreadyExistsException("snapshot " + key + ": already exists");
            }
            long id = ++lastId;
            reserved.put(key, id);
            if (parentId != Stored.NO_PARENT) {
                children.merge(parentId, 1, Integer::sum);
            }
            Map<String, String> kept = withoutEmptyValues(labels);
            return new Creation(new Snapshot(Long.toString(id), kind, parentIds(parentId)), kind, key, parentId, kept);
        }
    }

    /** A snapshot being created: see {@link #create}. */
    public final class Creation implements AutoCloseable {
        private final Snapshot snapshot;
        private final Kind kind;
        private final String key;
        private final long parentId;
        private final Map<String, String> labels;
        private boolean done;

        private Creation(Snapshot snapshot, Kind kind, String key, long parentId, Map<String, String> labels) {
            this.snapshot = snapshot;
            this.kind = kind;
            this.key = key;
            this.parentId = parentId;
            this.labels = labels;
        }

        /** The id and parent chain of the snapshot being created. */
        public Snapshot snapshot() {
            return snapshot;
        }

        /** Records the snapshot durably; from now on it exists. */
        public void complete() {
            synchronized (lock) {
                if (done) {
                    throw new IllegalStateException("creation of " + key + " already ended");
                }
                checkOpen();
                Instant now = clock.instant();
                Stored stored = new Stored(Long.parseLong(snapshot.id()), kind, key, parentId, labels, now, now, Usage.NONE);
                write(stored);
                reserved.remove(key);
                byName.put(key, stored);
                byId.put(stored.id(), stored);
                done = true;
            }
        }

        /** Releases the key and the parent if the creation was not completed. */
        @Override
        public void close() {
            synchronized (lock) {
                if (!done) {
                    done = true;
                    reserved.remove(key);
                    releaseChild(parentId);
                }
            }
        }
    }

    /**
     * Updates labels as {@link dev.berth.plugin.snapshots.Snapshotter#update} describes.
     *
     * @throws NotFoundException        if there is no such snapshot
     * @throws InvalidArgumentException if a path names anything but labels
     */
    public SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths) {
        requireNonNull(info, "info is null");
        requireNonNull(fieldPaths, "fieldPaths is null");
        synchronized (lock) {
            checkOpen();
            Stored stored = require(info.name());
            Map<String, String> labels;
            if (fieldPaths.isEmpty()) {
                labels = new HashMap<>(info.labels());
            } else {
                labels = new HashMap<>(stored.labels());
                for (String path : fieldPaths) {
                    if (path.startsWith("labels.")) {
                        String key = path.substring("labels.".length());
                        String value = info.labels().get(key);
                        if (value == null) {
                            labels.remove(key);
                        } else {
                            labels.put(key, value);
                        }
                    } else if (path.equals("labels")) {
                        labels = new HashMap<>(info.labels());
                    } else {
                        throw new InvalidArgumentException("cannot update field " + path + " of snapshot " + info.name());
                    }
                }
            }
            Stored updated = stored.with(stored.kind(), stored.name(), withoutEmptyValues(labels), stored.created(),
                    clock.instant(), stored.usage());
            write(updated);
            replace(updated);
            return info(updated);
        }
    }

    /**
     * Turns active snapshot {@code key} into committed snapshot {@code name}, keeping its id, with
     * {@code labels} and the measured {@code usage}; its created and updated times become now.
     * Returns the id.
     *
     * @throws AlreadyExistsException    if {@code name} is taken
     * @throws NotFoundException         if {@code key} does not exist
     * @throws FailedPreconditionException if {@code key} is not active
     */
    public String commit(String key, String name, Usage usage, Map<String, String> labels) {
        requireNonNull(key, "key is null");
        requireNonNull(name, "name is null");
        requireNonNull(usage, "usage is null");
        requireNonNull(labels, "labels is null");
        if (name.isEmpty()) {
            throw new InvalidArgumentException("snapshot name is empty");
        }
        synchronized (lock) {
            checkOpen();
            if (byName.containsKey(name) || reserved.containsKey(name)) {
                throw new AlreadyExistsException("committed snapshot " + name + ": already exists");
            }
            Stored active = require(key);
            if (active.kind() != Kind.ACTIVE) {
                throw new FailedPreconditionException("snapshot " + key + " is not active");
            }
            Instant now = clock.instant();
            Stored committed = active.with(Kind.COMMITTED, name, withoutEmptyValues(labels), now, now, usage);
            write(committed);
            byName.remove(key);
            byName.put(name, committed);
            byId.put(committed.id(), committed);
            return Long.toString(committed.id());
        }
    }

    /**
     * Forgets the snapshot with this key or name and returns what it was; the caller then removes
     * its contents.
     *
     * @throws NotFoundException           if there is none
     * @throws FailedPreconditionException if it has children
     */
    public Snapshot remove(String key) {
        synchronized (lock) {
            checkOpen();
            Stored stored = require(key);
            if (children.getOrDefault(stored.id(), 0) > 0) {
                throw new FailedPreconditionException("cannot remove snapshot " + key + " with children");
            }
            append(StoredRecords.deletion(stored.id()), key);
            byName.remove(key);
            byId.remove(stored.id());
            releaseChild(stored.parent());
            return new Snapshot(Long.toString(stored.id()), stored.kind(), parentIds(stored.parent()));
        }
    }

    /**
     * Calls {@code consumer} outside the lock for each snapshot matching {@code filter}, as
     * {@link dev.berth.plugin.snapshots.Snapshotter#walk} describes.
     */
    public void walk(Predicate<? super SnapshotInfo> filter, Consumer<? super SnapshotInfo> consumer) {
        requireNonNull(filter, "filter is null");
        requireNonNull(consumer, "consumer is null");
        List<SnapshotInfo> infos = new ArrayList<>();
        synchronized (lock) {
            checkOpen();
            for (Stored stored : byId.values()) {
                infos.add(info(stored));
            }
        }
        for (SnapshotInfo info : infos) {
            if (filter.test(info)) {
                consumer.accept(info);
            }
        }
    }

    /** The ids of every snapshot, including those being created: what a cleanup must keep. */
    public Set<String> ids() {
        synchronized (lock) {
            Set<String> ids = new HashSet<>();
            byId.keySet().forEach(id -> ids.add(Long.toString(id)));
            reserved.values().forEach(id -> ids.add(Long.toString(id)));
            return ids;
        }
    }

    /** Stops the store; calling it again does nothing. Later calls fail as unavailable. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            try {
                log.close();
            } catch (IOException e) {
                throw new UncheckedIOException("close snapshot metadata in " + directory, e);
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new UnavailableException("snapshotter is closed");
        }
    }

    private Stored require(String key) {
        requireNonNull(key, "key is null");
        checkOpen();
        Stored stored = byName.get(key);
        if (stored == null) {
            throw new NotFoundException("snapshot " + key + ": not found");
        }
        return stored;
    }

    private void replace(Stored stored) {
        byName.put(stored.name(), stored);
        byId.put(stored.id(), stored);
    }

    private void releaseChild(long parentId) {
        if (parentId != Stored.NO_PARENT) {
            children.computeIfPresent(parentId, (id, count) -> count == 1 ? null : count - 1);
        }
    }

    /**
     * The ids of the chain from {@code parentId} up, or null if a parent is missing, which only a
     * reader without the lock can see: a snapshot it looked up was removed meanwhile, and then its parent.
     */
    private List<String> parentIds(long parentId) {
        List<String> ids = new ArrayList<>();
        for (long id = parentId; id != Stored.NO_PARENT; ) {
            Stored parent = byId.get(id);
            if (parent == null) {
                return null;
            }
            ids.add(Long.toString(id));
            id = parent.parent();
        }
        return ids;
    }

    /** What the contract shows of {@code stored}; null if its parent is missing, as for {@link #parentIds}. */
    private SnapshotInfo info(Stored stored) {
        String parent = "";
        if (stored.parent() != Stored.NO_PARENT) {
            Stored above = byId.get(stored.parent());
            if (above == null) {
                return null;
            }
            parent = above.name();
        }
        return new SnapshotInfo(stored.kind(), stored.name(), parent, stored.labels(), stored.created(), stored.updated());
    }

    private static Map<String, String> withoutEmptyValues(Map<String, String> labels) {
        Map<String, String> kept = new HashMap<>();
        labels.forEach((key, value) -> {
            if (value != null && !value.isEmpty()) {
                kept.put(key, value);
            }
        });
        return Map.copyOf(kept);
    }

    private void write(Stored stored) {
        append(StoredRecords.put(stored), stored.name());
    }

    private void append(byte[] payload, String name) {
        try {
            log.append(payload);
        } catch (IOException e) {
            throw new UncheckedIOException("write snapshot metadata of " + name, e);
        }
    }

    /** Replays one record of the log. */
    private void apply(ByteBuffer record) {
        try {
            StoredRecords.read(record, stored -> {
                Stored previous = byId.get(stored.id());
                if (previous != null && !previous.name().equals(stored.name())) {
                    byName.remove(previous.name());
                }
                replace(stored);
            }, id -> {
                Stored removed = byId.remove(id);
                if (removed != null) {
                    byName.remove(removed.name());
                }
            });
        } catch (RuntimeException e) {
            throw new UncheckedIOException(new IOException("corrupt snapshot metadata in " + directory + ": " + e.getMessage(), e));
        }
    }

    /** The store's whole state as records, for a rewrite of the log. */
    private List<byte[]> payloads() {
        return byId.values().stream().sorted(Comparator.comparingLong(Stored::id)).map(StoredRecords::put).toList();
    }

    private void syncDirectory() throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
