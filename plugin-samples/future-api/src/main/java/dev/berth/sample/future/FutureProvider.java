package dev.berth.sample.future;

import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.PluginType;
import dev.berth.plugin.Registration;
import java.util.List;
import java.util.function.Supplier;

/**
 * Registers {@code io.berth.sample.future.v1.future}. The jar's manifest requires a plugin SPI of
 * major version 2, which this daemon does not provide, so the kernel refuses the jar before it
 * loads any class from it; this provider is what such a jar would contribute on a newer daemon.
 */
public final class FutureProvider implements PluginProvider {

    @SuppressWarnings("unchecked")
    static final PluginType<Supplier<String>> FUTURE =
            PluginType.of("io.berth.sample.future.v1", (Class<Supplier<String>>) (Class<?>) Supplier.class);

    @Override
    public List<Registration<?>> registrations() {
        return List.of(Registration.builder(FUTURE, "future").init(context -> () -> "from the future"));
    }
}
