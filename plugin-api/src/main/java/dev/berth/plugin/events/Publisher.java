package dev.berth.plugin.events;

/** Publishes events; what a component that only tells others about its changes asks for. */
public interface Publisher {

    /**
     * Publishes {@code event} under {@code topic} in {@code namespace}, stamped with the current
     * time, to every subscriber whose filter accepts it. Returns without waiting for subscribers.
     *
     * @throws dev.berth.plugin.InvalidArgumentException if the namespace is not a valid identifier or
     *         the topic is not {@code /} followed by identifiers joined by {@code /}
     */
    void publish(String namespace, String topic, Event event);
}
