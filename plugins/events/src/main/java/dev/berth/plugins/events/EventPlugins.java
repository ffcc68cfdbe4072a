package dev.berth.plugins.events;

import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.events.EventTypes;
import java.time.Clock;
import java.util.List;

/** Registers the built-in event exchange, {@code io.containerd.event.v1.exchange}. */
public final class EventPlugins implements PluginProvider {

    @Override
    public List<Registration<?>> registrations() {
        return List.of(Registration.builder(EventTypes.EXCHANGE, "exchange")
                .init(ctx -> new MemoryExchange(Clock.systemUTC(), MemoryExchange.DEFAULT_BACKLOG)));
    }
}
