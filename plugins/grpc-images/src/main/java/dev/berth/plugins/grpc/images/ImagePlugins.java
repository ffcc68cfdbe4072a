package dev.berth.plugins.grpc.images;

import dev.berth.api.GrpcServices;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.diff.DiffTypes;
import dev.berth.plugin.diff.Differ;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Exchange;
import dev.berth.plugin.metadata.MetadataStore;
import dev.berth.plugin.metadata.MetadataTypes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * containerd's image services with containerd's ids: {@code snapshots} and {@code images} over the
 * metadata store (publishing to the event exchange), and {@code diff} over the differs.
 */
public final class ImagePlugins implements PluginProvider {
    private static final Dependency.One<MetadataStore> METADATA = Dependency.one(MetadataTypes.METADATA);
    private static final Dependency.One<Exchange> EXCHANGE = Dependency.one(EventTypes.EXCHANGE);
    private static final Dependency.All<Differ> DIFFERS = Dependency.all(DiffTypes.DIFFER);

    @Override
    public List<Registration<?>> registrations() {
        return List.of(
                Registration.builder(GrpcServices.TYPE, "snapshots")
                        .requires(METADATA, EXCHANGE)
                        .init(ctx -> new SnapshotsService(ctx.get(METADATA), ctx.get(EXCHANGE))),
                Registration.builder(GrpcServices.TYPE, "images")
                        .requires(METADATA, EXCHANGE)
                        .init(ctx -> new ImagesService(ctx.get(METADATA).images(), ctx.get(EXCHANGE))),
                Registration.builder(GrpcServices.TYPE, "diff")
                        .requires(DIFFERS)
                        .config(DiffConfig.class)
                        .init(ctx -> new DiffService(ordered(ctx.getAll(DIFFERS), ctx.config(DiffConfig.class).order()))));
    }

    /** The differs in the configured order; as containerd, one that is configured but not loaded fails the service. */
    private static List<Differ> ordered(Map<String, Differ> loaded, List<String> order) {
        if (order.isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "no differ configured in order");
        }
        List<Differ> differs = new ArrayList<>();
        for (String id : order) {
            Differ differ = loaded.get(id);
            if (differ == null) {
                throw BerthException.of(BerthException.Kind.NOT_FOUND, "needed differ not loaded: " + id);
            }
            differs.add(differ);
        }
        return differs;
    }
}
