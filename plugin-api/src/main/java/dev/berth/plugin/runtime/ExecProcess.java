package dev.berth.plugin.runtime;

/** A process added to a running task by {@link Task#exec}. */
public interface ExecProcess extends Process {

    /** Deletes the exited (or never started) process and returns its exit. */
    Exit delete();
}
