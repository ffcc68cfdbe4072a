package dev.berth.plugins.metadata;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.metadata.Container;
import dev.berth.plugin.metadata.ContainerStore;
import dev.berth.plugin.metadata.Identifiers;
import dev.berth.plugin.metadata.Labels;
import dev.berth.plugin.runtime.TypedValue;
import dev.berth.plugins.metadata.Records.ContainerRecord;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Containers in the {@code containers} table, as containerd's metadata container store; each is a
 * collection root holding its snapshot and what its labels reference.
 */
final class LmdbContainers implements ContainerStore {
    private static final List<String> DEFAULT_PATHS = List.of("labels", "spec", "extensions", "image", "snapshotkey");

    private final Db db;
    private final Clock clock;

    LmdbContainers(Db db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    @Override
    public Container get(String namespace, String id) {
        Identifiers.validate(namespace);
        requireNonNull(id, "id is null");
        return db.read(tx -> toContainer(require(tx, namespace, id, "container")));
    }

    @Override
    public List<Container> list(String namespace, Predicate<? super Container> filter) {
        Identifiers.validate(namespace);
        requireNonNull(filter, "filter is null");
        List<Container> found = db.read(tx -> {
            List<Container> containers = new ArrayList<>();
            for (byte[] value : tx.scan(db.containers, Codec.prefix(namespace))) {
                Container container = toContainer(ContainerRecord.decode(value));
                if (filter.test(container)) {
                    containers.add(container);
                }
            }
            return containers;
        });
        found.sort(Comparator.comparing(Container::id));
        return List.copyOf(found);
    }

    @Override
    public Container create(String namespace, Container container) {
        Identifiers.validate(namespace);
        requireNonNull(container, "container is null");
        validate(container.id(), container.labels(), container.runtime().name(), container.snapshotKey(),
                container.snapshotter(), container.extensions());
        return db.write(tx -> {
            byte[] key = Codec.key(namespace, container.id());
            if (tx.get(db.containers, key) != null) {
                throw BerthException.of(BerthException.Kind.ALREADY_EXISTS, "container \"" + container.id() + "\"");
            }
            LmdbNamespaces.ensure(db, tx, namespace);
            Instant now = clock.instant();
            ContainerRecord record = new ContainerRecord(namespace, container.id(), withoutEmpty(container.labels()),
                    container.image(), container.runtime().name(), container.runtime().options(), container.spec(),
                    container.snapshotKey(), container.snapshotter(), container.extensions(), now, now);
            tx.put(db.containers, key, record.encode());
            return toContainer(record);
        });
    }

    @Override
    public Container update(String namespace, Container container, List<String> fieldPaths) {
        Identifiers.validate(namespace);
        requireNonNull(container, "container is null");
        requireNonNull(fieldPaths, "fieldPaths is null");
        if (container.id().isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "must specify a container id");
        }
        return db.write(tx -> {
            ContainerRecord current = require(tx, namespace, container.id(), "cannot update container");
            List<String> paths = fieldPaths;
            if (paths.isEmpty()) {
                paths = DEFAULT_PATHS;
                // only a whole-object update states the immutable fields; they must be unchanged
                if (!current.snapshotter().equals(container.snapshotter())) {
                    throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                            "container.Snapshotter field is immutable");
                }
                if (!current.runtimeName().equals(container.runtime().name())) {
                    throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                            "container.Runtime.Name field is immutable");
                }
            }
            Map<String, String> labels = new TreeMap<>(current.labels());
            Map<String, TypedValue> extensions = new TreeMap<>(current.extensions());
            Optional<TypedValue> spec = current.spec();
            String image = current.image();
            String snapshotKey = current.snapshotKey();
            for (String path : paths) {
                if (path.startsWith("labels.")) {
                    String key = path.substring("labels.".length());
                    String value = container.labels().get(key);
                    if (value == null || value.isEmpty()) {
                        labels.remove(key);
                    } else {
                        labels.put(key, value);
                    }
                } else if (path.startsWith("extensions.")) {
                    String key = path.substring("extensions.".length());
                    TypedValue value = container.extensions().get(key);
                    if (value == null) {
                        extensions.remove(key);
                    } else {
                        extensions.put(key, value);
                    }
                } else {
                    switch (path) {
                        case "labels" -> labels = withoutEmpty(container.labels());
                        case "spec" -> spec = container.spec();
                        case "extensions" -> extensions = new TreeMap<>(container.extensions());
                        case "image" -> image = container.image();
                        case "snapshotkey" -> snapshotKey = container.snapshotKey();
                        default -> throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                                "cannot update \"" + path + "\" field on \"" + container.id() + "\"");
                    }
                }
            }
            validate(current.id(), labels, current.runtimeName(), snapshotKey, current.snapshotter(), extensions);
            ContainerRecord record = new ContainerRecord(namespace, current.id(), labels, image, current.runtimeName(),
                    current.runtimeOptions(), spec, snapshotKey, current.snapshotter(), extensions,
                    current.createdAt(), clock.instant());
            tx.put(db.containers, Codec.key(namespace, current.id()), record.encode());
            if (!snapshotKey.equals(current.snapshotKey()) || !labels.equals(current.labels())) {
                // the snapshot or content it held may be garbage now
                db.markDirty();
            }
            return toContainer(record);
        });
    }

    @Override
    public void delete(String namespace, String id) {
        Identifiers.validate(namespace);
        requireNonNull(id, "id is null");
        db.write(tx -> {
            require(tx, namespace, id, "cannot delete container");
            tx.delete(db.containers, Codec.key(namespace, id));
            db.markDirty();
            return null;
        });
    }

    /** The container's record; if there is none, a not-found error worded as containerd's, {@code what} first. */
    private ContainerRecord require(Db.Tx tx, String namespace, String id, String what) {
        // an id with NUL finds nothing: no recorded id has one
        byte[] value = tx.get(db.containers, Codec.key(namespace, id));
        if (value == null) {
            throw BerthException.of(BerthException.Kind.NOT_FOUND,
                    what + " \"" + id + "\" in namespace \"" + namespace + "\"");
        }
        return ContainerRecord.decode(value);
    }

    /** containerd's {@code validateContainer}, but for the spec, which the contract makes optional. */
    private static void validate(String id, Map<String, String> labels, String runtimeName, String snapshotKey,
            String snapshotter, Map<String, TypedValue> extensions) {
        try {
            Identifiers.validate(id);
        } catch (BerthException e) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "container.ID: " + e.getMessage()
                    .replaceFirst(": invalid argument$", ""));
        }
        if (extensions.containsKey("")) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                    "container.Extension keys must not be zero-length");
        }
        Labels.validate("containers.Labels", labels);
        if (runtimeName.isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "container.Runtime.Name must be set");
        }
        if (!snapshotKey.isEmpty() && snapshotter.isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                    "container.Snapshotter must be set if container.SnapshotKey is set");
        }
    }

    private static Map<String, String> withoutEmpty(Map<String, String> labels) {
        Map<String, String> kept = new TreeMap<>(labels);
        kept.values().removeIf(String::isEmpty);
        return kept;
    }

    private static Container toContainer(ContainerRecord record) {
        return new Container(record.id(), record.labels(), record.image(),
                new Container.Runtime(record.runtimeName(), record.runtimeOptions()), record.spec(),
                record.snapshotKey(), record.snapshotter(), record.extensions(), record.createdAt(),
                record.updatedAt());
    }
}
