package dev.berth.plugins.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.UnavailableException;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.events.Envelope;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Subscription;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MemoryExchangeTest {
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    private final MemoryExchange exchange = new MemoryExchange(Clock.fixed(NOW, ZoneOffset.UTC), 3);

    @Test
    void deliversInOrderWithTimestampNamespaceAndTopic() throws Exception {
        try (Subscription subscription = exchange.subscribe(envelope -> true)) {
            exchange.publish("default", EventTypes.NAMESPACE_CREATE, new Event.NamespaceCreate("a", Map.of("k", "v")));
            exchange.publish("a", EventTypes.NAMESPACE_DELETE, new Event.NamespaceDelete("a"));
            assertEquals(new Envelope(NOW, "default", "/namespaces/create", new Event.NamespaceCreate("a", Map.of("k", "v"))),
                    subscription.take());
            assertEquals(new Envelope(NOW, "a", "/namespaces/delete", new Event.NamespaceDelete("a")), subscription.take());
            assertEquals(Optional.empty(), subscription.poll(Duration.ofMillis(10)));
        }
    }

    @Test
    void filterSelectsEventsAndAThrowingFilterRejects() throws Exception {
        Digest digest = Digest.sha256("x".getBytes(StandardCharsets.UTF_8));
        try (Subscription content = exchange.subscribe(envelope -> envelope.topic().startsWith("/content/"));
             Subscription throwing = exchange.subscribe(envelope -> {
                 throw new IllegalStateException("broken filter");
             })) {
            exchange.publish("ns", EventTypes.NAMESPACE_DELETE, new Event.NamespaceDelete("ns"));
            exchange.publish("ns", EventTypes.CONTENT_DELETE, new Event.ContentDelete(digest));
            assertEquals(new Event.ContentDelete(digest), content.take().event());
            assertEquals(Optional.empty(), content.poll(Duration.ZERO));
            assertEquals(Optional.empty(), throwing.poll(Duration.ZERO));
        }
    }

    @Test
    void onlyEventsPublishedAfterSubscribingArrive() throws Exception {
        exchange.publish("ns", EventTypes.NAMESPACE_DELETE, new Event.NamespaceDelete("before"));
        try (Subscription subscription = exchange.subscribe(envelope -> true)) {
            exchange.publish("ns", EventTypes.NAMESPACE_DELETE, new Event.NamespaceDelete("after"));
            assertEquals(new Event.NamespaceDelete("after"), subscription.take().event());
        }
    }

    @Test
    void refusesInvalidNamespacesAndTopicsAsContainerd() {
        Event event = new Event.NamespaceDelete("x");
        assertThrows(InvalidArgumentException.class, () -> exchange.publish("", "/a", event));
        assertThrows(InvalidArgumentException.class, () -> exchange.publish("bad name", "/a", event));
        assertThrows(InvalidArgumentException.class, () -> exchange.publish("ns", "", event));
        assertThrows(InvalidArgumentException.class, () -> exchange.publish("ns", "a/b", event));
        assertThrows(InvalidArgumentException.class, () -> exchange.publish("ns", "/", event));
        assertThrows(InvalidArgumentException.class, () -> exchange.publish("ns", "/a//b", event));
        assertThrows(InvalidArgumentException.class,
                () -> exchange.forward(new Envelope(NOW, "ns", "/a/", event)));
    }

    @Test
    void forwardKeepsTheEnvelopeAsItCame() throws Exception {
        Envelope envelope = new Envelope(Instant.parse("2001-02-03T04:05:06Z"), "shim", "/tasks/oom",
                new Event.Opaque("containerd.events.TaskOOM", new byte[] {10, 1, 'c'}));
        try (Subscription subscription = exchange.subscribe(e -> true)) {
            exchange.forward(envelope);
            assertEquals(envelope, subscription.take());
        }
    }

    @Test
    void closingReleasesAWaitingTaker() throws Exception {
        Subscription subscription = exchange.subscribe(envelope -> true);
        CompletableFuture<Throwable> taker = CompletableFuture.supplyAsync(() -> {
            try {
                subscription.take();
                return null;
            } catch (Throwable e) {
                return e;
            }
        }, Thread::startVirtualThread);
        Thread.sleep(50);
        subscription.close();
        assertTrue(taker.get(5, TimeUnit.SECONDS) instanceof UnavailableException);
    }

    @Test
    void aSubscriberTooFarBehindIsDroppedAfterItsPendingEvents() throws Exception {
        try (Subscription slow = exchange.subscribe(envelope -> true)) {
            for (int i = 0; i < 5; i++) {
                exchange.publish("ns", EventTypes.NAMESPACE_DELETE, new Event.NamespaceDelete("n" + i));
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(new Event.NamespaceDelete("n" + i), slow.take().event());
            }
            UnavailableException dropped = assertThrows(UnavailableException.class, slow::take);
            assertTrue(dropped.getMessage().contains("behind"), dropped.getMessage());
        }
    }

    @Test
    void closingTheExchangeEndsEverySubscription() {
        Subscription subscription = exchange.subscribe(envelope -> true);
        exchange.close();
        assertThrows(UnavailableException.class, () -> subscription.poll(Duration.ofSeconds(1)));
    }
}
