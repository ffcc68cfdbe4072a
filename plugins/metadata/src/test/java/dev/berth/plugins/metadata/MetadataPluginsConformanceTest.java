package dev.berth.plugins.metadata;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class MetadataPluginsConformanceTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new MetadataPlugins();
    }
}
