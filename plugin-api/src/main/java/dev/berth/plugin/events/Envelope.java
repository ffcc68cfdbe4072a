package dev.berth.plugin.events;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * An event as subscribers receive it.
 *
 * @param timestamp when it was published
 * @param namespace the namespace it happened in
 * @param topic     its topic, e.g. {@code /namespaces/create}
 * @param event     the event
 */
public record Envelope(Instant timestamp, String namespace, String topic, Event event) {
    public Envelope {
        requireNonNull(timestamp, "timestamp is null");
        requireNonNull(namespace, "namespace is null");
        requireNonNull(topic, "topic is null");
        requireNonNull(event, "event is null");
    }
}
