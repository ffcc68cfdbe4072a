package dev.berth.sample.dependent;

import dev.berth.plugin.Dependency;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.PluginType;
import dev.berth.plugin.Registration;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Registers {@code io.berth.sample.v1.loud}, a greeter that shouts what the hello plugin says.
 *
 * <p>The hello plugin lives in another jar, whose classes this jar cannot see. The two meet through
 * the type: the same URI and a contract from the JDK, which both class loaders share. While this
 * plugin runs, the hello jar cannot be unloaded.
 */
public final class LoudProvider implements PluginProvider {

    /** The sample type, as the hello jar declares it. */
    @SuppressWarnings("unchecked")
    static final PluginType<Function<String, String>> GREETER =
            PluginType.of("io.berth.sample.v1", (Class<Function<String, String>>) (Class<?>) Function.class);

    private static final Dependency.Named<Function<String, String>> HELLO = Dependency.named(GREETER, "hello");

    @Override
    public List<Registration<?>> registrations() {
        return List.of(Registration.builder(GREETER, "loud")
                .requires(HELLO)
                .init(context -> {
                    Function<String, String> hello = context.get(HELLO);
                    Function<String, String> loud = name -> hello.apply(name).toUpperCase(Locale.ROOT);
                    context.export("greeting", loud.apply("world"));
                    return loud;
                }));
    }
}
