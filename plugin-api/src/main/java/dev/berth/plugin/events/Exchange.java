package dev.berth.plugin.events;

/**
 * The event exchange ({@code io.containerd.event.v1}): components publish, subscribers (the events
 * service, the runtime) receive, and events from outside the daemon are forwarded in with the
 * timestamp and namespace they already carry.
 */
public interface Exchange extends Publisher, Subscriber {

    /**
     * Delivers an envelope built elsewhere (a shim, a client's {@code Forward}) as it is.
     *
     * @throws dev.berth.plugin.InvalidArgumentException if its namespace or topic is invalid
     */
    void forward(Envelope envelope);
}
