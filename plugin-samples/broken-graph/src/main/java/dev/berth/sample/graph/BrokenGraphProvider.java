package dev.berth.sample.graph;

import dev.berth.plugin.Dependency;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.PluginType;
import dev.berth.plugin.Registration;
import java.util.List;

/**
 * Registers plugins whose graph cannot be resolved, for the kernel to report before anything
 * initialises: {@code io.berth.sample.graph.v1.orphan} requires a plugin nobody provides, and
 * {@code chicken} and {@code egg} require each other.
 *
 * <p>The jar declares its own type, with a contract of its own: only plugins in this jar can
 * implement or consume it, which is all a type private to one jar needs.
 */
public final class BrokenGraphProvider implements PluginProvider {

    static final PluginType<Node> NODE = PluginType.of("io.berth.sample.graph.v1", Node.class);

    /** A type no plugin provides. */
    static final PluginType<Object> ABSENT = PluginType.of("io.berth.sample.absent.v1", Object.class);

    private static final Dependency.Named<Object> NOWHERE = Dependency.named(ABSENT, "nowhere");
    private static final Dependency.Named<Node> CHICKEN = Dependency.named(NODE, "chicken");
    private static final Dependency.Named<Node> EGG = Dependency.named(NODE, "egg");

    @Override
    public List<Registration<?>> registrations() {
        return List.of(
                Registration.builder(NODE, "orphan").requires(NOWHERE)
                        .init(context -> new Link("orphan", context.get(NOWHERE).toString())),
                Registration.builder(NODE, "chicken").requires(EGG)
                        .init(context -> new Link("chicken", context.get(EGG).name())),
                Registration.builder(NODE, "egg").requires(CHICKEN)
                        .init(context -> new Link("egg", context.get(CHICKEN).name())));
    }
}
