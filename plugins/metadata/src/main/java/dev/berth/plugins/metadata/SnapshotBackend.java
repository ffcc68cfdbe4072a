package dev.berth.plugins.metadata;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.snapshots.Snapshotter;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A snapshotter the metadata wraps, with the lock that keeps its cleanup from removing a backend
 * snapshot between its creation and its record in the metadata: held shared by every change made
 * through a namespace, exclusively while the collector removes what the metadata no longer knows.
 *
 * @param name        the snapshotter's id, e.g. {@code overlayfs}
 * @param snapshotter the backend
 * @param lock        shared by changes, exclusive for cleanup
 */
record SnapshotBackend(String name, Snapshotter snapshotter, ReadWriteLock lock) {
    SnapshotBackend {
        requireNonNull(name, "name is null");
        requireNonNull(snapshotter, "snapshotter is null");
        requireNonNull(lock, "lock is null");
    }

    SnapshotBackend(String name, Snapshotter snapshotter) {
        this(name, snapshotter, new ReentrantReadWriteLock());
    }
}
