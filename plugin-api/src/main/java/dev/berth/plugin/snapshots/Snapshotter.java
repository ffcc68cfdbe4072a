package dev.berth.plugin.snapshots;

import dev.berth.plugin.mount.Mount;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Filesystem snapshots in parent chains, as containerd's {@code snapshots.Snapshotter}.
 *
 * <p>A snapshot is <em>active</em> (writable, made by {@link #prepare}), a <em>view</em>
 * (read-only, made by {@link #view}) or <em>committed</em> (immutable, made from an active one by
 * {@link #commit}). Only a committed snapshot can be a parent; a snapshot with children cannot be
 * removed. Keys and names share one namespace: a key or name in use cannot be taken again until
 * the snapshot is removed (or, for an active key, committed). The empty string as a parent means
 * none.
 *
 * <p>Errors are those of {@code dev.berth.plugin} with their context, e.g.
 * {@code snapshot k: not found}; I/O failures surface as {@link java.io.UncheckedIOException}. Every
 * method may be called concurrently.
 */
public interface Snapshotter extends AutoCloseable {

    /**
     * The information on the snapshot with this key or name.
     *
     * @throws dev.berth.plugin.NotFoundException if there is none
     */
    SnapshotInfo stat(String key);

    /**
     * Updates the mutable fields of snapshot {@code info.name()}, which are only its labels, and
     * returns the result with {@code updated} set to now. {@code fieldPaths} says what changes, as
     * in containerd: {@code labels} replaces every label with {@code info.labels()};
     * {@code labels.<key>} sets that one label to its value in {@code info.labels()}, or removes it
     * if absent there or empty; an empty list replaces every label. The other fields of
     * {@code info} are ignored.
     *
     * @throws dev.berth.plugin.NotFoundException        if there is no such snapshot
     * @throws dev.berth.plugin.InvalidArgumentException if a path names anything but labels
     */
    SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths);

    /**
     * The resources the snapshot uses on its own, not counting its parents: measured now for an
     * active snapshot, recorded at commit for a committed one; a view uses none of its own.
     *
     * @throws dev.berth.plugin.NotFoundException if there is no such snapshot
     */
    Usage usage(String key);

    /**
     * The mounts of an active snapshot or a view, the same as {@link #prepare} or {@link #view}
     * returned.
     *
     * @throws dev.berth.plugin.NotFoundException          if there is no such snapshot
     * @throws dev.berth.plugin.FailedPreconditionException if it is committed
     */
    List<Mount> mounts(String key);

    /**
     * Whether {@link #stat} and {@link #mounts} return without waiting: they read only memory or
     * memory-mapped files, and take no lock that a change holds across I/O (an fsync, say). The
     * daemon then answers {@code Snapshots.Stat} and {@code Mounts} on the transport's thread that
     * received them; otherwise, by default, on a thread of their own, where a read may block. Every
     * {@code ctr containers create} and {@code ctr run} makes both calls.
     *
     * @since 1.2.0
     */
    default boolean nonBlockingReads() {
        return false;
    }

    /**
     * Creates an active snapshot {@code key} with the contents of {@code parent} (or empty), with
     * these labels, and returns the mounts that give a writable view of it. The root directory of
     * a snapshot without a parent has mode 0755.
     *
     * @throws dev.berth.plugin.AlreadyExistsException   if {@code key} is taken
     * @throws dev.berth.plugin.NotFoundException        if {@code parent} does not exist
     * @throws dev.berth.plugin.InvalidArgumentException if {@code parent} is not committed, or {@code key} is empty
     */
    List<Mount> prepare(String key, String parent, Map<String, String> labels);

    /**
     * As {@link #prepare}, but the snapshot is a view: its mounts are read-only and it can never be
     * committed.
     */
    List<Mount> view(String key, String parent, Map<String, String> labels);

    /**
     * Turns active snapshot {@code key} into committed snapshot {@code name} with these labels
     * (replacing those of the active one), recording its usage. Afterwards {@code key} no longer
     * exists and the contents of {@code name} never change. Its mounts must have been unmounted.
     *
     * @throws dev.berth.plugin.AlreadyExistsException    if {@code name} is taken
     * @throws dev.berth.plugin.NotFoundException         if {@code key} does not exist
     * @throws dev.berth.plugin.FailedPreconditionException if {@code key} is not active
     */
    void commit(String name, String key, Map<String, String> labels);

    /**
     * Removes the snapshot and its contents. Its mounts must have been unmounted.
     *
     * @throws dev.berth.plugin.NotFoundException          if there is no such snapshot
     * @throws dev.berth.plugin.FailedPreconditionException if it has children
     */
    void remove(String key);

    /**
     * Calls {@code consumer} once for each snapshot whose information matches {@code filter}, in no
     * particular order. The consumer may call this snapshotter; snapshots created or removed during
     * the walk may or may not be seen. An exception thrown by {@code consumer} stops the walk and
     * propagates.
     */
    void walk(Predicate<? super SnapshotInfo> filter, Consumer<? super SnapshotInfo> consumer);

    /**
     * Releases the snapshotter's resources; the snapshots stay on disk. Calling it again does
     * nothing; other calls afterwards fail with {@link dev.berth.plugin.UnavailableException}.
     */
    @Override
    void close();
}
