package dev.berth.plugins.grpc.storage;

import dev.berth.api.Headers;
import dev.berth.plugin.DaemonInfo;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.InitContext;
import dev.berth.plugin.PluginDirectory;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentTypes;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Exchange;
import dev.berth.plugin.metadata.MetadataStore;
import dev.berth.plugin.metadata.MetadataTypes;
import dev.berth.plugins.content.LocalContentPlugins;
import dev.berth.plugins.events.EventPlugins;
import dev.berth.plugins.metadata.LmdbMetadataStore;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The real plugins these services run on (the local content store, the LMDB metadata store, the
 * event exchange) in a temp dir, built through their providers as the kernel builds them, and the
 * four services on an in-memory gRPC server whose calls run on virtual threads, as in the daemon.
 */
final class Fixture implements AutoCloseable {
    final ContentStore backend;
    final LmdbMetadataStore metadata;
    final Exchange exchange;
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
    private final Server server;
    final ManagedChannel channel;

    Fixture(Path dir) throws Exception {
        backend = (ContentStore) init(new LocalContentPlugins(), "content", new Context(dir.resolve("content"), Map.of()));
        metadata = LmdbMetadataStore.open(dir.resolve("metadata"), backend, Map.of(), Clock.systemUTC());
        exchange = (Exchange) init(new EventPlugins(), "exchange", new Context(dir.resolve("events"), Map.of()));
        Context services = new Context(dir.resolve("grpc"), Map.of(
                Dependency.one(MetadataTypes.METADATA), metadata,
                Dependency.one(EventTypes.EXCHANGE), exchange));
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name).executor(calls);
        for (Registration<?> registration : new StoragePlugins().registrations()) {
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
    }

    /** What the kernel hands a plugin: its root and the dependencies it declared. */
    private record Context(Path root, Map<Dependency<?>, Object> dependencies) implements InitContext {
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
            Object instance = dependencies.get(dependency);
            if (instance == null) {
                throw new IllegalStateException("undeclared dependency " + dependency);
            }
            return dependency.type().contract().cast(instance);
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

    static <T> List<T> all(java.util.Iterator<T> responses) {
        List<T> list = new ArrayList<>();
        responses.forEachRemaining(list::add);
        return list;
    }
}
