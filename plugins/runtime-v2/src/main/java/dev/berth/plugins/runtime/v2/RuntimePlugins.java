package dev.berth.plugins.runtime.v2;

import dev.berth.plugin.Dependency;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.runtime.RuntimeTypes;
import java.util.List;
import java.util.Locale;

/**
 * Registers the shim v2 runtime, {@code io.containerd.runtime.v2.task}. It publishes the exits of tasks whose shim
 * died; the shims publish everything else themselves, through the daemon's ttrpc events endpoint.
 */
public final class RuntimePlugins implements PluginProvider {
    private static final Dependency.One<dev.berth.plugin.events.Exchange> EVENTS = Dependency.one(EventTypes.EXCHANGE);

    @Override
    public List<Registration<?>> registrations() {
        return List.of(Registration.builder(RuntimeTypes.RUNTIME, "task")
                .requires(EVENTS)
                .config(RuntimeConfig.class)
                .init(ctx -> {
                    RuntimeConfig config = ctx.config(RuntimeConfig.class);
                    List<String> platforms = config.platforms().isEmpty() ? List.of(hostPlatform()) : config.platforms();
                    platforms.forEach(ctx::platform);
                    return new ShimManager(ctx.state(), config, ctx.get(EVENTS), ctx.daemon().address(),
                            ctx.daemon().ttrpcAddress());
                }));
    }

    /** The host's platform as containerd spells it, e.g. {@code linux/amd64}. */
    static String hostPlatform() {
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String normalized = switch (arch) {
            case "x86_64", "amd64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> arch;
        };
        return System.getProperty("os.name").toLowerCase(Locale.ROOT) + "/" + normalized;
    }
}
