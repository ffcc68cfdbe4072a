package dev.berth.plugin.diff;

import dev.berth.plugin.PluginType;

/** Plugin types of the diff family. */
public final class DiffTypes {

    /** Differs ({@code io.containerd.differ.v1}); the built-in one has id {@code walking}. */
    public static final PluginType<Differ> DIFFER = PluginType.of("io.containerd.differ.v1", Differ.class);

    private DiffTypes() {}
}
