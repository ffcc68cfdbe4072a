package dev.berth.plugins.grpc.runtime;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.runtime.PlatformRuntime;
import java.util.List;
import java.util.Optional;

/**
 * The runtimes a task may run on, chosen by a container's runtime name as containerd's tasks
 * service chooses: the runtime whose identity is that name, else the shim v2 runtime, which serves
 * every {@code io.containerd.<name>.<version>} through its shim.
 */
final class Runtimes {
    /** The identity of the shim v2 runtime. */
    static final String SHIM_V2 = "io.containerd.runtime.v2.task";

    private final List<PlatformRuntime> runtimes;

    Runtimes(List<PlatformRuntime> runtimes) {
        this.runtimes = List.copyOf(requireNonNull(runtimes, "runtimes is null"));
    }

    /**
     * The runtime for containers of runtime {@code name}.
     *
     * @throws dev.berth.plugin.NotFoundException if neither it nor the shim v2 runtime is loaded
     */
    PlatformRuntime forName(String name) {
        return find(name).or(() -> find(SHIM_V2)).orElseThrow(() -> BerthException.of(BerthException.Kind.NOT_FOUND,
                "runtime for task " + name));
    }

    /** Every runtime. */
    List<PlatformRuntime> all() {
        return runtimes;
    }

    private Optional<PlatformRuntime> find(String id) {
        return runtimes.stream().filter(runtime -> runtime.id().equals(id)).findFirst();
    }
}
