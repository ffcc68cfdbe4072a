package dev.berth.bootstrap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.berth.api.events.TaskExit;
import dev.berth.api.services.ttrpc.events.v1.ForwardRequest;
import dev.berth.plugin.DaemonInfo;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.InitContext;
import dev.berth.plugin.PluginDirectory;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.events.Envelope;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Exchange;
import dev.berth.plugin.events.Subscription;
import dev.berth.ttrpc.TtrpcClient;
import dev.berth.ttrpc.TtrpcServer;
import dev.berth.ttrpc.shim.TtrpcEvents;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ttrpc events endpoint, called as a shim calls it, feeding the daemon's real event exchange. */
class ShimEventsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Exchange exchange;
    private TtrpcServer server;

    @BeforeEach
    void setUp() throws Exception {
        exchange = builtInExchange();
        server = ShimEvents.serve(dir.resolve("berth.sock.ttrpc"), exchange);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
        if (exchange instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    @Test
    void forwardsShimEventsIntoTheExchangeAsTheyCame() throws Exception {
        Path socket = dir.resolve("berth.sock.ttrpc");
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        TaskExit exit = TaskExit.newBuilder().setContainerId("c1").setId("c1").setPid(42).setExitStatus(7).build();
        Instant when = Instant.parse("2025-01-02T03:04:05.000000006Z");
        try (Subscription subscription = exchange.subscribe(envelope -> true);
                TtrpcClient shim = TtrpcClient.connect(socket)) {
            forward(shim, "not a namespace!", "/tasks/exit", exit, when);
            forward(shim, "default", "/tasks/exit", exit, when);

            Envelope envelope = subscription.poll(TIMEOUT).orElseThrow();
            assertEquals("default", envelope.namespace(), "the invalid one was dropped, and answered");
            assertEquals("/tasks/exit", envelope.topic());
            assertEquals(when, envelope.timestamp());
            Event.Opaque event = (Event.Opaque) envelope.event();
            assertEquals("containerd.events.TaskExit", event.typeUrl());
            assertArrayEquals(exit.toByteArray(), event.value());
            assertEquals(Optional.empty(), subscription.poll(Duration.ofMillis(100)));
        }
        server.close();
        assertFalse(Files.exists(socket), "the socket goes with the server");
    }

    private static void forward(TtrpcClient shim, String namespace, String topic, TaskExit event, Instant when) {
        ForwardRequest request = ForwardRequest.newBuilder()
                .setEnvelope(dev.berth.api.services.ttrpc.events.v1.Envelope.newBuilder()
                        .setTimestamp(Timestamp.newBuilder().setSeconds(when.getEpochSecond()).setNanos(when.getNano()))
                        .setNamespace(namespace)
                        .setTopic(topic)
                        .setEvent(Any.newBuilder().setTypeUrl("containerd.events.TaskExit").setValue(event.toByteString())))
                .build();
        assertTrue(shim.call(TtrpcEvents.SERVICE, "Forward", request, Empty.parser(), TIMEOUT) != null);
    }

    /** The exchange the daemon runs, built from its registration as the kernel would. */
    private Exchange builtInExchange() throws Exception {
        for (PluginProvider provider : ServiceLoader.load(PluginProvider.class)) {
            for (var registration : provider.registrations()) {
                if (registration.type().equals(EventTypes.EXCHANGE)) {
                    return (Exchange) registration.init().init(new NoContext(dir));
                }
            }
        }
        throw new AssertionError("no built-in event exchange on the class path");
    }

    /** What the exchange's registration may ask of its context: nothing but the daemon's facts. */
    private record NoContext(Path dir) implements InitContext {
        @Override public Path root() { return dir.resolve("root"); }
        @Override public Path state() { return dir.resolve("state"); }
        @Override public DaemonInfo daemon() {
            return new DaemonInfo("0", "test", root(), state(), dir.resolve("berth.sock").toString(),
                    dir.resolve("berth.sock.ttrpc").toString());
        }
        @Override public <C extends Record> C config(Class<C> type) { throw new UnsupportedOperationException(); }
        @Override public <T> T get(Dependency<T> dependency) { throw new UnsupportedOperationException(); }
        @Override public <T> Map<String, T> getAll(Dependency.All<T> dependency) { throw new UnsupportedOperationException(); }
        @Override public <T> Optional<T> find(Dependency.Optional<T> dependency) { throw new UnsupportedOperationException(); }
        @Override public void export(String key, String value) {}
        @Override public void capability(String capability) {}
        @Override public void platform(String platform) {}
        @Override public PluginDirectory plugins() { throw new UnsupportedOperationException(); }
    }
}
