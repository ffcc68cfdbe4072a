package dev.berth.plugins.differ;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class DifferPluginsTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new DifferPlugins();
    }
}
