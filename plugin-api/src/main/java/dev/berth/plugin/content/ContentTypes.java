package dev.berth.plugin.content;

import dev.berth.plugin.PluginType;

/** Plugin types of the content family. */
public final class ContentTypes {

    /** Content stores ({@code io.containerd.content.v1}); the built-in one has id {@code content}. */
    public static final PluginType<ContentStore> CONTENT = PluginType.of("io.containerd.content.v1", ContentStore.class);

    private ContentTypes() {}
}
