package dev.berth.plugin.runtime;

import java.util.List;

/**
 * Runs tasks (a container's processes) for the daemon, as containerd's {@code runtime.PlatformRuntime}. Tasks are
 * kept per namespace by their id, which is the id of the container they run. A runtime outlives the daemon's
 * process: tasks created before a restart are found again by {@link #get} and {@link #tasks}.
 *
 * <p>Failures are {@code dev.berth.plugin} exceptions: {@link dev.berth.plugin.NotFoundException} for an unknown
 * task, {@link dev.berth.plugin.AlreadyExistsException} for a second task of one id,
 * {@link dev.berth.plugin.InvalidArgumentException} for an invalid id or runtime name,
 * {@link dev.berth.plugin.FailedPreconditionException} for an operation the task's state forbids (e.g. deleting a
 * running task), {@link dev.berth.plugin.UnavailableException} when the runtime cannot reach the task's supervisor.
 */
public interface PlatformRuntime {

    /** The runtime's identity, {@code <type>.<id>}, e.g. {@code io.containerd.runtime.v2.task}. */
    String id();

    /**
     * Creates a task: the container's init process, set up but not started ({@link TaskState#CREATED}).
     *
     * @param namespace the namespace of the container
     * @param taskId    the id of the task, that of its container
     * @param options   the spec, root filesystem, stdio and runtime to use
     */
    Task create(String namespace, String taskId, CreateOptions options);

    /** The task {@code taskId} of {@code namespace}; {@link dev.berth.plugin.NotFoundException} if there is none. */
    Task get(String namespace, String taskId);

    /**
     * Whether {@link #get} only looks the task up in memory: it never asks the task's supervisor, and takes no
     * lock held across I/O. The daemon then runs {@code Tasks.Get} on the transport's thread that received it as
     * far as the lookup, and answers there that a container has no task ({@code ctr containers rm} asks this of
     * every container it removes); a task's state is still asked on a thread of its own. By default, the whole
     * call runs on such a thread.
     *
     * @since 1.2.0
     */
    default boolean nonBlockingGet() {
        return false;
    }

    /** Every task of {@code namespace}, in no particular order. */
    List<Task> tasks(String namespace);

    /**
     * Deletes a stopped (or never started) task and releases what it held (its supervisor, its bundle, the
     * mounts of its root filesystem), returning its exit. The task is gone afterwards even if this throws
     * because its supervisor was already gone.
     */
    Exit delete(String namespace, String taskId);
}
