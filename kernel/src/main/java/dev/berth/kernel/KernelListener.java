package dev.berth.kernel;

import dev.berth.plugin.PluginInfo;

/**
 * Told about plugins that start and stop while the daemon runs, e.g. so the server can add the
 * services of a hot-loaded jar. Called on the thread that changed the kernel; a listener that
 * throws is logged and does not affect the plugin.
 */
public interface KernelListener {
    /**
     * The plugin initialised and is {@code ok}; {@code instance} implements its type's contract.
     * Called after the kernel's lock is released.
     */
    default void started(PluginInfo plugin, Object instance) {}

    /**
     * The plugin is about to be closed (shutdown or unload). Called with the kernel's lock held, so
     * the plugin is still whole: stop routing work to it and return; do not call back into the kernel
     * from another thread and wait for it.
     */
    default void stopping(PluginInfo plugin, Object instance) {}
}
