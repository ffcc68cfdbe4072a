package dev.berth.plugins.grpc;

import dev.berth.api.GrpcServices;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import java.util.List;

/** The gRPC services every daemon serves, whatever else it runs: version, introspection, health. */
public final class GrpcBasicsPlugins implements PluginProvider {

    @Override
    public List<Registration<?>> registrations() {
        return List.of(
                Registration.builder(GrpcServices.TYPE, "version")
                        .init(ctx -> new VersionService(ctx.daemon().version(), ctx.daemon().revision())),
                Registration.builder(GrpcServices.TYPE, "introspection")
                        .init(ctx -> new IntrospectionService(ctx.plugins(), ServerUuid.loadOrCreate(ctx.root().resolve("uuid")))),
                Registration.builder(GrpcServices.TYPE, "healthcheck")
                        .init(ctx -> new HealthService()));
    }
}
