package dev.berth.plugins.grpc.runtime;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.berth.api.Headers;
import dev.berth.plugin.DaemonInfo;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.InitContext;
import dev.berth.plugin.PluginDirectory;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.events.Envelope;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Exchange;
import dev.berth.plugin.metadata.MetadataTypes;
import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.runtime.PlatformRuntime;
import dev.berth.plugin.runtime.RuntimeTypes;
import dev.berth.plugin.runtime.Task;
import dev.berth.plugin.snapshots.Snapshotter;
import dev.berth.plugins.content.LocalContentPlugins;
import dev.berth.plugins.events.EventPlugins;
import dev.berth.plugins.metadata.LmdbMetadataStore;
import dev.berth.plugins.runtime.v2.RuntimeConfig;
import dev.berth.plugins.runtime.v2.RuntimeConfig.RuncOptions;
import dev.berth.plugins.runtime.v2.RuntimeConfig.ShimConfig;
import dev.berth.plugins.runtime.v2.RuntimePlugins;
import dev.berth.plugins.snapshots.copy.NativeSnapshotterPlugins;
import dev.berth.ttrpc.TtrpcServer;
import dev.berth.ttrpc.shim.TtrpcEvents;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The real plugins these services run on (the local content store, the native snapshotter, the LMDB
 * metadata store over both, the event exchange fed by a ttrpc events endpoint as the daemon's, and
 * the shim v2 runtime driving containerd-shim-runc-v2 and runc with a state directory of its own) in
 * a temp dir, and both services on an in-memory gRPC server whose calls run on virtual threads.
 */
final class Fixture implements AutoCloseable {
    static final String RUNC = "io.containerd.runc.v2";
    private static final int SIGKILL = 9;

    final Path dir;
    private final java.util.concurrent.atomic.AtomicInteger specs = new java.util.concurrent.atomic.AtomicInteger();
    final Path runcRoot;
    final Snapshotter nativeBackend;
    final LmdbMetadataStore metadata;
    final Exchange exchange;
    final PlatformRuntime runtime;
    private final TtrpcServer daemonEvents;
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
    private final Server server;
    final ManagedChannel channel;

    Fixture(Path dir) throws Exception {
        this.dir = dir;
        this.runcRoot = Files.createDirectories(dir.resolve("runc"));
        ContentStore content = (ContentStore) init(new LocalContentPlugins(), "content",
                new Context(dir, dir.resolve("content"), Map.of(), null));
        nativeBackend = (Snapshotter) init(new NativeSnapshotterPlugins(), "native",
                new Context(dir, dir.resolve("native"), Map.of(), null));
        metadata = LmdbMetadataStore.open(dir.resolve("metadata"), content, Map.of("native", nativeBackend),
                Clock.systemUTC());
        exchange = (Exchange) init(new EventPlugins(), "exchange", new Context(dir, dir.resolve("events"), Map.of(),
                null));
        // the daemon's ttrpc events endpoint, to which the shims publish
        daemonEvents = TtrpcEvents.register(new TtrpcServer(), envelope -> exchange.forward(new Envelope(
                Instant.ofEpochSecond(envelope.getTimestamp().getSeconds(), envelope.getTimestamp().getNanos()),
                envelope.getNamespace(), envelope.getTopic(),
                new Event.Opaque(envelope.getEvent().getTypeUrl(), envelope.getEvent().getValue().toByteArray()))))
                .serve(dir.resolve("berthd.sock.ttrpc"));
        RuncOptions runc = new RuncOptions(Optional.empty(), Optional.of(runcRoot.toString()), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
        RuntimeConfig runtimeConfig = new RuntimeConfig(List.of(), false, "/bin/false", Duration.ofSeconds(5),
                Duration.ofSeconds(10), Duration.ofSeconds(3), Map.of(RUNC, new ShimConfig(Optional.empty(),
                        Optional.of(runc))));
        runtime = (PlatformRuntime) init(new RuntimePlugins(), "task", new Context(dir, dir.resolve("runtime"),
                Map.of(Dependency.one(EventTypes.EXCHANGE), exchange), runtimeConfig));
        Context services = new Context(dir, dir.resolve("grpc"), Map.of(
                Dependency.one(MetadataTypes.METADATA), metadata,
                Dependency.one(EventTypes.EXCHANGE), exchange,
                Dependency.all(RuntimeTypes.RUNTIME), Map.of("task", runtime)), null);
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name).executor(calls);
        for (Registration<?> registration : new RuntimeServicePlugins().registrations()) {
            builder.addService((BindableService) registration.init().init(services));
        }
        server = builder.build().start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    /** The stub sending {@code containerd-namespace: namespace}. */
    static <S extends AbstractStub<S>> S in(S stub, String namespace) {
        Metadata headers = new Metadata();
        headers.put(Headers.NAMESPACE, namespace);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /**
     * Commits a busybox root filesystem (the static binary and a link per applet the tests use) as
     * snapshot {@code name} of {@code namespace}, written through the mounts of its active snapshot.
     */
    void commitBusybox(String namespace, String name) throws IOException {
        Snapshotter snapshots = metadata.snapshotter(namespace, "native", Optional.empty());
        List<Mount> mounts = snapshots.prepare(name + "-active", "", Map.of());
        // the native snapshotter's mount is a bind of a plain directory
        Path rootfs = Path.of(mounts.getFirst().source());
        Files.createDirectories(rootfs.resolve("bin"));
        for (String sub : List.of("proc", "dev", "sys", "tmp", "etc")) {
            Files.createDirectories(rootfs.resolve(sub));
        }
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
        for (String applet : List.of("sh", "echo", "cat", "sleep", "true")) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        snapshots.commit(name, name + "-active", Map.of());
    }

    /**
     * runc's template spec with the process replaced, no terminal, and a cgroup of this fixture's own:
     * runc's default cgroup is named after the container alone, which other runs may use at the same time.
     */
    byte[] spec(List<String> args) throws Exception {
        Path template = dir.resolve("template");
        if (!Files.exists(template.resolve("config.json"))) {
            Files.createDirectories(template);
            run(List.of("runc", "spec", "--bundle", template.toString()));
        }
        String spec = Files.readString(template.resolve("config.json"));
        spec = spec.replaceFirst("\"terminal\":\\s*true", "\"terminal\": false");
        spec = spec.replaceFirst("\"args\":\\s*\\[\\s*\"sh\"\\s*\\]",
                java.util.regex.Matcher.quoteReplacement("\"args\": " + json(args)));
        spec = spec.replaceFirst("\"linux\":\\s*\\{", java.util.regex.Matcher.quoteReplacement(
                "\"linux\": {\"cgroupsPath\": \"/berth-test/" + dir.getFileName() + "-" + specs.incrementAndGet() + "\","));
        return spec.getBytes(UTF_8);
    }

    static String json(List<String> args) {
        return "[" + String.join(", ", args.stream().map(a -> "\"" + a.replace("\"", "\\\"") + "\"").toList()) + "]";
    }

    private static Object init(PluginProvider provider, String id, InitContext context) throws Exception {
        return provider.registrations().stream().filter(r -> r.id().equals(id)).findFirst().orElseThrow()
                .init().init(context);
    }

    /** Kills and deletes every task left in {@code namespace}, then stops everything. */
    void close(String namespace) throws Exception {
        for (Task task : runtime.tasks(namespace)) {
            try {
                task.kill(SIGKILL, true);
                task.await();
                runtime.delete(namespace, task.id());
            } catch (RuntimeException e) {
                // runc's state below is removed whatever happened
            }
        }
        if (Files.isDirectory(runcRoot.resolve(namespace))) {
            try (Stream<Path> containers = Files.list(runcRoot.resolve(namespace))) {
                for (Path container : containers.toList()) {
                    new ProcessBuilder("runc", "--root", runcRoot.resolve(namespace).toString(), "delete", "--force",
                            container.getFileName().toString()).start().waitFor();
                }
            }
        }
        close();
    }

    @Override
    public void close() throws Exception {
        channel.shutdownNow();
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
        calls.shutdownNow();
        if (runtime instanceof AutoCloseable closeable) {
            closeable.close();
        }
        daemonEvents.close();
        ((AutoCloseable) exchange).close();
        metadata.close();
        nativeBackend.close();
    }

    static void run(List<String> command) throws IOException, InterruptedException {
        java.lang.Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException(command + ": " + out);
        }
    }

    /** What the kernel hands a plugin: its root and state, the daemon's addresses, its dependencies and config. */
    private record Context(Path dir, Path root, Map<Dependency<?>, Object> dependencies, Record config)
            implements InitContext {
        @Override
        public Path state() {
            return root.resolveSibling(root.getFileName() + ".state");
        }

        @Override
        public DaemonInfo daemon() {
            return new DaemonInfo("0.1.0", "test", dir.resolve("root"), dir.resolve("state"),
                    dir.resolve("berthd.sock").toString(), dir.resolve("berthd.sock.ttrpc").toString());
        }

        @Override
        public <C extends Record> C config(Class<C> type) {
            return type.cast(config);
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
