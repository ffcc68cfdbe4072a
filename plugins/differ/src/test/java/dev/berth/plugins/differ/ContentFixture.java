package dev.berth.plugins.differ;

import dev.berth.plugin.DaemonInfo;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.InitContext;
import dev.berth.plugin.PluginDirectory;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Descriptor;
import dev.berth.plugin.content.Digest;
import dev.berth.plugins.content.LocalContentPlugins;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** The built-in local content store in a temp dir, built as the kernel builds it. */
final class ContentFixture {

    private ContentFixture() {}

    static ContentStore open(Path root) throws Exception {
        var registration = new LocalContentPlugins().registrations().getFirst();
        return (ContentStore) registration.init().init(new RootOnly(root));
    }

    static Descriptor commit(ContentStore store, byte[] blob, String mediaType) {
        Digest digest = Digest.sha256(blob);
        try (ContentWriter writer = store.writer("test-" + digest.hex(), blob.length, Optional.of(digest))) {
            writer.write(ByteBuffer.wrap(blob));
            writer.commit(blob.length, Optional.of(digest), Map.of());
        }
        return Descriptor.of(mediaType, digest, blob.length);
    }

    /** What the content plugin asks the kernel for: its root, and a place for exports. */
    private record RootOnly(Path root) implements InitContext {
        @Override
        public Path state() {
            throw new UnsupportedOperationException("state");
        }

        @Override
        public DaemonInfo daemon() {
            throw new UnsupportedOperationException("daemon");
        }

        @Override
        public <C extends Record> C config(Class<C> type) {
            throw new UnsupportedOperationException("config");
        }

        @Override
        public <T> T get(Dependency<T> dependency) {
            throw new UnsupportedOperationException("get");
        }

        @Override
        public <T> Map<String, T> getAll(Dependency.All<T> dependency) {
            throw new UnsupportedOperationException("getAll");
        }

        @Override
        public <T> Optional<T> find(Dependency.Optional<T> dependency) {
            throw new UnsupportedOperationException("find");
        }

        @Override
        public void export(String key, String value) {}

        @Override
        public void capability(String capability) {}

        @Override
        public void platform(String platform) {}

        @Override
        public PluginDirectory plugins() {
            throw new UnsupportedOperationException("plugins");
        }
    }
}
