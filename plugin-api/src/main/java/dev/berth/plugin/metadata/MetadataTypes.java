package dev.berth.plugin.metadata;

import dev.berth.plugin.PluginType;

/** Plugin types of the metadata family. */
public final class MetadataTypes {
    /** Metadata stores ({@code io.containerd.metadata.v1}); the built-in one has id {@code lmdb}. */
    public static final PluginType<MetadataStore> METADATA = PluginType.of("io.containerd.metadata.v1", MetadataStore.class);
    /** Garbage collection schedulers ({@code io.containerd.gc.v1}); the built-in one has id {@code scheduler}. */
    public static final PluginType<GcScheduler> GC = PluginType.of("io.containerd.gc.v1", GcScheduler.class);

    private MetadataTypes() {}
}
