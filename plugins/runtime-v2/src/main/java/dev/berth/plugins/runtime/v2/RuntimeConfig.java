package dev.berth.plugins.runtime.v2;

import static java.util.Objects.requireNonNull;

import dev.berth.api.runtime.runc.options.Options;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The config of {@code io.containerd.runtime.v2.task}: containerd's runtime settings and which shim, with which
 * default options, runs each runtime name.
 *
 * @param platforms       the platforms ({@code os/arch}) tasks run on, shown by introspection; empty for the host's
 * @param schedCore       whether shims put each container in a core-scheduling group of its own ({@code SCHED_CORE=1})
 * @param publishBinary   passed to shims as {@code -publish-binary}; the shims of containerd 1.6 publish their events
 *                        over {@code TTRPC_ADDRESS} and only hand this on
 * @param loadTimeout     how long reconnecting to a shim after a restart may take before it counts as dead
 * @param cleanupTimeout  how long the {@code delete} command of a dead shim may take
 * @param shutdownTimeout how long a shim may take to shut down after its task is deleted
 * @param runtimes        runtime names mapped to their shim and default options; a name not listed resolves as
 *                        containerd's ({@code io.containerd.<name>.<version>} runs {@code containerd-shim-<name>-<version>})
 */
public record RuntimeConfig(
        List<String> platforms,
        boolean schedCore,
        String publishBinary,
        Duration loadTimeout,
        Duration cleanupTimeout,
        Duration shutdownTimeout,
        Map<String, ShimConfig> runtimes) {

    public RuntimeConfig {
        platforms = List.copyOf(requireNonNull(platforms, "platforms is null"));
        requireNonNull(publishBinary, "publishBinary is null");
        requireNonNull(loadTimeout, "loadTimeout is null");
        requireNonNull(cleanupTimeout, "cleanupTimeout is null");
        requireNonNull(shutdownTimeout, "shutdownTimeout is null");
        runtimes = Map.copyOf(requireNonNull(runtimes, "runtimes is null"));
    }

    /**
     * How one runtime name runs.
     *
     * @param shim        the shim binary: a name looked up on {@code PATH} or an absolute path; absent for the name
     *                    containerd derives from the runtime name
     * @param runcOptions runc's options ({@code containerd.runc.v1.Options}) every task of this runtime starts from;
     *                    a container's own runtime options override the fields they set
     */
    public record ShimConfig(Optional<String> shim, Optional<RuncOptions> runcOptions) {
        public ShimConfig {
            requireNonNull(shim, "shim is null");
            requireNonNull(runcOptions, "runcOptions is null");
        }
    }

    /**
     * Default fields of runc's options; an absent field is left to the shim's default.
     *
     * @param binaryName    the OCI runtime executable the shim runs instead of {@code runc}
     * @param root          runc's state directory ({@code runc --root}); the shim adds the namespace; absent for
     *                      {@code .runc} in the runtime's state directory
     * @param systemdCgroup whether runc manages cgroups through systemd
     * @param noPivotRoot   whether runc uses {@code MS_MOVE} instead of {@code pivot_root}
     * @param noNewKeyring  whether runc leaves the container in the caller's session keyring
     * @param criuPath      the {@code criu} executable for checkpoints
     * @param shimCgroup    the cgroup the shim puts itself in
     */
    public record RuncOptions(
            Optional<String> binaryName,
            Optional<String> root,
            Optional<Boolean> systemdCgroup,
            Optional<Boolean> noPivotRoot,
            Optional<Boolean> noNewKeyring,
            Optional<String> criuPath,
            Optional<String> shimCgroup) {

        public RuncOptions {
            requireNonNull(binaryName, "binaryName is null");
            requireNonNull(root, "root is null");
            requireNonNull(systemdCgroup, "systemdCgroup is null");
            requireNonNull(noPivotRoot, "noPivotRoot is null");
            requireNonNull(noNewKeyring, "noNewKeyring is null");
            requireNonNull(criuPath, "criuPath is null");
            requireNonNull(shimCgroup, "shimCgroup is null");
        }

        Options toProto() {
            Options.Builder options = Options.newBuilder();
            binaryName.ifPresent(options::setBinaryName);
            root.ifPresent(options::setRoot);
            systemdCgroup.ifPresent(options::setSystemdCgroup);
            noPivotRoot.ifPresent(options::setNoPivotRoot);
            noNewKeyring.ifPresent(options::setNoNewKeyring);
            criuPath.ifPresent(options::setCriuPath);
            shimCgroup.ifPresent(options::setShimCgroup);
            return options.build();
        }
    }
}
