package dev.berth.sample.failing;

import dev.berth.plugin.Dependency;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.PluginType;
import dev.berth.plugin.Registration;
import java.util.List;
import java.util.function.Function;

/**
 * Registers two greeters that show how failures are reported: {@code io.berth.sample.v1.failing},
 * whose initialisation always throws, and {@code io.berth.sample.v1.needs-failing}, which depends
 * on it and so fails with it as the cause. The daemon serves on regardless, unless one of them is
 * listed in {@code required-plugins}.
 */
public final class FailingProvider implements PluginProvider {

    /** The sample type, as the hello jar declares it. */
    @SuppressWarnings("unchecked")
    static final PluginType<Function<String, String>> GREETER =
            PluginType.of("io.berth.sample.v1", (Class<Function<String, String>>) (Class<?>) Function.class);

    /** The failure's message, distinctive so that it can be traced through introspection and logs. */
    static final String FAILURE = "the failing sample never starts: it exists to show how errors are reported";

    private static final Dependency.Named<Function<String, String>> FAILING = Dependency.named(GREETER, "failing");

    @Override
    public List<Registration<?>> registrations() {
        return List.of(
                Registration.builder(GREETER, "failing").init(context -> {
                    throw new IllegalStateException(FAILURE);
                }),
                Registration.builder(GREETER, "needs-failing").requires(FAILING).init(context -> context.get(FAILING)));
    }
}
