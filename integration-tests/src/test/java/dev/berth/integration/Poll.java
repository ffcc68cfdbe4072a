package dev.berth.integration;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for something a daemon does asynchronously. */
final class Poll {
    private static final Duration INTERVAL = Duration.ofMillis(200);

    private Poll() {}

    /**
     * Returns once {@code condition} holds; fails after {@code timeout} with {@code state}, which
     * should describe what was seen instead.
     */
    static void until(Duration timeout, BooleanSupplier condition, Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + timeout + ": " + state.get());
            }
            try {
                Thread.sleep(INTERVAL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting", e);
            }
        }
    }
}
