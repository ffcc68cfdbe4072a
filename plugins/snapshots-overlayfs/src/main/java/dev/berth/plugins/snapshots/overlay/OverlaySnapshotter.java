package dev.berth.plugins.snapshots.overlay;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.mount.Mounts;
import dev.berth.plugin.snapshots.Cleaner;
import dev.berth.plugin.snapshots.Kind;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugin.snapshots.Usage;
import dev.berth.plugin.snapshots.storage.DiskUsage;
import dev.berth.plugin.snapshots.storage.MetaStore;
import dev.berth.plugin.snapshots.storage.SnapshotDirectories;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The overlay snapshotter, as containerd's {@code overlayfs}: each snapshot holds only its own
 * changes, in {@code snapshots/<id>/fs}, and the kernel's overlay filesystem stacks them, with
 * {@code snapshots/<id>/work} as the scratch directory of an active one. A snapshot without parents
 * and a view of a single parent are plain bind mounts.
 *
 * <p>Layout under the root: {@code metadata/} (the {@link MetaStore}) and {@code snapshots/<id>/}.
 */
public final class OverlaySnapshotter implements Snapshotter, Cleaner {
    private final MetaStore store;
    private final SnapshotDirectories directories;
    private final boolean indexOff;

    private OverlaySnapshotter(MetaStore store, SnapshotDirectories directories, boolean indexOff) {
        this.store = store;
        this.directories = directories;
        this.indexOff = indexOff;
    }

    /**
     * Why overlay snapshots cannot work under {@code root}, if they cannot: checked as containerd's
     * {@code overlayutils.Supported} does, by mounting a small overlay of two lower directories in a
     * temporary directory under {@code root} (which needs privilege and kernel support).
     */
    public static Optional<String> unsupportedReason(Path root) {
        requireNonNull(root, "root is null");
        Path check = null;
        try {
            // Rootless overlays need user-namespace options (userxattr) this snapshotter does not use.
            if (!Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))) {
                return Optional.of("overlay snapshots need root");
            }
            Files.createDirectories(root);
            check = Files.createTempDirectory(root, "overlay-check-");
            for (String dir : List.of("lower1", "lower2", "upper", "work", "merged")) {
                Files.createDirectory(check.resolve(dir));
            }
            Mount overlay = new Mount("overlay", "overlay", List.of(
                    "lowerdir=" + check.resolve("lower2") + ":" + check.resolve("lower1"),
                    "upperdir=" + check.resolve("upper"),
                    "workdir=" + check.resolve("work")));
            Mounts.mount(overlay, check.resolve("merged"));
            Mounts.unmountAll(check.resolve("merged"));
            return Optional.empty();
        } catch (BerthException e) {
            return Optional.of("overlay mounts are not possible in " + root + ": " + e.getMessage());
        } catch (IOException e) {
            return Optional.of("cannot check overlay support in " + root + ": " + e);
        } finally {
            if (check != null) {
                try {
                    Mounts.unmountAll(check.resolve("merged"));
                    SnapshotDirectories.deleteTree(check);
                } catch (IOException | RuntimeException e) {
                    // The check directory is only litter; a failure to remove it must not hide the answer.
                }
            }
        }
    }

    /**
     * Opens the snapshotter kept in {@code root}, creating it if needed, and removes leftovers of a
     * crash. Does not check {@link #unsupportedReason}; mounts fail where overlays are not possible.
     */
    public static OverlaySnapshotter open(Path root, Clock clock) {
        requireNonNull(root, "root is null");
        requireNonNull(clock, "clock is null");
        MetaStore store = MetaStore.open(root.resolve("metadata"), clock);
        // As containerd: where the kernel has an overlay index, it is turned off, because an index
        // ties a lower directory to one upper and the same layers are stacked under many.
        boolean indexOff = Files.exists(Path.of("/sys/module/overlay/parameters/index"));
        OverlaySnapshotter snapshotter = new OverlaySnapshotter(store, new SnapshotDirectories(root.resolve("snapshots")), indexOff);
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
        return entry.info().kind() == Kind.ACTIVE ? DiskUsage.of(upper(entry.id())) : entry.usage();
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
            Path temporary = directories.createTemporary(snapshot.id());
            try {
                Path fs = Files.createDirectory(temporary.resolve("fs"));
                Files.setAttribute(fs, "unix:mode", 0755);
                if (kind == Kind.ACTIVE) {
                    Files.createDirectory(temporary.resolve("work"));
                    Files.setAttribute(temporary.resolve("work"), "unix:mode", 0711);
                }
                if (!snapshot.parentIds().isEmpty()) {
                    // The merged root takes the upper directory's owner: keep the parent's.
                    Path parentFs = upper(snapshot.parentIds().getFirst());
                    Files.setAttribute(fs, "unix:uid", Files.getAttribute(parentFs, "unix:uid"), LinkOption.NOFOLLOW_LINKS);
                    Files.setAttribute(fs, "unix:gid", Files.getAttribute(parentFs, "unix:gid"), LinkOption.NOFOLLOW_LINKS);
                }
                directories.publish(snapshot.id(), temporary);
                creation.complete();
            } catch (IOException e) {
                directories.delete(snapshot.id());
                throw new UncheckedIOException("create snapshot " + key, e);
            } catch (RuntimeException | Error e) {
                directories.delete(snapshot.id());
                throw e;
            }
            return mounts(snapshot);
        }
    }

    @Override
    public void commit(String name, String key, Map<String, String> labels) {
        MetaStore.Entry entry = store.get(key);
        Usage usage = entry.info().kind() == Kind.ACTIVE ? DiskUsage.of(upper(entry.id())) : Usage.NONE;
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

    private Path upper(String id) {
        return directories.path(id).resolve("fs");
    }

    private List<Mount> mounts(MetaStore.Snapshot snapshot) {
        List<String> parents = snapshot.parentIds();
        boolean active = snapshot.kind() == Kind.ACTIVE;
        if (parents.isEmpty()) {
            return List.of(new Mount("bind", upper(snapshot.id()).toString(), List.of(active ? "rw" : "ro", "rbind")));
        }
        if (!active && parents.size() == 1) {
            // overlay needs two lower directories to be read-only; one layer is shown by binding it.
            return List.of(new Mount("bind", upper(parents.getFirst()).toString(), List.of("ro", "rbind")));
        }
        List<String> options = new ArrayList<>();
        if (indexOff) {
            options.add("index=off");
        }
        if (active) {
            options.add("workdir=" + directories.path(snapshot.id()).resolve("work"));
            options.add("upperdir=" + upper(snapshot.id()));
        }
        List<String> lowers = new ArrayList<>(parents.size());
        for (String parent : parents) {
            lowers.add(upper(parent).toString());
        }
        options.add("lowerdir=" + String.join(":", lowers));
        return List.of(new Mount("overlay", "overlay", options));
    }
}
