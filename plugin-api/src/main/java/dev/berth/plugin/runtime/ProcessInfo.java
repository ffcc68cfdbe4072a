package dev.berth.plugin.runtime;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * One process in a task's container.
 *
 * @param pid  its pid
 * @param info what the shim adds about it; runc's shim gives {@code containerd.runc.v1.ProcessDetails} (the exec
 *             id) for exec processes
 */
public record ProcessInfo(int pid, Optional<TypedValue> info) {
    public ProcessInfo {
        requireNonNull(info, "info is null");
    }
}
