package dev.berth.plugin.runtime;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * How a process ended.
 *
 * @param pid      its pid
 * @param status   its exit status: the code it exited with, or 128 plus the signal that killed it; 255 when unknown
 * @param exitedAt when it exited
 */
public record Exit(int pid, int status, Instant exitedAt) {
    public Exit {
        requireNonNull(exitedAt, "exitedAt is null");
    }
}
