package dev.berth.plugin;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** What the kernel hands a plugin while it initialises. */
public interface InitContext {

    /** The plugin's own persistent directory, {@code <root>/<type>.<id>}; created on first use. */
    Path root();

    /** The plugin's own runtime directory, {@code <state>/<type>.<id>}; created on first use. */
    Path state();

    /** Facts about the daemon hosting this plugin. */
    DaemonInfo daemon();

    /** The plugin's bound config; {@code type} must be the record its registration declared. */
    <C extends Record> C config(Class<C> type);

    /** Resolves a {@link Dependency#one} or {@link Dependency#named} dependency declared by this plugin. */
    <T> T get(Dependency<T> dependency);

    /** Resolves a {@link Dependency#all} dependency: every initialised plugin of the type, by id. */
    <T> Map<String, T> getAll(Dependency.All<T> dependency);

    /** Resolves a {@link Dependency#optional} dependency. */
    <T> Optional<T> find(Dependency.Optional<T> dependency);

    /** Exports shown by introspection ({@code ctr plugins ls -d}); e.g. a root path. */
    void export(String key, String value);

    /** A capability shown by introspection. */
    void capability(String capability);

    /** A platform ({@code os/arch[/variant]}) this plugin supports, shown by introspection. */
    void platform(String platform);

    /** A live, read-only view of every plugin the kernel knows, for introspection services. */
    PluginDirectory plugins();

    /** Stops initialisation: this plugin is skipped with the reason (not an error). */
    default SkipPluginException skip(String reason) {
        return new SkipPluginException(reason);
    }
}
