package dev.berth.plugins.grpc;

import dev.berth.plugin.DaemonInfo;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.InitContext;
import dev.berth.plugin.PluginDirectory;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** What the kernel would hand these plugins: a root, the daemon's facts and the plugin directory; they ask for nothing else. */
record FakeInitContext(Path root, DaemonInfo daemon, PluginDirectory plugins) implements InitContext {

    static FakeInitContext in(Path dir, PluginDirectory plugins) {
        DaemonInfo daemon = new DaemonInfo("1.2.3", "abc123", dir.resolve("root"), dir.resolve("state"),
                dir.resolve("berth.sock").toString(), dir.resolve("berth.sock.ttrpc").toString());
        return new FakeInitContext(dir.resolve("root/io.containerd.grpc.v1.introspection"), daemon, plugins);
    }

    @Override
    public Path state() {
        throw new UnsupportedOperationException("state");
    }

    @Override
    public <C extends Record> C config(Class<C> type) {
        throw new UnsupportedOperationException("config");
    }

    @Override
    public <T> T get(Dependency<T> dependency) {
        throw new UnsupportedOperationException("get " + dependency);
    }

    @Override
    public <T> Map<String, T> getAll(Dependency.All<T> dependency) {
        throw new UnsupportedOperationException("getAll " + dependency);
    }

    @Override
    public <T> Optional<T> find(Dependency.Optional<T> dependency) {
        throw new UnsupportedOperationException("find " + dependency);
    }

    @Override
    public void export(String key, String value) {
        throw new UnsupportedOperationException("export");
    }

    @Override
    public void capability(String capability) {
        throw new UnsupportedOperationException("capability");
    }

    @Override
    public void platform(String platform) {
        throw new UnsupportedOperationException("platform");
    }
}
