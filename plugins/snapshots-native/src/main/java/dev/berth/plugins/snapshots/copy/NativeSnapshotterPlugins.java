package dev.berth.plugins.snapshots.copy;

import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.snapshots.SnapshotTypes;
import java.time.Clock;
import java.util.List;

/** Registers the copy-based snapshotter, {@code io.containerd.snapshotter.v1.native}, rooted in the plugin's own directory. */
public final class NativeSnapshotterPlugins implements PluginProvider {

    @Override
    public List<Registration<?>> registrations() {
        return List.of(Registration.builder(SnapshotTypes.SNAPSHOTTER, "native")
                .init(ctx -> {
                    ctx.export("root", ctx.root().toString());
                    return NativeSnapshotter.open(ctx.root(), Clock.systemUTC());
                }));
    }
}
