package dev.berth.plugin.snapshots;

/** The kind of a snapshot, as containerd's {@code snapshots.Kind}. */
public enum Kind {
    /** A read-only snapshot of a committed parent, which can never be committed. */
    VIEW,
    /** A writable snapshot, which can be committed once. */
    ACTIVE,
    /** An immutable snapshot, which can be the parent of others. */
    COMMITTED
}
