package dev.berth.plugin.events;

import dev.berth.plugin.PluginType;

/** Plugin types of the events family. */
public final class EventTypes {

    /** Event exchanges ({@code io.containerd.event.v1}); the built-in one has id {@code exchange}. */
    public static final PluginType<Exchange> EXCHANGE = PluginType.of("io.containerd.event.v1", Exchange.class);

    /** containerd's topics of the events Berth publishes. */
    public static final String NAMESPACE_CREATE = "/namespaces/create";
    public static final String NAMESPACE_UPDATE = "/namespaces/update";
    public static final String NAMESPACE_DELETE = "/namespaces/delete";
    public static final String CONTENT_DELETE = "/content/delete";
    public static final String IMAGE_CREATE = "/images/create";
    public static final String IMAGE_UPDATE = "/images/update";
    public static final String IMAGE_DELETE = "/images/delete";
    public static final String SNAPSHOT_PREPARE = "/snapshot/prepare";
    public static final String SNAPSHOT_COMMIT = "/snapshot/commit";
    public static final String SNAPSHOT_REMOVE = "/snapshot/remove";

    private EventTypes() {}
}
