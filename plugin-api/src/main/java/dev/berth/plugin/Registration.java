package dev.berth.plugin;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * A plugin's registration: its type and id, what it requires, the record its config section binds
 * to, and how it is constructed. A registration is plain data; the kernel reads every registration
 * and resolves the graph before it calls any {@link Initializer}.
 *
 * @param type       the plugin's type
 * @param id         the plugin's id, unique within its type
 * @param requires   the dependencies, in declaration order
 * @param configType the record the section {@code plugins."<type>.<id>"} binds to, or {@code NoConfig}
 * @param init       builds the instance
 * @param <T>        the contract of the plugin's type
 */
public record Registration<T>(
        PluginType<T> type,
        String id,
        List<Dependency<?>> requires,
        Class<? extends Record> configType,
        Initializer<? extends T> init) {

    public Registration {
        requireNonNull(type, "type is null");
        requireNonNull(id, "id is null");
        requireNonNull(configType, "configType is null");
        requireNonNull(init, "init is null");
        if (!Names.isValidId(id)) {
            throw new IllegalArgumentException("invalid plugin id '" + id + "' for type " + type.uri());
        }
        requires = List.copyOf(requireNonNull(requires, "requires is null"));
    }

    /** {@code <type>.<id>}, the plugin's identity, as containerd prints it. */
    public String uri() {
        return type.uri() + "." + id;
    }

    public static <T> Builder<T> builder(PluginType<T> type, String id) {
        return new Builder<>(type, id);
    }

    /** Marker record for plugins without configuration. */
    public record NoConfig() {}

    /** Constructs a plugin once its dependencies are ready. */
    @FunctionalInterface
    public interface Initializer<T> {
        /**
         * Builds the instance. Throw {@link SkipPluginException} to be skipped (with its reason);
         * any other exception marks the plugin failed. An instance that is {@link AutoCloseable}
         * is closed at shutdown, in reverse order of initialisation.
         */
        T init(InitContext context) throws Exception;
    }

    public static final class Builder<T> {
        private final PluginType<T> type;
        private final String id;
        private final List<Dependency<?>> requires = new ArrayList<>();
        private Class<? extends Record> configType = NoConfig.class;

        private Builder(PluginType<T> type, String id) {
            this.type = requireNonNull(type, "type is null");
            this.id = requireNonNull(id, "id is null");
        }

        public Builder<T> requires(Dependency<?>... dependencies) {
            requires.addAll(List.of(dependencies));
            return this;
        }

        public Builder<T> config(Class<? extends Record> type) {
            this.configType = requireNonNull(type, "type is null");
            return this;
        }

        public Registration<T> init(Initializer<? extends T> init) {
            return new Registration<>(type, id, requires, configType, init);
        }
    }
}
