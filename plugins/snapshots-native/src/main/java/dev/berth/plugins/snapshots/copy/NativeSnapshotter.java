package dev.berth.plugins.snapshots.copy;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.snapshots.Cleaner;
import dev.berth.plugin.snapshots.Kind;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugin.snapshots.Usage;
import dev.berth.plugin.snapshots.storage.DiskUsage;
import dev.berth.plugin.snapshots.storage.MetaStore;
import dev.berth.plugin.snapshots.storage.SnapshotDirectories;
import dev.berth.plugin.snapshots.storage.TreeCopy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The copy-based snapshotter, as containerd's {@code native}: every active snapshot is a full copy
 * of its parent, so it needs no kernel support beyond bind mounts and works without root (only
 * mounting its snapshots does not). A view of a parent shares the parent's directory, read-only.
 *
 * <p>Layout under the root: {@code metadata/} (the {@link MetaStore}) and {@code snapshots/<id>/}.
 */
public final class NativeSnapshotter implements Snapshotter, Cleaner {
    private final MetaStore store;
    private final SnapshotDirectories directories;

    private NativeSnapshotter(MetaStore store, SnapshotDirectories directories) {
        this.store = store;
        this.directories = directories;
    }

    /** Opens the snapshotter kept in {@code root}, creating it if needed, and removes leftovers of a crash. */
    public static NativeSnapshotter open(Path root, Clock clock) {
        requireNonNull(root, "root is null");
        requireNonNull(clock, "clock is null");
        MetaStore store = MetaStore.open(root.resolve("metadata"), clock);
        NativeSnapshotter snapshotter = new NativeSnapshotter(store, new SnapshotDirectories(root.resolve("snapshots")));
        snapshotter.cleanup();
        return snapshotter;
    }

    @Override
    public SnapshotInfo stat(String key) {
        return store.get(key).info();
    }

    @Override
    public SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths) {
        return store.update(info, fieldPaths);
    }

    @Override
    public Usage usage(String key) {
        MetaStore.Entry entry = store.get(key);
        return entry.info().kind() == Kind.ACTIVE ? DiskUsage.of(directories.path(entry.id())) : entry.usage();
    }

    @Override
    public List<Mount> mounts(String key) {
        return mounts(store.mountable(key));
    }

    /** Both read the metadata store's memory, and build the mounts from paths alone. */
    @Override
    public boolean nonBlockingReads() {
        return true;
    }

    @Override
    public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return create(Kind.ACTIVE, key, parent, labels);
    }

    @Override
    public List<Mount> view(String key, String parent, Map<String, String> labels) {
        return create(Kind.VIEW, key, parent, labels);
    }

    private List<Mount> create(Kind kind, String key, String parent, Map<String, String> labels) {
        try (MetaStore.Creation creation = store.create(kind, key, parent, labels)) {
            MetaStore.Snapshot snapshot = creation.snapshot();
            // A view of a parent mounts the parent itself; anything else gets a directory of its own.
            if (kind == Kind.ACTIVE || snapshot.parentIds().isEmpty()) {
                Path temporary = directories.createTemporary(snapshot.id());
                try {
                    if (!snapshot.parentIds().isEmpty()) {
                        TreeCopy.copy(directories.path(snapshot.parentIds().getFirst()), temporary);
                    }
                    directories.publish(snapshot.id(), temporary);
                    creation.complete();
                } catch (IOException e) {
                    directories.delete(snapshot.id());
                    throw new UncheckedIOException("copy parent " + parent + " of snapshot " + key, e);
                } catch (RuntimeException | Error e) {
                    directories.delete(snapshot.id());
                    throw e;
                }
            } else {
                creation.complete();
            }
            return mounts(snapshot);
        }
    }

    @Override
    public void commit(String name, String key, Map<String, String> labels) {
        MetaStore.Entry entry = store.get(key);
        Usage usage = entry.info().kind() == Kind.ACTIVE ? DiskUsage.of(directories.path(entry.id())) : Usage.NONE;
        store.commit(key, name, usage, labels);
    }

    @Override
    public void remove(String key) {
        directories.delete(store.remove(key).id());
    }

    @Override
    public void walk(Predicate<? super SnapshotInfo> filter, Consumer<? super SnapshotInfo> consumer) {
        store.walk(filter, consumer);
    }

    @Override
    public void cleanup() {
        directories.cleanup(store.ids());
    }

    @Override
    public void close() {
        store.close();
    }

    private List<Mount> mounts(MetaStore.Snapshot snapshot) {
        boolean view = snapshot.kind() == Kind.VIEW;
        String id = snapshot.parentIds().isEmpty() || !view ? snapshot.id() : snapshot.parentIds().getFirst();
        return List.of(new Mount("bind", directories.path(id).toString(), List.of("rbind", view ? "ro" : "rw")));
    }
}
