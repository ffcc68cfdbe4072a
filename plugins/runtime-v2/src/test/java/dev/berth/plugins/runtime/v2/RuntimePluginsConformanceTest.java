package dev.berth.plugins.runtime.v2;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class RuntimePluginsConformanceTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new RuntimePlugins();
    }
}
