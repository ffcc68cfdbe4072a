package dev.berth.plugin.snapshots;

import dev.berth.plugin.PluginType;

/** Plugin types of the snapshot family. */
public final class SnapshotTypes {

    /** Snapshotters ({@code io.containerd.snapshotter.v1}); built-ins are {@code native} and {@code overlayfs}. */
    public static final PluginType<Snapshotter> SNAPSHOTTER = PluginType.of("io.containerd.snapshotter.v1", Snapshotter.class);

    private SnapshotTypes() {}
}
