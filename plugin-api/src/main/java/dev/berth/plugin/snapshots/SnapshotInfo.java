package dev.berth.plugin.snapshots;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;

/**
 * What a snapshotter knows about one snapshot, as containerd's {@code snapshots.Info}.
 *
 * @param kind    active, view or committed
 * @param name    its key (active, view) or name (committed)
 * @param parent  the name of its committed parent, or the empty string for none
 * @param labels  its labels; never null
 * @param created when it was created (for a committed snapshot: when it was committed)
 * @param updated when it or its labels last changed
 */
public record SnapshotInfo(Kind kind, String name, String parent, Map<String, String> labels, Instant created,
        Instant updated) {
    public SnapshotInfo {
        requireNonNull(kind, "kind is null");
        requireNonNull(name, "name is null");
        requireNonNull(parent, "parent is null");
        labels = Map.copyOf(requireNonNull(labels, "labels is null"));
        requireNonNull(created, "created is null");
        requireNonNull(updated, "updated is null");
    }

    /** A copy with other labels, as a caller builds the argument of {@link Snapshotter#update}. */
    public SnapshotInfo withLabels(Map<String, String> newLabels) {
        return new SnapshotInfo(kind, name, parent, newLabels, created, updated);
    }
}
