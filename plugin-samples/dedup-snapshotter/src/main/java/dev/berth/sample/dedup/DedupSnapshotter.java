package dev.berth.sample.dedup;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.CanceledException;
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
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A copy-based snapshotter, like containerd's {@code native}, that stores each distinct file of
 * its committed snapshots once: on commit every regular file is moved into a content-addressed
 * {@link Pool} and replaced by a hard link, so the unchanged files a child copies from its parent,
 * and the files layers of different images have in common, take their space once. It needs no
 * kernel support beyond bind mounts and hard links.
 *
 * <p>An active snapshot is a private copy of its parent (never links into the pool, so writing to
 * it cannot reach another snapshot); a view of a parent shares the parent's directory, read-only.
 *
 * <p>{@link #usage} is the apparent size, as {@code native} reports it: what the snapshot holds,
 * measured at commit, whether or not its files are shared. What sharing saves is reported by the
 * pool's {@link Pool.Stats}.
 *
 * <p>Layout under the root: {@code metadata/} (the {@link MetaStore}), {@code snapshots/<id>/},
 * {@code pool/} and {@code staging/} (the {@link Pool}), and {@code catalog/<id>}: the pool keys a
 * committed snapshot links to, written once its files are shared, so that removing it releases
 * exactly those. A committed snapshot without a catalog has not finished sharing (the daemon
 * stopped part way); opening the snapshotter finishes it.
 */
final class DedupSnapshotter implements Snapshotter, Cleaner {
    private static final Logger LOG = LoggerFactory.getLogger(DedupSnapshotter.class);

    private final MetaStore store;
    private final SnapshotDirectories directories;
    private final Pool pool;
    private final Path catalog;
    /** Snapshots being shared after their commit, by id: a child, a view or a removal waits for them. */
    private final Map<String, CountDownLatch> sharing = new ConcurrentHashMap<>();

    private DedupSnapshotter(MetaStore store, SnapshotDirectories directories, Pool pool, Path catalog) {
        this.store = store;
        this.directories = directories;
        this.pool = pool;
        this.catalog = catalog;
    }

    /**
     * Opens the snapshotter kept in {@code root}, creating it if needed, removes leftovers of a
     * crash and finishes sharing the files of snapshots committed just before one.
     *
     * @param matchModificationTimes whether files must have the same modification time to share storage
     */
    static DedupSnapshotter open(Path root, boolean matchModificationTimes, Clock clock) {
        requireNonNull(root, "root is null");
        requireNonNull(clock, "clock is null");
        MetaStore store = MetaStore.open(root.resolve("metadata"), clock);
        try {
            Pool pool = Pool.open(poolDirectory(root), root.resolve("staging"), matchModificationTimes);
            Path catalog = Files.createDirectories(root.resolve("catalog"));
            DedupSnapshotter snapshotter = new DedupSnapshotter(store, new SnapshotDirectories(root.resolve("snapshots")),
                    pool, catalog);
            snapshotter.cleanup();
            snapshotter.finishSharing();
            return snapshotter;
        } catch (IOException e) {
            store.close();
            throw new UncheckedIOException("open dedup snapshotter in " + root, e);
        } catch (RuntimeException | Error e) {
            store.close();
            throw e;
        }
    }

    /** Where the snapshotter rooted in {@code root} keeps its pool. */
    static Path poolDirectory(Path root) {
        return root.resolve("pool");
    }

    /** What the pool holds now. */
    Pool.Stats poolStats() {
        try {
            return pool.stats();
        } catch (IOException e) {
            throw new UncheckedIOException("count the dedup pool", e);
        }
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
            if (!snapshot.parentIds().isEmpty()) {
                // A parent still being shared has directories whose times are not yet restored.
                awaitSharing(snapshot.parentIds().getFirst());
            }
            // A view of a parent mounts the parent itself; anything else gets a directory of its own.
            if (kind == Kind.ACTIVE || snapshot.parentIds().isEmpty()) {
                Path temporary = directories.createTemporary(snapshot.id());
                try {
                    if (!snapshot.parentIds().isEmpty()) {
                        // Regular files become new files, so a writable snapshot never shares an inode with
                        // the pool; paths sharing an inode are linked again, which in a committed snapshot
                        // happens only for files that were hard links when committed (see Pool#share).
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

    /**
     * Commits as the contract says, then shares the snapshot's files with the pool before
     * returning. The snapshot is committed (and immutable) before any of its files becomes a
     * link, so a crash never leaves a writable snapshot linked into the pool.
     */
    @Override
    public void commit(String name, String key, Map<String, String> labels) {
        MetaStore.Entry entry = store.get(key);
        Usage usage = entry.info().kind() == Kind.ACTIVE ? DiskUsage.of(directories.path(entry.id())) : Usage.NONE;
        CountDownLatch latch = claim(entry.id());
        try {
            store.commit(key, name, usage, labels);
            share(entry.id(), name);
        } finally {
            sharing.remove(entry.id(), latch);
            latch.countDown();
        }
    }

    @Override
    public void remove(String key) {
        MetaStore.Snapshot removed = store.remove(key);
        awaitSharing(removed.id());
        directories.delete(removed.id());
        Path list = catalog.resolve(removed.id());
        try {
            try {
                pool.release(Files.readAllLines(list, StandardCharsets.US_ASCII));
                Files.delete(list);
            } catch (NoSuchFileException unfinished) {
                if (removed.kind() == Kind.COMMITTED) {
                    // Its sharing never finished, so which pool files it held is unknown: look at all.
                    pool.sweep();
                }
            }
        } catch (IOException e) {
            // The snapshot is gone; what is left of it in the pool is found by the next cleanup.
            LOG.warn("snapshot {} is removed but the pool files only it used are not yet: {}", key, e.toString());
        }
    }

    @Override
    public void walk(Predicate<? super SnapshotInfo> filter, Consumer<? super SnapshotInfo> consumer) {
        store.walk(filter, consumer);
    }

    /** Removes directories, catalogs and pool files that belong to no snapshot. */
    @Override
    public void cleanup() {
        Set<String> ids = store.ids();
        directories.cleanup(ids);
        try {
            try (DirectoryStream<Path> lists = Files.newDirectoryStream(catalog)) {
                for (Path list : lists) {
                    String name = list.getFileName().toString();
                    if (!ids.contains(name.endsWith(".tmp") ? name.substring(0, name.length() - 4) : name)) {
                        Files.deleteIfExists(list);
                    }
                }
            }
            pool.sweep();
        } catch (IOException e) {
            throw new UncheckedIOException("clean up the dedup pool", e);
        }
    }

    @Override
    public void close() {
        store.close();
    }

    private void finishSharing() {
        List<String> committed = new ArrayList<>();
        store.walk(info -> info.kind() == Kind.COMMITTED, info -> committed.add(info.name()));
        for (String name : committed) {
            String id = store.get(name).id();
            if (!Files.exists(catalog.resolve(id))) {
                share(id, name);
            }
        }
    }

    /**
     * Shares the files of committed snapshot {@code id} and records their keys. A failure leaves
     * a correct snapshot whose files are not all shared yet; the commit has happened, so it is
     * logged rather than thrown, and the next open retries.
     */
    private void share(String id, String name) {
        try {
            Set<String> keys = new TreeSet<>(pool.share(directories.path(id)));
            Path temporary = catalog.resolve(id + ".tmp");
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                channel.write(StandardCharsets.US_ASCII.encode(keys.isEmpty() ? "" : String.join("\n", keys) + "\n"));
                channel.force(true);
            }
            Files.move(temporary, catalog.resolve(id), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("snapshot {} is committed but its files are not all shared yet; retried when the snapshotter opens: {}",
                    name, e.toString());
        }
    }

    /** Marks snapshot {@code id} as being shared, after any commit of it already under way. */
    private CountDownLatch claim(String id) {
        while (true) {
            CountDownLatch latch = new CountDownLatch(1);
            CountDownLatch running = sharing.putIfAbsent(id, latch);
            if (running == null) {
                return latch;
            }
            await(running, id);
        }
    }

    private void awaitSharing(String id) {
        CountDownLatch running = sharing.get(id);
        if (running != null) {
            await(running, id);
        }
    }

    private static void await(CountDownLatch latch, String id) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while the files of snapshot " + id + " are being shared", e);
        }
    }

    private List<Mount> mounts(MetaStore.Snapshot snapshot) {
        boolean view = snapshot.kind() == Kind.VIEW;
        String id = snapshot.parentIds().isEmpty() || !view ? snapshot.id() : snapshot.parentIds().getFirst();
        return List.of(new Mount("bind", directories.path(id).toString(), List.of("rbind", view ? "ro" : "rw")));
    }
}
