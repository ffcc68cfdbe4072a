package dev.berth.plugins.grpc.storage;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class StoragePluginsConformanceTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new StoragePlugins();
    }
}
