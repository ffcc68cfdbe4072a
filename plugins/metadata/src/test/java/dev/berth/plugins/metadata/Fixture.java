package dev.berth.plugins.metadata;

import dev.berth.plugin.DaemonInfo;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.InitContext;
import dev.berth.plugin.PluginDirectory;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugins.content.LocalContentPlugins;
import dev.berth.plugins.snapshots.copy.NativeSnapshotter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A real local content store, a real native snapshotter and a real LMDB metadata store in a temp
 * dir, on a clock tests move.
 */
final class Fixture implements AutoCloseable {
    final Path dir;
    final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    final ContentStore backend;
    final Snapshotter nativeBackend;
    LmdbMetadataStore store;

    Fixture(Path dir) throws Exception {
        this.dir = dir;
        this.backend = contentStore(dir.resolve("content"));
        this.nativeBackend = NativeSnapshotter.open(dir.resolve("snapshots-native"), clock);
        this.store = open();
    }

    void reopen() {
        store.close();
        store = open();
    }

    private LmdbMetadataStore open() {
        return LmdbMetadataStore.open(dir.resolve("metadata"), backend, Map.of("native", nativeBackend), clock);
    }

    Snapshotter snapshots(String namespace) {
        return store.snapshotter(namespace, "native", Optional.empty());
    }

    Snapshotter snapshots(String namespace, String lease) {
        return store.snapshotter(namespace, "native", Optional.of(lease));
    }

    /** The names of every snapshot in the backend snapshotter. */
    static Set<String> backendNames(Snapshotter backend) {
        Set<String> names = new TreeSet<>();
        backend.walk(info -> true, info -> names.add(info.name()));
        return names;
    }

    ContentStore content(String namespace) {
        return store.content(namespace, Optional.empty());
    }

    ContentStore content(String namespace, String lease) {
        return store.content(namespace, Optional.of(lease));
    }

    /** Writes and commits {@code text} through {@code content}; returns its digest. */
    static Digest commit(ContentStore content, String text, Map<String, String> labels) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256(bytes);
        try (ContentWriter writer = content.writer("ref-" + digest.hex(), bytes.length, Optional.of(digest))) {
            writer.write(ByteBuffer.wrap(bytes));
            writer.commit(bytes.length, Optional.of(digest), labels);
        }
        return digest;
    }

    static boolean exists(ContentStore content, Digest digest) {
        try {
            content.info(digest);
            return true;
        } catch (dev.berth.plugin.NotFoundException e) {
            return false;
        }
    }

    @Override
    public void close() {
        store.close();
        nativeBackend.close();
    }

    /** The built-in local content store, built as the kernel builds it. */
    static ContentStore contentStore(Path root) throws Exception {
        var registration = new LocalContentPlugins().registrations().getFirst();
        return (ContentStore) registration.init().init(new RootOnly(root));
    }

    /** A clock that stands still until a test moves it. */
    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration duration) {
            now = now.plus(duration);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException("fixed zone");
        }
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
