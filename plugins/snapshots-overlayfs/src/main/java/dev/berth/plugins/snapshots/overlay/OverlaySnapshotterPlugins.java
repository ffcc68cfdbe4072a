package dev.berth.plugins.snapshots.overlay;

import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.snapshots.SnapshotTypes;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * Registers the overlay snapshotter, {@code io.containerd.snapshotter.v1.overlayfs}, rooted in the
 * plugin's own directory; skipped, with the reason, where overlay mounts are not possible there.
 */
public final class OverlaySnapshotterPlugins implements PluginProvider {

    @Override
    public List<Registration<?>> registrations() {
        return List.of(Registration.builder(SnapshotTypes.SNAPSHOTTER, "overlayfs")
                .init(ctx -> {
                    Optional<String> unsupported = OverlaySnapshotter.unsupportedReason(ctx.root());
                    if (unsupported.isPresent()) {
                        throw ctx.skip(unsupported.get());
                    }
                    ctx.export("root", ctx.root().toString());
                    return OverlaySnapshotter.open(ctx.root(), Clock.systemUTC());
                }));
    }
}
