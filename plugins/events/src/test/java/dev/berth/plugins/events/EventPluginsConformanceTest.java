package dev.berth.plugins.events;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class EventPluginsConformanceTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new EventPlugins();
    }
}
