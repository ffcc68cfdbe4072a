package dev.berth.kernel;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import dev.berth.plugin.DaemonInfo;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * What the kernel is started with.
 *
 * @param daemon           facts handed to every plugin
 * @param userConfig       the user's config (file with includes, then command-line overrides), without
 *                         defaults; the kernel adds every plugin's reference.conf under it
 * @param pluginDirs       directories searched for plugin jars
 * @param disabledPlugins  plugin URIs ({@code type.id}) removed before resolution
 * @param requiredPlugins  plugin URIs that must end {@code ok}
 * @param builtinLoader    the class loader whose {@code PluginProvider} services are the built-ins
 */
public record KernelOptions(
        DaemonInfo daemon,
        Config userConfig,
        List<Path> pluginDirs,
        Set<String> disabledPlugins,
        Set<String> requiredPlugins,
        ClassLoader builtinLoader) {

    public KernelOptions {
        requireNonNull(daemon, "daemon is null");
        requireNonNull(userConfig, "userConfig is null");
        requireNonNull(builtinLoader, "builtinLoader is null");
        pluginDirs = List.copyOf(pluginDirs);
        disabledPlugins = Set.copyOf(disabledPlugins);
        requiredPlugins = Set.copyOf(requiredPlugins);
    }
}
