package dev.berth.plugin.snapshots;

/**
 * A snapshotter that can reclaim, on request, storage that no snapshot uses any more (for
 * instance after a crash between two steps of a removal), as containerd's
 * {@code snapshots.Cleaner}. Garbage collection calls it after removing snapshots.
 */
public interface Cleaner {

    /** Removes what belongs to no snapshot. Safe to call at any time, concurrently with other calls. */
    void cleanup();
}
