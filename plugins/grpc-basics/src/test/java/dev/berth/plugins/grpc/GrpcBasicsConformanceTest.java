package dev.berth.plugins.grpc;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class GrpcBasicsConformanceTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new GrpcBasicsPlugins();
    }
}
