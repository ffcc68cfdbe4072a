package dev.berth.plugins.differ;

import dev.berth.plugin.Dependency;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.diff.DiffTypes;
import dev.berth.plugin.metadata.MetadataStore;
import dev.berth.plugin.metadata.MetadataTypes;
import java.util.List;

/**
 * Registers the walking differ, {@code io.containerd.differ.v1.walking}. It reads and writes
 * layers through the metadata store's per-namespace content, as containerd's reads them through
 * the metadata database, so that a layer it writes belongs to the caller's namespace and lease.
 */
public final class DifferPlugins implements PluginProvider {

    @Override
    public List<Registration<?>> registrations() {
        return List.of(Registration.builder(DiffTypes.DIFFER, "walking")
                .requires(Dependency.one(MetadataTypes.METADATA))
                .init(ctx -> {
                    MetadataStore metadata = ctx.get(Dependency.one(MetadataTypes.METADATA));
                    return new WalkingDiffer(metadata::content, ctx.state().resolve("mounts"),
                            LayerApplier.privilegedProcess());
                }));
    }
}
