package dev.berth.sample.dedup;

/**
 * The section {@code plugins."io.containerd.snapshotter.v1.dedup"}; defaults and documentation are
 * in this jar's {@code reference.conf}.
 *
 * @param matchModificationTimes whether files must also have the same modification time to share
 *                               storage; without it more is shared, and a shared file shows the
 *                               time of the copy that reached the pool first
 */
public record DedupConfig(boolean matchModificationTimes) {}
