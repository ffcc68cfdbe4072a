package dev.berth.plugin.runtime;

/** The states of a task or process, as containerd's {@code runtime.Status}. */
public enum TaskState {
    /** Set up by the runtime, not started yet. */
    CREATED,
    /** Started and not exited. */
    RUNNING,
    /** Exited; waits to be deleted. */
    STOPPED,
    /** Deleted. */
    DELETED,
    /** Frozen by {@link Task#pause()}. */
    PAUSED,
    /** Being frozen. */
    PAUSING,
    /** Reported by the shim with a state this version does not know. */
    UNKNOWN
}
