package dev.berth.sample.hello;

import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.PluginType;
import dev.berth.plugin.Registration;
import java.util.List;
import java.util.function.Function;

/**
 * Registers {@code io.berth.sample.v1.hello}, a greeter configured by a template.
 *
 * <p>The sample type's contract is {@code Function<String, String>} (a name to its greeting) rather
 * than an interface of this jar: each plugin jar has its own class loader that sees only the SPI
 * and the JDK, so a contract that plugins in other jars consume must come from one of those two.
 */
public final class HelloProvider implements PluginProvider {

    /** The sample type: a plugin that greets whomever it is given. */
    @SuppressWarnings("unchecked")
    public static final PluginType<Function<String, String>> GREETER =
            PluginType.of("io.berth.sample.v1", (Class<Function<String, String>>) (Class<?>) Function.class);

    @Override
    public List<Registration<?>> registrations() {
        return List.of(Registration.builder(GREETER, "hello")
                .config(HelloConfig.class)
                .init(context -> {
                    HelloConfig config = context.config(HelloConfig.class);
                    if (!config.greeting().contains(Greeter.NAME)) {
                        throw new InvalidArgumentException("greeting '" + config.greeting()
                                + "' has no " + Greeter.NAME + " placeholder");
                    }
                    Greeter greeter = new Greeter(config.greeting());
                    context.export("greeting", greeter.apply("world"));
                    context.export("root", context.root().toString());
                    return greeter;
                }));
    }
}
