package dev.berth.plugin;

import java.util.List;

/**
 * The entry point of a plugin module: lists the registrations it contributes. Built-ins are found
 * with {@link java.util.ServiceLoader} on the daemon's class path; a plugin jar lists its providers
 * in {@code META-INF/services/dev.berth.plugin.PluginProvider}, read with the jar's own class loader.
 */
public interface PluginProvider {
    List<Registration<?>> registrations();
}
