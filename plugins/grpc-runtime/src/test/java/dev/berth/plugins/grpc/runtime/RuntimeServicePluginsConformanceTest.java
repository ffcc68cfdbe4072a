package dev.berth.plugins.grpc.runtime;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class RuntimeServicePluginsConformanceTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new RuntimeServicePlugins();
    }
}
