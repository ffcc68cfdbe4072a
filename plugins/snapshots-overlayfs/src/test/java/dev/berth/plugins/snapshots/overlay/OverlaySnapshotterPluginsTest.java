package dev.berth.plugins.snapshots.overlay;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class OverlaySnapshotterPluginsTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new OverlaySnapshotterPlugins();
    }
}
