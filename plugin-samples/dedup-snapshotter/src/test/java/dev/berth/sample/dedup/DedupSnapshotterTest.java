package dev.berth.sample.dedup;

import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.tck.snapshots.SnapshotterSuite;
import java.nio.file.Path;
import java.time.Clock;

class DedupSnapshotterTest extends SnapshotterSuite {
    @Override
    protected Snapshotter newSnapshotter(Path root) {
        return DedupSnapshotter.open(root, true, Clock.systemUTC());
    }
}
