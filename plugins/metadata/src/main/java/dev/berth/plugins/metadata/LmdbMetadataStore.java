package dev.berth.plugins.metadata;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.metadata.ContainerStore;
import dev.berth.plugin.metadata.GcStats;
import dev.berth.plugin.metadata.Identifiers;
import dev.berth.plugin.metadata.ImageStore;
import dev.berth.plugin.metadata.LeaseManager;
import dev.berth.plugin.metadata.MetadataStore;
import dev.berth.plugin.metadata.NamespaceStore;
import dev.berth.plugin.snapshots.Snapshotter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/** The metadata store on LMDB, wrapping a backing content store and the backend snapshotters. */
public final class LmdbMetadataStore implements MetadataStore, AutoCloseable {
    private final Db db;
    private final ContentStore backend;
    private final Map<String, SnapshotBackend> snapshotters;
    private final Clock clock;
    /** Held shared by content writes, exclusively while the collector cleans the backing store. */
    private final ReentrantReadWriteLock contentLock = new ReentrantReadWriteLock();
    private final NamespaceStore namespaces;
    private final LeaseManager leases;
    private final ImageStore images;
    private final ContainerStore containers;
    private final GarbageCollector collector;

    private LmdbMetadataStore(Path path, ContentStore backend, Map<String, Snapshotter> snapshotters, Clock clock) {
        this.backend = requireNonNull(backend, "backend is null");
        this.clock = requireNonNull(clock, "clock is null");
        Map<String, SnapshotBackend> wrapped = new TreeMap<>();
        requireNonNull(snapshotters, "snapshotters is null")
                .forEach((name, snapshotter) -> wrapped.put(name, new SnapshotBackend(name, snapshotter)));
        this.snapshotters = Map.copyOf(wrapped);
        this.db = new Db(requireNonNull(path, "path is null"));
        this.namespaces = new LmdbNamespaces(db);
        this.collector = new GarbageCollector(db, backend, this.snapshotters, clock, contentLock.writeLock());
        this.leases = new LmdbLeases(db, clock, this::collectGarbage);
        this.images = new LmdbImages(db, clock, this::collectGarbage);
        this.containers = new LmdbContainers(db, clock);
    }

    /**
     * Opens (creating if needed) the store whose LMDB environment lives in directory {@code path}.
     *
     * @param backend      the content store holding the bytes of every namespace's blobs
     * @param snapshotters the backend snapshotters by id, holding every namespace's snapshots; the
     *                     store does not close them
     * @param clock        gives creation and update times and decides lease and ingest expiry
     */
    public static LmdbMetadataStore open(Path path, ContentStore backend, Map<String, Snapshotter> snapshotters,
            Clock clock) {
        return new LmdbMetadataStore(path, backend, snapshotters, clock);
    }

    /** The directory of the LMDB environment. */
    public Path path() {
        return db.path();
    }

    @Override
    public NamespaceStore namespaces() {
        return namespaces;
    }

    @Override
    public LeaseManager leases() {
        return leases;
    }

    @Override
    public ContentStore content(String namespace, Optional<String> lease) {
        Identifiers.validate(namespace);
        requireNonNull(lease, "lease is null");
        return new NamespacedContent(db, backend, clock, contentLock.readLock(), namespace, lease);
    }

    @Override
    public ImageStore images() {
        return images;
    }

    @Override
    public ContainerStore containers() {
        return containers;
    }

    @Override
    public Snapshotter snapshotter(String namespace, String snapshotter, Optional<String> lease) {
        Identifiers.validate(namespace);
        requireNonNull(snapshotter, "snapshotter is null");
        requireNonNull(lease, "lease is null");
        SnapshotBackend wrapped = snapshotters.get(snapshotter);
        if (wrapped == null) {
            throw BerthException.of(BerthException.Kind.NOT_FOUND, "snapshotter \"" + snapshotter + "\"");
        }
        return new NamespacedSnapshotter(db, wrapped, clock, namespace, lease);
    }

    @Override
    public List<String> snapshotters() {
        return snapshotters.keySet().stream().sorted().toList();
    }

    @Override
    public void onMutation(Consumer<Boolean> listener) {
        db.onMutation(listener);
    }

    @Override
    public GcStats collectGarbage() {
        return collector.collect();
    }

    @Override
    public void close() {
        db.close();
    }
}
