package dev.berth.plugins.metadata;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.metadata.Identifiers;
import dev.berth.plugin.metadata.Labels;
import dev.berth.plugin.metadata.NamespaceStore;
import dev.berth.plugins.metadata.Records.NamespaceRecord;
import dev.berth.plugins.metadata.Records.SnapshotRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** Namespaces in the {@code namespaces} table; their objects live in the other tables under their name. */
final class LmdbNamespaces implements NamespaceStore {
    private final Db db;

    LmdbNamespaces(Db db) {
        this.db = db;
    }

    @Override
    public void create(String name, Map<String, String> labels) {
        Identifiers.validate(name);
        Labels.validate("namespace.Labels", labels);
        db.write(tx -> {
            byte[] key = Codec.key(name);
            if (tx.get(db.namespaces, key) != null) {
                throw BerthException.of(BerthException.Kind.ALREADY_EXISTS, "namespace \"" + name + "\"");
            }
            tx.put(db.namespaces, key, new NamespaceRecord(name, withoutEmpty(labels)).encode());
            return null;
        });
    }

    @Override
    public Map<String, String> labels(String name) {
        byte[] value = db.read(tx -> tx.get(db.namespaces, Codec.key(name)));
        return value == null ? Map.of() : Map.copyOf(NamespaceRecord.decode(value).labels());
    }

    @Override
    public List<String> list() {
        return db.read(tx -> {
            List<String> names = new ArrayList<>();
            for (byte[] value : tx.scan(db.namespaces, new byte[0])) {
                names.add(NamespaceRecord.decode(value).name());
            }
            names.sort(null);
            return List.copyOf(names);
        });
    }

    @Override
    public void setLabel(String name, String key, String value) {
        Identifiers.validate(name);
        Labels.validate("namespace.Labels", key, value);
        db.write(tx -> {
            Map<String, String> labels = new TreeMap<>(ensure(db, tx, name).labels());
            if (value.isEmpty()) {
                labels.remove(key);
            } else {
                labels.put(key, value);
            }
            tx.put(db.namespaces, Codec.key(name), new NamespaceRecord(name, labels).encode());
            return null;
        });
    }

    @Override
    public void delete(String name) {
        db.write(tx -> {
            byte[] key = Codec.key(name);
            if (tx.get(db.namespaces, key) == null) {
                throw BerthException.of(BerthException.Kind.NOT_FOUND, "namespace \"" + name + "\"");
            }
            List<String> remaining = new ArrayList<>();
            if (tx.any(db.images, Codec.prefix(name))) {
                remaining.add("images");
            }
            if (tx.any(db.containers, Codec.prefix(name))) {
                remaining.add("containers");
            }
            if (tx.any(db.blobs, Codec.prefix(name))) {
                remaining.add("blobs");
            }
            Set<String> snapshotters = new TreeSet<>();
            tx.scan(db.snapshots, Codec.prefix(name)).forEach(v -> snapshotters.add(SnapshotRecord.decode(v).snapshotter()));
            snapshotters.forEach(snapshotter -> remaining.add("snapshots on \"" + snapshotter + "\" snapshotter"));
            if (tx.any(db.leases, Codec.prefix(name))) {
                remaining.add("leases");
            }
            if (!remaining.isEmpty()) {
                throw BerthException.of(BerthException.Kind.FAILED_PRECONDITION, "namespace \"" + name
                        + "\" must be empty, but it still has " + String.join(", ", remaining));
            }
            // ingests go with the namespace, as in containerd; the collector aborts them in the backing store
            if (tx.deleteAll(db.ingests, Codec.prefix(name)) > 0) {
                db.markDirty();
            }
            tx.delete(db.namespaces, key);
            return null;
        });
    }

    /** The namespace's record, created empty if absent: writing in a namespace creates it, as in containerd. */
    static NamespaceRecord ensure(Db db, Db.Tx tx, String name) {
        byte[] key = Codec.key(name);
        byte[] value = tx.get(db.namespaces, key);
        if (value != null) {
            return NamespaceRecord.decode(value);
        }
        NamespaceRecord created = new NamespaceRecord(name, Map.of());
        tx.put(db.namespaces, key, created.encode());
        return created;
    }

    private static Map<String, String> withoutEmpty(Map<String, String> labels) {
        Map<String, String> kept = new TreeMap<>(labels);
        kept.values().removeIf(String::isEmpty);
        return kept;
    }
}
