package dev.berth.api;

import dev.berth.plugin.PluginType;
import io.grpc.BindableService;

/** The plugin type of gRPC services: every ok plugin of this type is served on the daemon's gRPC socket. */
public final class GrpcServices {

    /**
     * containerd's {@code io.containerd.grpc.v1}; a plugin of this type exports the service it
     * implements, e.g. {@code VersionGrpc.VersionImplBase}.
     */
    public static final PluginType<BindableService> TYPE = PluginType.of("io.containerd.grpc.v1", BindableService.class);

    private GrpcServices() {}
}
