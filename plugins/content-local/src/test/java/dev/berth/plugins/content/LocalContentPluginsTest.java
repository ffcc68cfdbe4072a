package dev.berth.plugins.content;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class LocalContentPluginsTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new LocalContentPlugins();
    }
}
