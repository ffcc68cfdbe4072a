package dev.berth.plugin.runtime;

/**
 * A process of a task: its init process (the {@link Task} itself) or an {@link ExecProcess}. Each call goes to the
 * process's shim; failures are those listed on {@link PlatformRuntime}.
 */
public interface Process {

    /** The id: the task's id for the init process, the exec id for an exec process. */
    String id();

    /** The current state, asked of the shim. */
    ProcessState state();

    /** Starts the created process; returns its pid. */
    int start();

    /**
     * Sends {@code signal} to the process; with {@code all}, to every process of the container (for the init
     * process only).
     */
    void kill(int signal, boolean all);

    /** Resizes the process's terminal. */
    void resizePty(int width, int height);

    /** Closes the process's standard input, so that a process reading it sees its end. */
    void closeIO();

    /**
     * Waits, as long as it takes, until the process has exited, and returns its exit; returns at once for a process
     * that has already exited. An interrupt of the waiting thread ends the wait with
     * {@link dev.berth.plugin.CanceledException}.
     */
    Exit await();
}
