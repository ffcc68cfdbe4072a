package dev.berth.plugins.grpc.images;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class ImagePluginsConformanceTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new ImagePlugins();
    }
}
