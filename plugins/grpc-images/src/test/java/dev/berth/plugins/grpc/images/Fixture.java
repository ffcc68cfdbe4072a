package dev.berth.plugins.grpc.images;

import dev.berth.api.Headers;
import dev.berth.plugin.DaemonInfo;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.InitContext;
import dev.berth.plugin.PluginDirectory;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Descriptor;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.diff.DiffTypes;
import dev.berth.plugin.diff.Differ;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Exchange;
import dev.berth.plugin.metadata.MetadataTypes;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugins.content.LocalContentPlugins;
import dev.berth.plugins.differ.DifferPlugins;
import dev.berth.plugins.events.EventPlugins;
import dev.berth.plugins.metadata.LmdbMetadataStore;
import dev.berth.plugins.snapshots.copy.NativeSnapshotterPlugins;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The real plugins these services run on (the local content store, the native snapshotter, the
 * LMDB metadata store over both, the walking differ, the event exchange) in a temp dir, built
 * through their providers as the kernel builds them, and the three services on an in-memory gRPC
 * server whose calls run on virtual threads, as in the daemon.
 */
final class Fixture implements AutoCloseable {
    final Snapshotter nativeBackend;
    final LmdbMetadataStore metadata;
    final Exchange exchange;
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
    private final Server server;
    final ManagedChannel channel;

    Fixture(Path dir) throws Exception {
        this(dir, Map.of());
    }

    /** With {@code backends} beside {@code native}; the caller closes them. */
    Fixture(Path dir, Map<String, Snapshotter> backends) throws Exception {
        ContentStore content = (ContentStore) init(new LocalContentPlugins(), "content",
                new Context(dir.resolve("content"), Map.of()));
        nativeBackend = (Snapshotter) init(new NativeSnapshotterPlugins(), "native",
                new Context(dir.resolve("native"), Map.of()));
        Map<String, Snapshotter> all = new HashMap<>(backends);
        all.put("native", nativeBackend);
        metadata = LmdbMetadataStore.open(dir.resolve("metadata"), content, all, Clock.systemUTC());
        exchange = (Exchange) init(new EventPlugins(), "exchange", new Context(dir.resolve("events"), Map.of()));
        Differ differ = (Differ) init(new DifferPlugins(), "walking", new Context(dir.resolve("differ"),
                Map.of(Dependency.one(MetadataTypes.METADATA), metadata)));
        Context services = new Context(dir.resolve("grpc"), Map.of(
                Dependency.one(MetadataTypes.METADATA), metadata,
                Dependency.one(EventTypes.EXCHANGE), exchange,
                Dependency.all(DiffTypes.DIFFER), Map.of("walking", differ)));
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name).executor(calls);
        for (Registration<?> registration : new ImagePlugins().registrations()) {
            builder.addService((BindableService) registration.init().init(services));
        }
        server = builder.build().start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    /** The stub sending {@code containerd-namespace: namespace}. */
    static <S extends AbstractStub<S>> S in(S stub, String namespace) {
        return headers(stub, namespace, Optional.empty());
    }

    /** The stub sending the namespace and {@code containerd-lease: lease}. */
    static <S extends AbstractStub<S>> S leased(S stub, String namespace, String lease) {
        return headers(stub, namespace, Optional.of(lease));
    }

    private static <S extends AbstractStub<S>> S headers(S stub, String namespace, Optional<String> lease) {
        Metadata headers = new Metadata();
        headers.put(Headers.NAMESPACE, namespace);
        lease.ifPresent(id -> headers.put(Headers.LEASE, id));
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /** Commits {@code blob} to the content of {@code namespace} and describes it. */
    Descriptor commit(String namespace, byte[] blob, String mediaType) {
        Digest digest = Digest.sha256(blob);
        try (ContentWriter writer = metadata.content(namespace, Optional.empty())
                .writer("test-" + digest.hex(), blob.length, Optional.of(digest))) {
            writer.write(ByteBuffer.wrap(blob));
            writer.commit(blob.length, Optional.of(digest), Map.of());
        }
        return Descriptor.of(mediaType, digest, blob.length);
    }

    /** The bytes of blob {@code digest} in {@code namespace}. */
    byte[] read(String namespace, Digest digest) {
        try (var reader = metadata.content(namespace, Optional.empty()).readerAt(digest)) {
            ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(reader.size()));
            while (buffer.hasRemaining()) {
                if (reader.read(buffer, buffer.position()) < 0) {
                    throw new IllegalStateException("blob shorter than its size");
                }
            }
            return buffer.array();
        }
    }

    private static Object init(PluginProvider provider, String id, InitContext context) throws Exception {
        return provider.registrations().stream().filter(r -> r.id().equals(id)).findFirst().orElseThrow()
                .init().init(context);
    }

    @Override
    public void close() throws Exception {
        channel.shutdownNow();
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
        calls.shutdownNow();
        ((AutoCloseable) exchange).close();
        metadata.close();
        nativeBackend.close();
    }

    static <T> List<T> all(Iterator<T> responses) {
        List<T> list = new ArrayList<>();
        responses.forEachRemaining(list::add);
        return list;
    }

    /** What the kernel hands a plugin: its root (and a state dir beside it), its dependencies, the diff service's config. */
    private record Context(Path root, Map<Dependency<?>, Object> dependencies) implements InitContext {
        @Override
        public Path state() {
            return root.resolveSibling(root.getFileName() + ".state");
        }

        @Override
        public DaemonInfo daemon() {
            throw new UnsupportedOperationException("daemon");
        }

        @Override
        public <C extends Record> C config(Class<C> type) {
            if (type != DiffConfig.class) {
                throw new UnsupportedOperationException("config " + type);
            }
            return type.cast(new DiffConfig(List.of("walking")));
        }

        @Override
        public <T> T get(Dependency<T> dependency) {
            Object instance = dependencies.get(dependency);
            if (instance == null) {
                throw new IllegalStateException("undeclared dependency " + dependency);
            }
            return dependency.type().contract().cast(instance);
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> Map<String, T> getAll(Dependency.All<T> dependency) {
            Object instances = dependencies.get(dependency);
            if (instances == null) {
                throw new IllegalStateException("undeclared dependency " + dependency);
            }
            return (Map<String, T>) instances;
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
