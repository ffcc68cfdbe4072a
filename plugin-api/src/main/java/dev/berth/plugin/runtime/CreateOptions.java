package dev.berth.plugin.runtime;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.mount.Mount;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What a task is created from, as containerd's {@code runtime.CreateOpts}.
 *
 * @param spec           the container's OCI runtime spec, as JSON ({@code config.json} of the bundle)
 * @param rootfs         the mounts making up its root filesystem, mounted by the shim in order; empty when the
 *                       spec's root is a ready directory
 * @param io             the init process's standard streams
 * @param runtimeName    the runtime, e.g. {@code io.containerd.runc.v2}, or an absolute path to a shim binary
 * @param runtimeOptions the container's runtime options (e.g. runc's {@code containerd.runc.v1.Options}); they
 *                       override the runtime's configured defaults
 * @param taskOptions    options of this task alone; when present they are used instead of {@code runtimeOptions}
 */
public record CreateOptions(
        byte[] spec,
        List<Mount> rootfs,
        IO io,
        String runtimeName,
        Optional<TypedValue> runtimeOptions,
        Optional<TypedValue> taskOptions) {

    public CreateOptions {
        spec = requireNonNull(spec, "spec is null").clone();
        rootfs = List.copyOf(requireNonNull(rootfs, "rootfs is null"));
        requireNonNull(io, "io is null");
        requireNonNull(runtimeName, "runtimeName is null");
        requireNonNull(runtimeOptions, "runtimeOptions is null");
        requireNonNull(taskOptions, "taskOptions is null");
    }

    /** Options with no runtime or task options. */
    public CreateOptions(byte[] spec, List<Mount> rootfs, IO io, String runtimeName) {
        this(spec, rootfs, io, runtimeName, Optional.empty(), Optional.empty());
    }

    @Override
    public byte[] spec() {
        return spec.clone();
    }

    /** The options the shim gets: the task's if any, else the runtime's, as containerd's. */
    public Optional<TypedValue> effectiveOptions() {
        return taskOptions.isPresent() ? taskOptions : runtimeOptions;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CreateOptions that && Arrays.equals(spec, that.spec) && rootfs.equals(that.rootfs)
                && io.equals(that.io) && runtimeName.equals(that.runtimeName)
                && runtimeOptions.equals(that.runtimeOptions) && taskOptions.equals(that.taskOptions);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(spec) + java.util.Objects.hash(rootfs, io, runtimeName, runtimeOptions, taskOptions);
    }

    @Override
    public String toString() {
        return "CreateOptions[spec=" + spec.length + " bytes, rootfs=" + rootfs + ", io=" + io + ", runtimeName="
                + runtimeName + ", runtimeOptions=" + runtimeOptions + ", taskOptions=" + taskOptions + "]";
    }
}
