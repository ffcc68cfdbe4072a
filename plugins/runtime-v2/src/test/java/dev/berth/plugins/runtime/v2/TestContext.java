package dev.berth.plugins.runtime.v2;

import dev.berth.plugin.DaemonInfo;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.InitContext;
import dev.berth.plugin.PluginDirectory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The init context a kernel would give: directories, daemon facts, a config and the one dependency. */
final class TestContext implements InitContext {
    final List<String> platforms = new ArrayList<>();
    private final Path state;
    private final DaemonInfo daemon;
    private final Record config;
    private final Object dependency;

    TestContext(Path dir, Path state, Record config, Object dependency) {
        this.state = state;
        this.daemon = new DaemonInfo("0.1.0", "test", dir.resolve("root"), dir.resolve("state"),
                dir.resolve("berthd.sock").toString(), dir.resolve("berthd.sock.ttrpc").toString());
        this.config = config;
        this.dependency = dependency;
    }

    @Override
    public Path root() {
        return daemon.root().resolve("io.containerd.runtime.v2.task");
    }

    @Override
    public Path state() {
        return state;
    }

    @Override
    public DaemonInfo daemon() {
        return daemon;
    }

    @Override
    public <C extends Record> C config(Class<C> type) {
        return type.cast(config);
    }

    @Override
    public <T> T get(Dependency<T> dependency) {
        return dependency.type().contract().cast(this.dependency);
    }

    @Override
    public <T> Map<String, T> getAll(Dependency.All<T> dependency) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> Optional<T> find(Dependency.Optional<T> dependency) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void export(String key, String value) {}

    @Override
    public void capability(String capability) {}

    @Override
    public void platform(String platform) {
        platforms.add(platform);
    }

    @Override
    public PluginDirectory plugins() {
        throw new UnsupportedOperationException();
    }
}
