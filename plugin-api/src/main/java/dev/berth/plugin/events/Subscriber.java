package dev.berth.plugin.events;

import java.util.function.Predicate;

/** Hands out subscriptions to the events published from now on. */
public interface Subscriber {

    /**
     * Subscribes to every event published after this call that {@code filter} accepts (a filter
     * that throws rejects the event). The caller closes the subscription.
     */
    Subscription subscribe(Predicate<? super Envelope> filter);
}
