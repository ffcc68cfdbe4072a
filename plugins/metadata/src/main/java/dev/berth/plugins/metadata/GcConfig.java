package dev.berth.plugins.metadata;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The garbage collection scheduler's settings, containerd's {@code gc/scheduler} config.
 *
 * @param pauseThreshold    the most of real time collections may take, 0 to 0.5 (0.02 = 20 ms a second)
 * @param deletionThreshold deletions after which a collection is scheduled; 0 means any deletion
 *                          schedules one when none is pending
 * @param mutationThreshold writes after which the next scheduled collection runs; 0 disables
 * @param scheduleDelay     delay of a collection triggered by a request or a threshold
 * @param startupDelay      delay of the first collection after start
 */
public record GcConfig(double pauseThreshold, int deletionThreshold, int mutationThreshold, Duration scheduleDelay,
        Duration startupDelay) {
    public GcConfig {
        requireNonNull(scheduleDelay, "scheduleDelay is null");
        requireNonNull(startupDelay, "startupDelay is null");
    }

    /** containerd's defaults. */
    public static GcConfig defaults() {
        return new GcConfig(0.02, 0, 100, Duration.ZERO, Duration.ofMillis(100));
    }
}
