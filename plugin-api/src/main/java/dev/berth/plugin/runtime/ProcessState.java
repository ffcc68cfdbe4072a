package dev.berth.plugin.runtime;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/**
 * A process's state as its shim reports it, as containerd's {@code runtime.State}.
 *
 * @param status     where it is in its life
 * @param pid        its pid; 0 before it exists
 * @param exitStatus its exit status once {@link TaskState#STOPPED}, else 0
 * @param exitedAt   when it exited, once stopped
 * @param io         its standard streams
 */
public record ProcessState(TaskState status, int pid, int exitStatus, Optional<Instant> exitedAt, IO io) {
    public ProcessState {
        requireNonNull(status, "status is null");
        requireNonNull(exitedAt, "exitedAt is null");
        requireNonNull(io, "io is null");
    }
}
