package dev.berth.plugins.snapshots.copy;

import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.tck.snapshots.SnapshotterSuite;
import java.nio.file.Path;
import java.time.Clock;

class NativeSnapshotterTest extends SnapshotterSuite {
    @Override
    protected Snapshotter newSnapshotter(Path root) {
        return NativeSnapshotter.open(root, Clock.systemUTC());
    }
}
