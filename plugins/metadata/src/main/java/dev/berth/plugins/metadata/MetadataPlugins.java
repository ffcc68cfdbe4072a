package dev.berth.plugins.metadata;

import dev.berth.plugin.Dependency;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.content.ContentTypes;
import dev.berth.plugin.metadata.MetadataTypes;
import dev.berth.plugin.snapshots.SnapshotTypes;
import java.time.Clock;
import java.util.List;

/**
 * The metadata store on LMDB ({@code io.containerd.metadata.v1.lmdb}), wrapping the content store
 * and every snapshotter, and its collector ({@code io.containerd.gc.v1.scheduler}).
 */
public final class MetadataPlugins implements PluginProvider {

    public MetadataPlugins() {
        // lmdbjava binds liblmdb through jnr-ffi when its Library class initialises, which takes a few
        // hundred milliseconds; begin that as soon as the provider is found, on another thread, so it
        // overlaps the plugins that initialise before this one. Class initialisation is thread-safe:
        // opening the store waits for it, and reports a failure with its context.
        Thread.ofPlatform().daemon().name("berth-lmdb-preload").start(MetadataPlugins::preloadLmdb);
    }

    private static void preloadLmdb() {
        try {
            Class.forName("org.lmdbjava.Library", true, MetadataPlugins.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            // opening the store fails the same way, with context
        }
    }

    @Override
    public List<Registration<?>> registrations() {
        return List.of(
                Registration.builder(MetadataTypes.METADATA, "lmdb")
                        .requires(Dependency.one(ContentTypes.CONTENT), Dependency.all(SnapshotTypes.SNAPSHOTTER))
                        .init(ctx -> {
                            LmdbMetadataStore store = LmdbMetadataStore.open(ctx.root(),
                                    ctx.get(Dependency.one(ContentTypes.CONTENT)),
                                    ctx.getAll(Dependency.all(SnapshotTypes.SNAPSHOTTER)), Clock.systemUTC());
                            ctx.export("path", store.path().toString());
                            ctx.export("policy", "shared");
                            return store;
                        }),
                Registration.builder(MetadataTypes.GC, "scheduler")
                        .requires(Dependency.one(MetadataTypes.METADATA))
                        .config(GcConfig.class)
                        .init(ctx -> {
                            Scheduler scheduler = new Scheduler(ctx.get(Dependency.one(MetadataTypes.METADATA)),
                                    ctx.config(GcConfig.class));
                            ctx.export("PauseThreshold", String.valueOf(scheduler.pauseThreshold()));
                            ctx.export("DeletionThreshold", String.valueOf(scheduler.deletionThreshold()));
                            ctx.export("MutationThreshold", String.valueOf(scheduler.mutationThreshold()));
                            ctx.export("ScheduleDelay", scheduler.scheduleDelay().toString());
                            return scheduler;
                        }));
    }
}
