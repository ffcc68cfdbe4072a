package dev.berth.plugin.runtime;

import java.util.List;
import java.util.Map;

/**
 * A task: a container run by a runtime, seen through its init process (this {@link Process}, whose
 * {@link #id()} is the container's id). Deleting it is {@link PlatformRuntime#delete}.
 */
public interface Task extends Process {

    /** The namespace of the task. */
    String namespace();

    /** The pid of the init process, known from its creation on. */
    int pid();

    /** Freezes every process of the task. */
    void pause();

    /** Thaws a paused task. */
    void resume();

    /**
     * Adds a process to the running task, not started yet; {@link ExecProcess#start()} starts it.
     *
     * @param execId      the process's id, unique within the task
     * @param processSpec the OCI process spec ({@code specs.Process}) as JSON
     * @param io          its standard streams
     */
    ExecProcess exec(String execId, byte[] processSpec, IO io);

    /** The exec process {@code execId}; {@link dev.berth.plugin.NotFoundException} if the task has none. */
    ExecProcess process(String execId);

    /** The processes in the task's container. */
    List<ProcessInfo> pids();

    /**
     * Updates the task's resources.
     *
     * @param resources   the new resources, as the shim takes them (for runc: {@code opencontainers.runtime-spec
     *                    .LinuxResources} as JSON, type {@code types.containerd.io/opencontainers/runtime-spec/1/LinuxResources})
     * @param annotations annotations passed to the shim with them
     */
    void update(TypedValue resources, Map<String, String> annotations);

    /** The task's metrics (for runc, a cgroups {@code io.containerd.cgroups.v1.Metrics} message). */
    TypedValue stats();
}
