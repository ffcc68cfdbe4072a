package dev.berth.plugins.metadata;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.metadata.Labels;
import dev.berth.plugin.metadata.Resource;
import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.snapshots.Kind;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugin.snapshots.Usage;
import dev.berth.plugins.metadata.Records.SnapshotRecord;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Lock;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One namespace's view of a backend snapshotter, as containerd's metadata snapshotter. The
 * metadata records the namespace's keys, their parents and labels; the backend knows each
 * snapshot by a key of its own, {@code <namespace>/<sequence>/<key>}, unique across namespaces
 * and across reuses of a key. The backend keeps only the labels meant for it (those starting with
 * {@code containerd.io/snapshot/} and {@code containerd.io/snapshot.ref}); removing a snapshot only
 * removes its record, and the collector removes it from the backend afterwards.
 */
final class NamespacedSnapshotter implements Snapshotter {
    private static final Logger log = LoggerFactory.getLogger(NamespacedSnapshotter.class);
    /** Labels with this prefix are passed on to the backend. */
    static final String INHERITED_PREFIX = "containerd.io/snapshot/";
    /**
     * The committed snapshot a prepare is meant to produce: if the namespace has it, the prepare
     * is refused as already existing; a backend that already has it may say so, and the metadata
     * then records the backend's snapshot under this name (remote snapshotters do this).
     */
    static final String SNAPSHOT_REF = "containerd.io/snapshot.ref";

    private final Db db;
    private final SnapshotBackend backend;
    private final Clock clock;
    private final String namespace;
    private final Optional<String> lease;
    private final AtomicBoolean closed = new AtomicBoolean();

    NamespacedSnapshotter(Db db, SnapshotBackend backend, Clock clock, String namespace, Optional<String> lease) {
        this.db = db;
        this.backend = backend;
        this.clock = clock;
        this.namespace = namespace;
        this.lease = lease;
    }

    @Override
    public SnapshotInfo stat(String key) {
        checkOpen();
        SnapshotRecord local = db.read(tx -> require(tx, key));
        return overlay(backendCall(key, () -> backend.snapshotter().stat(local.backendKey())), local);
    }

    @Override
    public SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths) {
        checkOpen();
        if (info.name().isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "snapshot name is required");
        }
        return shared(() -> db.write(tx -> {
            SnapshotRecord current = require(tx, info.name());
            Map<String, String> labels = new TreeMap<>(current.labels());
            if (fieldPaths.isEmpty()) {
                labels = new TreeMap<>(info.labels());
            }
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
                    labels = new TreeMap<>(info.labels());
                } else {
                    throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                            "cannot update \"" + path + "\" field on snapshot \"" + info.name() + "\"");
                }
            }
            labels.values().removeIf(String::isEmpty);
            Labels.validate("info.Labels", labels);
            SnapshotRecord updated = new SnapshotRecord(namespace, backend.name(), current.key(), current.backendKey(),
                    current.parent(), labels, current.createdAt(), clock.instant());
            tx.put(db.snapshots, tableKey(current.key()), updated.encode());
            // inside the transaction, as containerd: a failing backend leaves the record unchanged
            SnapshotInfo inner = backendCall(info.name(), () -> {
                Snapshotter snapshotter = backend.snapshotter();
                SnapshotInfo base = snapshotter.stat(current.backendKey());
                return snapshotter.update(base.withLabels(inherited(updated.labels())), fieldPaths);
            });
            return overlay(inner, updated);
        }));
    }

    @Override
    public Usage usage(String key) {
        checkOpen();
        String backendKey = db.read(tx -> require(tx, key)).backendKey();
        return backendCall(key, () -> backend.snapshotter().usage(backendKey));
    }

    @Override
    public List<Mount> mounts(String key) {
        checkOpen();
        String backendKey = db.read(tx -> require(tx, key)).backendKey();
        return backendCall(key, () -> backend.snapshotter().mounts(backendKey));
    }

    /** What stat and mounts add to the backend's is a read of the memory-mapped metadata. */
    @Override
    public boolean nonBlockingReads() {
        return backend.snapshotter().nonBlockingReads();
    }

    @Override
    public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return create(Kind.ACTIVE, key, parent, labels);
    }

    @Override
    public List<Mount> view(String key, String parent, Map<String, String> labels) {
        return create(Kind.VIEW, key, parent, labels);
    }

    /**
     * containerd's two-transaction creation: reserve a backend key (checking key and parent), let
     * the backend create the snapshot outside any transaction, then record it, undoing the
     * backend's work if the record cannot be made (a concurrent creation of the same key won).
     */
    private List<Mount> create(Kind kind, String key, String parent, Map<String, String> labels) {
        checkOpen();
        checkName("snapshot key", key);
        Labels.validate("info.Labels", labels);
        String target = labels.getOrDefault(SNAPSHOT_REF, "");
        return shared(() -> {
            record Reserved(String backendKey, String backendParent) {}
            Reserved reserved = db.write(tx -> {
                if (!target.isEmpty() && record(tx, target) != null) {
                    throw BerthException.of(BerthException.Kind.ALREADY_EXISTS, "target snapshot \"" + target + "\"");
                }
                if (record(tx, key) != null) {
                    throw alreadyExists(key);
                }
                String backendParent = parent.isEmpty() ? "" : requireParent(tx, parent).backendKey();
                return new Reserved(backendKey(tx, key), backendParent);
            });

            Snapshotter snapshotter = backend.snapshotter();
            Map<String, String> kept = withoutEmpty(labels);
            String recordKey = key;
            String backendKey = reserved.backendKey();
            String created = null;
            Instant createdAt;
            Instant updatedAt;
            List<Mount> mounts = null;
            BerthException refused = null;
            try {
                mounts = kind == Kind.VIEW
                        ? snapshotter.view(backendKey, reserved.backendParent(), inherited(kept))
                        : snapshotter.prepare(backendKey, reserved.backendParent(), inherited(kept));
                created = backendKey;
                createdAt = clock.instant();
                updatedAt = createdAt;
            } catch (AlreadyExistsException e) {
                if (target.isEmpty()) {
                    // the backend key is new: the backend cannot rightly have it
                    throw new IllegalStateException("unexpected error from snapshotter " + backend.name() + ": "
                            + e.getMessage(), e);
                }
                SnapshotInfo existing = committedTarget(target, reserved.backendParent());
                recordKey = target;
                backendKey = existing.name();
                createdAt = existing.created();
                updatedAt = existing.updated();
                existing.labels().forEach(kept::putIfAbsent);
                refused = BerthException.of(BerthException.Kind.ALREADY_EXISTS,
                        "target snapshot \"" + target + "\" from snapshotter");
            }

            SnapshotRecord record = new SnapshotRecord(namespace, backend.name(), recordKey, backendKey, parent, kept,
                    createdAt, updatedAt);
            boolean recorded;
            try {
                recorded = db.write(tx -> {
                    LmdbNamespaces.ensure(db, tx, namespace);
                    addLease(tx, record.key());
                    if (record(tx, record.key()) != null) {
                        return false;
                    }
                    if (!parent.isEmpty()) {
                        SnapshotRecord parentRecord = requireParent(tx, parent);
                        if (!reserved.backendParent().equals(parentRecord.backendKey())) {
                            // the parent was removed and made again meanwhile: the backend's parent is another one
                            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                                    "mismatched parent " + parent + " from target " + target);
                        }
                        tx.put(db.children, Codec.key(namespace, backend.name(), parent, record.key()),
                                Codec.value(out -> Codec.writeString(out, record.key())));
                    }
                    tx.put(db.snapshots, tableKey(record.key()), record.encode());
                    return true;
                });
            } catch (RuntimeException e) {
                removeCreated(created, e);
                throw e;
            }
            if (!recorded && refused == null) {
                refused = alreadyExists(record.key());
            }
            if (refused != null) {
                removeCreated(created, refused);
                throw refused;
            }
            return mounts;
        });
    }

    /** The committed backend snapshot labelled with {@code target} on top of {@code backendParent}. */
    private SnapshotInfo committedTarget(String target, String backendParent) {
        List<SnapshotInfo> found = new ArrayList<>();
        backend.snapshotter().walk(info -> info.kind() == Kind.COMMITTED && target.equals(info.labels().get(SNAPSHOT_REF))
                && info.parent().equals(backendParent), found::add);
        if (found.isEmpty()) {
            throw BerthException.of(BerthException.Kind.NOT_FOUND, "target snapshot \"" + target + "\" in backend");
        }
        return found.getFirst();
    }

    private void removeCreated(String created, RuntimeException cause) {
        if (created == null) {
            return;
        }
        try {
            backend.snapshotter().remove(created);
        } catch (RuntimeException e) {
            // the collector's cleanup removes it later: nothing in the metadata refers to it
            cause.addSuppressed(e);
            log.error("snapshotter {}: failed to clean up unreferenced snapshot {}", backend.name(), created, e);
        }
    }

    @Override
    public void commit(String name, String key, Map<String, String> labels) {
        checkOpen();
        checkName("snapshot name", name);
        checkName("snapshot key", key);
        Labels.validate("info.Labels", labels);
        Map<String, String> kept = withoutEmpty(labels);
        shared(() -> db.write(tx -> {
            if (record(tx, name) != null) {
                throw alreadyExists(name);
            }
            addLease(tx, name);
            SnapshotRecord active = require(tx, key);
            String backendName = backendKey(tx, name);
            if (!active.parent().isEmpty()) {
                tx.delete(db.children, Codec.key(namespace, backend.name(), active.parent(), key));
                tx.put(db.children, Codec.key(namespace, backend.name(), active.parent(), name),
                        Codec.value(out -> Codec.writeString(out, name)));
            }
            Instant now = clock.instant();
            tx.put(db.snapshots, tableKey(name), new SnapshotRecord(namespace, backend.name(), name, backendName,
                    active.parent(), kept, now, now).encode());
            tx.delete(db.snapshots, tableKey(key));
            removeLease(tx, key);
            // inside the transaction, as containerd: if the backend refuses, no record changes
            backendCall(key, () -> {
                backend.snapshotter().commit(backendName, active.backendKey(), inherited(kept));
                return null;
            });
            return null;
        }));
    }

    @Override
    public void remove(String key) {
        checkOpen();
        shared(() -> db.write(tx -> {
            SnapshotRecord record = require(tx, key);
            if (tx.any(db.children, Codec.prefix(namespace, backend.name(), key))) {
                throw BerthException.of(BerthException.Kind.FAILED_PRECONDITION,
                        "snapshot " + key + ": cannot remove snapshot with child");
            }
            if (!record.parent().isEmpty()) {
                tx.delete(db.children, Codec.key(namespace, backend.name(), record.parent(), key));
            }
            tx.delete(db.snapshots, tableKey(key));
            removeLease(tx, key);
            db.markSnapshotsDirty(backend.name());
            db.markDirty();
            return null;
        }));
    }

    @Override
    public void walk(Predicate<? super SnapshotInfo> filter, Consumer<? super SnapshotInfo> consumer) {
        checkOpen();
        List<SnapshotRecord> records = db.read(tx -> tx.scan(db.snapshots, Codec.prefix(namespace, backend.name()))
                .stream().map(SnapshotRecord::decode).toList());
        for (SnapshotRecord record : records) {
            SnapshotInfo info;
            try {
                info = overlay(backend.snapshotter().stat(record.backendKey()), record);
            } catch (NotFoundException e) {
                // removed meanwhile, or not yet cleaned up after a crash
                continue;
            }
            if (filter.test(info)) {
                consumer.accept(info);
            }
        }
    }

    /** Closes this view only: the backend is shared by every namespace and closed with its plugin. */
    @Override
    public void close() {
        closed.set(true);
    }

    private void checkOpen() {
        if (closed.get()) {
            throw BerthException.of(BerthException.Kind.UNAVAILABLE, "snapshotter " + backend.name() + " is closed");
        }
    }

    /** Runs a change holding the backend's lock shared, so that no cleanup runs between its steps. */
    private <T> T shared(Supplier<T> change) {
        Lock lock = backend.lock().readLock();
        lock.lock();
        try {
            return change.get();
        } finally {
            lock.unlock();
        }
    }

    /** Runs a backend call; its not-found errors name the client's key, not the backend's. */
    private <T> T backendCall(String key, Supplier<T> call) {
        try {
            return call.get();
        } catch (NotFoundException e) {
            throw new NotFoundException(notFound(key).getMessage(), e);
        }
    }

    private String backendKey(Db.Tx tx, String key) {
        return namespace + "/" + db.nextSequence(tx, "snapshot-seq") + "/" + key;
    }

    private void addLease(Db.Tx tx, String key) {
        if (lease.isPresent()) {
            if (!LmdbLeases.exists(db, tx, namespace, lease.get())) {
                throw BerthException.of(BerthException.Kind.NOT_FOUND, "lease does not exist");
            }
            LmdbLeases.put(db, tx, namespace, lease.get(), resource(key));
        }
    }

    private void removeLease(Db.Tx tx, String key) {
        lease.ifPresent(id -> LmdbLeases.remove(db, tx, namespace, id, resource(key)));
    }

    private Resource resource(String key) {
        return new Resource(key, Resource.SNAPSHOTS_PREFIX + backend.name());
    }

    private byte[] tableKey(String snapshotKey) {
        return Codec.key(namespace, backend.name(), snapshotKey);
    }

    private SnapshotRecord record(Db.Tx tx, String key) {
        byte[] value = tx.get(db.snapshots, tableKey(key));
        return value == null ? null : SnapshotRecord.decode(value);
    }

    private SnapshotRecord require(Db.Tx tx, String key) {
        SnapshotRecord record = record(tx, key);
        if (record == null) {
            throw notFound(key);
        }
        return record;
    }

    private SnapshotRecord requireParent(Db.Tx tx, String parent) {
        SnapshotRecord record = record(tx, parent);
        if (record == null) {
            throw BerthException.of(BerthException.Kind.NOT_FOUND, "parent snapshot " + parent + " does not exist");
        }
        return record;
    }

    private static NotFoundException notFound(String key) {
        return (NotFoundException) BerthException.of(BerthException.Kind.NOT_FOUND, "snapshot " + key + " does not exist");
    }

    private static BerthException alreadyExists(String key) {
        return BerthException.of(BerthException.Kind.ALREADY_EXISTS, "snapshot \"" + key + "\"");
    }

    /**
     * Keys and names recorded are parts of LMDB keys, which cannot hold NUL (a lookup with one
     * finds nothing, as no recorded key has one); an empty key names nothing.
     */
    private static void checkName(String what, String name) {
        if (name.isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, what + " must not be empty");
        }
        if (name.indexOf('\0') >= 0) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, what + " contains NUL");
        }
    }

    /** The labels the backend keeps. */
    static Map<String, String> inherited(Map<String, String> labels) {
        Map<String, String> kept = new HashMap<>();
        labels.forEach((key, value) -> {
            if (key.equals(SNAPSHOT_REF) || key.startsWith(INHERITED_PREFIX)) {
                kept.put(key, value);
            }
        });
        return kept;
    }

    private static Map<String, String> withoutEmpty(Map<String, String> labels) {
        Map<String, String> kept = new TreeMap<>(labels);
        kept.values().removeIf(String::isEmpty);
        return kept;
    }

    /** The backend's information under the namespace's name, parent, times and labels (which win). */
    private static SnapshotInfo overlay(SnapshotInfo info, SnapshotRecord local) {
        Map<String, String> labels = new HashMap<>(info.labels());
        labels.putAll(local.labels());
        return new SnapshotInfo(info.kind(), local.key(), local.parent(), labels, local.createdAt(), local.updatedAt());
    }
}
