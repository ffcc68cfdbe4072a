package dev.berth.kernel;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.DaemonInfo;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.InitContext;
import dev.berth.plugin.PluginDirectory;
import dev.berth.plugin.PluginStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The {@link InitContext} of one plugin: its directories, config and resolved dependencies. */
final class NodeContext implements InitContext {
    private final PluginNode node;
    private final DaemonInfo daemon;
    private final PluginDirectory directory;

    NodeContext(PluginNode node, DaemonInfo daemon, PluginDirectory directory) {
        this.node = requireNonNull(node, "node is null");
        this.daemon = requireNonNull(daemon, "daemon is null");
        this.directory = requireNonNull(directory, "directory is null");
    }

    @Override
    public Path root() {
        return ensure(daemon.root().resolve(node.uri()));
    }

    @Override
    public Path state() {
        return ensure(daemon.state().resolve(node.uri()));
    }

    private static Path ensure(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    @Override
    public DaemonInfo daemon() {
        return daemon;
    }

    @Override
    public <C extends Record> C config(Class<C> type) {
        Record config = node.config();
        if (!type.isInstance(config)) {
            throw new IllegalArgumentException(node.uri() + " declared config " + config.getClass().getName()
                    + ", not " + type.getName());
        }
        return type.cast(config);
    }

    @Override
    public <T> T get(Dependency<T> dependency) {
        if (!(dependency instanceof Dependency.One<T>) && !(dependency instanceof Dependency.Named<T>)) {
            throw new IllegalArgumentException("get() takes a one or named dependency, not " + dependency);
        }
        List<PluginNode> found = declared(dependency);
        // resolution and the status check before init guarantee exactly one ok provider
        return dependency.type().contract().cast(found.getFirst().exposed());
    }

    @Override
    public <T> Map<String, T> getAll(Dependency.All<T> dependency) {
        Map<String, T> instances = new LinkedHashMap<>();
        for (PluginNode provider : declared(dependency)) {
            if (provider.status() == PluginStatus.OK) {
                instances.put(provider.id(), dependency.type().contract().cast(provider.exposed()));
            }
        }
        return instances;
    }

    @Override
    public <T> Optional<T> find(Dependency.Optional<T> dependency) {
        return declared(dependency).stream()
                .filter(provider -> provider.status() == PluginStatus.OK)
                .findFirst()
                .map(provider -> dependency.type().contract().cast(provider.exposed()));
    }

    private List<PluginNode> declared(Dependency<?> dependency) {
        List<PluginNode> found = node.resolved().get(dependency);
        if (found == null) {
            throw new IllegalArgumentException(node.uri() + " did not declare the dependency " + dependency);
        }
        return found;
    }

    @Override
    public void export(String key, String value) {
        node.exports().put(requireNonNull(key, "key is null"), requireNonNull(value, "value is null"));
    }

    @Override
    public void capability(String capability) {
        node.capabilities().add(requireNonNull(capability, "capability is null"));
    }

    @Override
    public void platform(String platform) {
        node.platforms().add(requireNonNull(platform, "platform is null"));
    }

    @Override
    public PluginDirectory plugins() {
        return directory;
    }
}
