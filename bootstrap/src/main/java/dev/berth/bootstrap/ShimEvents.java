package dev.berth.bootstrap;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.events.Envelope;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.Exchange;
import dev.berth.ttrpc.TtrpcServer;
import dev.berth.ttrpc.shim.TtrpcEvents;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * containerd's ttrpc events endpoint ({@code ttrpc.address}): shims forward their task events here, and each one
 * enters the event exchange as it came (timestamp, namespace, topic, and the payload as its type URL and bytes).
 */
final class ShimEvents {
    private static final Logger log = LoggerFactory.getLogger(ShimEvents.class);

    private ShimEvents() {}

    /** Serves the endpoint on {@code socket} (mode 0660, a stale file replaced) until the server is closed. */
    static TtrpcServer serve(Path socket, Exchange exchange) throws IOException {
        requireNonNull(exchange, "exchange is null");
        TtrpcServer server = TtrpcEvents.register(new TtrpcServer(), envelope -> forward(exchange, envelope)).serve(socket);
        try {
            UnixSocket.restrict(socket, -1, -1);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private static void forward(Exchange exchange, dev.berth.api.services.ttrpc.events.v1.Envelope envelope) {
        Instant timestamp = envelope.hasTimestamp()
                ? Instant.ofEpochSecond(envelope.getTimestamp().getSeconds(), envelope.getTimestamp().getNanos())
                : Instant.now();
        try {
            exchange.forward(new Envelope(timestamp, envelope.getNamespace(), envelope.getTopic(),
                    new Event.Opaque(envelope.getEvent().getTypeUrl(), envelope.getEvent().getValue().toByteArray())));
        } catch (RuntimeException e) {
            // a shim retries a forward that fails: an event the exchange refuses is dropped here, once
            log.warn("dropping event {} from a shim in namespace '{}': {}", envelope.getTopic(),
                    envelope.getNamespace(), e.getMessage());
        }
    }
}
