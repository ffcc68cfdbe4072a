package dev.berth.plugins.metadata;

import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugins.snapshots.overlay.OverlaySnapshotter;
import dev.berth.tck.snapshots.SnapshotterSuite;
import java.nio.file.Path;
import java.time.Clock;

/** A namespace's view of the overlay snapshotter behaves as a snapshotter must; needs root, which CI has. */
class NamespacedOverlayConformanceTest extends SnapshotterSuite {
    @Override
    protected Snapshotter newSnapshotter(Path root) throws Exception {
        Path backend = root.resolve("overlayfs");
        OverlaySnapshotter.unsupportedReason(backend).ifPresent(reason -> fail("overlay snapshots: " + reason));
        return new NamespacedConformance(root, "overlayfs", OverlaySnapshotter.open(backend, Clock.systemUTC()));
    }
}
