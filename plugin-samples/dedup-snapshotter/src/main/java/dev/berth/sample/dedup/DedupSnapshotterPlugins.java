package dev.berth.sample.dedup;

import dev.berth.api.GrpcServices;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.InitContext;
import dev.berth.plugin.PluginInfo;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.snapshots.SnapshotTypes;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
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
 *
 * <p>Also registers {@code io.containerd.grpc.v1.dedup}, a gRPC service of the jar's own
 * ({@code berth.samples.dedup.v1.Pool}) that berthd serves on its socket beside containerd's: the
 * pool's figures as they are now.
 */
public final class DedupSnapshotterPlugins implements PluginProvider {
    static final String ID = "dedup";

    @Override
    public List<Registration<?>> registrations() {
        // The service reads the pool's directory, found by the snapshotter's export, rather than the
        // snapshotter itself: a dependency arrives as the kernel's proxy of its contract, not as the class.
        return List.of(snapshotter(), Registration.builder(GrpcServices.TYPE, ID)
                .requires(Dependency.named(SnapshotTypes.SNAPSHOTTER, ID))
                .init(ctx -> new PoolService(DedupSnapshotter.poolDirectory(Path.of(exports(ctx).get("root"))))));
    }

    private static Registration<?> snapshotter() {
        return Registration.builder(SnapshotTypes.SNAPSHOTTER, ID)
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
                });
    }

    private static Optional<String> origin(InitContext ctx) {
        return snapshotterInfo(ctx).map(PluginInfo::origin);
    }

    private static Map<String, String> exports(InitContext ctx) {
        return snapshotterInfo(ctx).orElseThrow().exports();
    }

    private static Optional<PluginInfo> snapshotterInfo(InitContext ctx) {
        String uri = SnapshotTypes.SNAPSHOTTER.uri() + "." + ID;
        return ctx.plugins().list().stream().filter(info -> info.uri().equals(uri)).findFirst();
    }
}
