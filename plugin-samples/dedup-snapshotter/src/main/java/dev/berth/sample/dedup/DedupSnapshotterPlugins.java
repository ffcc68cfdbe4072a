package dev.berth.sample.dedup;

import dev.berth.plugin.InitContext;
import dev.berth.plugin.PluginInfo;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.snapshots.SnapshotTypes;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * Registers {@code io.containerd.snapshotter.v1.dedup}, the deduplicating snapshotter, rooted in
 * the plugin's own directory; clients select it as any other, e.g. {@code ctr snapshots
 * --snapshotter dedup} or {@code ctr images import --snapshotter dedup}.
 *
 * <p>Exports: {@code root}; {@code origin}, the jar the daemon loaded it from, so that
 * {@code ctr plugins ls -d} tells which build serves; and the pool as found at start:
 * {@code pool-files}, {@code pool-bytes} (what it stores) and {@code pool-saved-bytes} (what
 * separate copies of its shared files would take beyond that).
 */
public final class DedupSnapshotterPlugins implements PluginProvider {
    static final String ID = "dedup";

    @Override
    public List<Registration<?>> registrations() {
        return List.of(Registration.builder(SnapshotTypes.SNAPSHOTTER, ID)
                .config(DedupConfig.class)
                .init(ctx -> {
                    DedupConfig config = ctx.config(DedupConfig.class);
                    DedupSnapshotter snapshotter = DedupSnapshotter.open(ctx.root(), config.matchModificationTimes(),
                            Clock.systemUTC());
                    try {
                        Pool.Stats pool = snapshotter.poolStats();
                        ctx.export("root", ctx.root().toString());
                        origin(ctx).ifPresent(origin -> ctx.export("origin", origin));
                        ctx.export("pool-files", Long.toString(pool.files()));
                        ctx.export("pool-bytes", Long.toString(pool.bytes()));
                        ctx.export("pool-saved-bytes", Long.toString(pool.savedBytes()));
                        return snapshotter;
                    } catch (RuntimeException e) {
                        snapshotter.close();
                        throw e;
                    }
                }));
    }

    private static Optional<String> origin(InitContext ctx) {
        String uri = SnapshotTypes.SNAPSHOTTER.uri() + "." + ID;
        return ctx.plugins().list().stream().filter(info -> info.uri().equals(uri)).map(PluginInfo::origin).findFirst();
    }
}
