package dev.berth.plugins.metadata;

import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugins.snapshots.copy.NativeSnapshotter;
import dev.berth.tck.snapshots.SnapshotterSuite;
import java.nio.file.Path;
import java.time.Clock;

/** A namespace's view of the native snapshotter behaves as a snapshotter must. */
class NamespacedNativeConformanceTest extends SnapshotterSuite {
    @Override
    protected Snapshotter newSnapshotter(Path root) throws Exception {
        return new NamespacedConformance(root, "native", NativeSnapshotter.open(root.resolve("native"), Clock.systemUTC()));
    }
}
