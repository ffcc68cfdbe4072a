package dev.berth.plugins.grpc.runtime;

import dev.berth.api.GrpcServices;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Exchange;
import dev.berth.plugin.metadata.MetadataStore;
import dev.berth.plugin.metadata.MetadataTypes;
import dev.berth.plugin.runtime.PlatformRuntime;
import dev.berth.plugin.runtime.RuntimeTypes;
import java.util.List;

/**
 * containerd's runtime services with containerd's ids: {@code containers} over the metadata store
 * (publishing to the event exchange), and {@code tasks} over the metadata store and every runtime.
 */
public final class RuntimeServicePlugins implements PluginProvider {
    private static final Dependency.One<MetadataStore> METADATA = Dependency.one(MetadataTypes.METADATA);
    private static final Dependency.One<Exchange> EXCHANGE = Dependency.one(EventTypes.EXCHANGE);
    private static final Dependency.All<PlatformRuntime> RUNTIMES = Dependency.all(RuntimeTypes.RUNTIME);

    @Override
    public List<Registration<?>> registrations() {
        return List.of(
                Registration.builder(GrpcServices.TYPE, "containers")
                        .requires(METADATA, EXCHANGE)
                        .init(ctx -> new ContainersService(ctx.get(METADATA).containers(), ctx.get(EXCHANGE))),
                Registration.builder(GrpcServices.TYPE, "tasks")
                        .requires(METADATA, RUNTIMES)
                        .init(ctx -> new TasksService(ctx.get(METADATA),
                                new Runtimes(List.copyOf(ctx.getAll(RUNTIMES).values())))));
    }
}
