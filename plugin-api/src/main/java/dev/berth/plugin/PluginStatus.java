package dev.berth.plugin;

/** A plugin's state as introspection reports it. */
public enum PluginStatus {
    /** Registered and resolved, waiting for its dependencies to initialise. */
    PENDING,
    /** Initialised and serving. */
    OK,
    /** Asked to be skipped (e.g. the host lacks a kernel feature); not an error. */
    SKIP,
    /** Failed to resolve or initialise; its error says why. */
    ERROR,
    /** Closed, or unloaded with its jar. */
    CLOSED
}
