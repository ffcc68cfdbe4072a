package dev.berth.plugins.snapshots.copy;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class NativeSnapshotterPluginsTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new NativeSnapshotterPlugins();
    }
}
