package dev.berth.sample.dedup;

import dev.berth.plugin.PluginProvider;
import dev.berth.tck.PluginProviderSuite;

class DedupSnapshotterPluginsTest extends PluginProviderSuite {
    @Override
    protected PluginProvider provider() {
        return new DedupSnapshotterPlugins();
    }
}
