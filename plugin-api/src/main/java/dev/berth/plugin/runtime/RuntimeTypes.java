package dev.berth.plugin.runtime;

import dev.berth.plugin.PluginType;

/** The runtime plugin type and the topics of the task events, as containerd's {@code runtime} package names them. */
public final class RuntimeTypes {

    /** Platform runtimes ({@code io.containerd.runtime.v2}); the built-in one, driving shim v2 binaries, has id {@code task}. */
    public static final PluginType<PlatformRuntime> RUNTIME =
            PluginType.of("io.containerd.runtime.v2", PlatformRuntime.class);

    /** Topics of the task events (payloads {@code containerd.events.Task*}). */
    public static final String TASK_CREATE = "/tasks/create";
    public static final String TASK_START = "/tasks/start";
    public static final String TASK_OOM = "/tasks/oom";
    public static final String TASK_EXIT = "/tasks/exit";
    public static final String TASK_DELETE = "/tasks/delete";
    public static final String TASK_EXEC_ADDED = "/tasks/exec-added";
    public static final String TASK_EXEC_STARTED = "/tasks/exec-started";
    public static final String TASK_PAUSED = "/tasks/paused";
    public static final String TASK_RESUMED = "/tasks/resumed";
    public static final String TASK_CHECKPOINTED = "/tasks/checkpointed";

    private RuntimeTypes() {}
}
