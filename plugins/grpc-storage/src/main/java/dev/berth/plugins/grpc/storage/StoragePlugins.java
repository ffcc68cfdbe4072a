package dev.berth.plugins.grpc.storage;

import dev.berth.api.GrpcServices;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Exchange;
import dev.berth.plugin.metadata.MetadataStore;
import dev.berth.plugin.metadata.MetadataTypes;
import java.util.List;

/**
 * containerd's storage services with containerd's ids: {@code namespaces}, {@code content},
 * {@code leases} over the metadata store, and {@code events} over the event exchange.
 */
public final class StoragePlugins implements PluginProvider {
    private static final Dependency.One<MetadataStore> METADATA = Dependency.one(MetadataTypes.METADATA);
    private static final Dependency.One<Exchange> EXCHANGE = Dependency.one(EventTypes.EXCHANGE);

    @Override
    public List<Registration<?>> registrations() {
        return List.of(
                Registration.builder(GrpcServices.TYPE, "namespaces")
                        .requires(METADATA, EXCHANGE)
                        .init(ctx -> new NamespacesService(ctx.get(METADATA).namespaces(),
                                ctx.get(EXCHANGE))),
                Registration.builder(GrpcServices.TYPE, "content")
                        .requires(METADATA, EXCHANGE)
                        .init(ctx -> new ContentService(ctx.get(METADATA),
                                ctx.get(EXCHANGE))),
                Registration.builder(GrpcServices.TYPE, "leases")
                        .requires(METADATA)
                        .init(ctx -> new LeasesService(ctx.get(METADATA).leases())),
                Registration.builder(GrpcServices.TYPE, "events")
                        .requires(EXCHANGE)
                        .init(ctx -> new EventsService(ctx.get(EXCHANGE))));
    }
}
