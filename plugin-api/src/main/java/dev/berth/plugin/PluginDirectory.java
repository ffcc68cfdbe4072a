package dev.berth.plugin;

import java.util.List;

/** A live, read-only view of the kernel's plugins, in initialisation order. */
@FunctionalInterface
public interface PluginDirectory {
    List<PluginInfo> list();
}
