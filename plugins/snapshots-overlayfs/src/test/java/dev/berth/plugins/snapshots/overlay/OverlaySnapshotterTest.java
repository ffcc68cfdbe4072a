package dev.berth.plugins.snapshots.overlay;

import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.tck.snapshots.SnapshotterSuite;
import java.nio.file.Path;
import java.time.Clock;

class OverlaySnapshotterTest extends SnapshotterSuite {
    @Override
    protected Snapshotter newSnapshotter(Path root) {
        return OverlaySnapshotter.open(root, Clock.systemUTC());
    }
}
