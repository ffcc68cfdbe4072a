package dev.berth.plugin.events;

import java.time.Duration;
import java.util.Optional;

/**
 * The events one subscriber has yet to take, in the order they were published. A subscriber that
 * falls too far behind is dropped rather than allowed to make the daemon hold events without
 * bound: its subscription ends with {@link dev.berth.plugin.UnavailableException}.
 */
public interface Subscription extends AutoCloseable {

    /**
     * Waits for the next event.
     *
     * @throws dev.berth.plugin.UnavailableException if the subscription was closed, by its owner,
     *         by the exchange shutting down, or because the subscriber fell behind
     * @throws InterruptedException                  if interrupted while waiting
     */
    Envelope take() throws InterruptedException;

    /**
     * Waits at most {@code timeout} for the next event; empty if none came.
     *
     * @throws dev.berth.plugin.UnavailableException as {@link #take()}
     * @throws InterruptedException                  if interrupted while waiting
     */
    Optional<Envelope> poll(Duration timeout) throws InterruptedException;

    /** Ends the subscription; a thread waiting in {@link #take()} is released. Closing twice is harmless. */
    @Override
    void close();
}
