package dev.berth.plugins.content;

import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import dev.berth.plugin.content.ContentTypes;
import java.time.Clock;
import java.util.List;

/** Registers the built-in content store, {@code io.containerd.content.v1.content}, rooted in the plugin's own directory. */
public final class LocalContentPlugins implements PluginProvider {

    @Override
    public List<Registration<?>> registrations() {
        return List.of(Registration.builder(ContentTypes.CONTENT, "content")
                .init(ctx -> {
                    ctx.export("root", ctx.root().toString());
                    return LocalContentStore.open(ctx.root(), Clock.systemUTC());
                }));
    }
}
