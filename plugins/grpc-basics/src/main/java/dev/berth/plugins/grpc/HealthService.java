package dev.berth.plugins.grpc;

import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.services.HealthStatusManager;

/**
 * {@code grpc.health.v1.Health}: the daemon as a whole ({@code ""}) is serving while this plugin is
 * open. Closing it, at shutdown, tells {@code Watch}ers NOT_SERVING before the server goes away.
 */
final class HealthService implements BindableService, AutoCloseable {
    private final HealthStatusManager health = new HealthStatusManager();

    @Override
    public ServerServiceDefinition bindService() {
        return health.getHealthService().bindService();
    }

    @Override
    public void close() {
        health.enterTerminalState();
    }
}
