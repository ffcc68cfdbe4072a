package dev.berth.plugin;

import static java.util.Objects.requireNonNull;

/**
 * What a plugin needs from others, declared before any plugin initialises so that the kernel can
 * resolve the whole graph first.
 *
 * @param <T> the contract of the plugin type depended on
 */
public sealed interface Dependency<T> {

    /** The type depended on. */
    PluginType<T> type();

    /** Exactly one plugin of the type must exist (none or several is a resolution error). */
    static <T> One<T> one(PluginType<T> type) {
        return new One<>(type);
    }

    /** Every plugin of the type, keyed by id; those that fail are left out. Zero is allowed. */
    static <T> All<T> all(PluginType<T> type) {
        return new All<>(type);
    }

    /** The plugin of the type with this id; it must exist. */
    static <T> Named<T> named(PluginType<T> type, String id) {
        return new Named<>(type, id);
    }

    /** The plugin of the type with this id, if it exists and initialises; absent otherwise. */
    static <T> Optional<T> optional(PluginType<T> type, String id) {
        return new Optional<>(type, id);
    }

    record One<T>(PluginType<T> type) implements Dependency<T> {
        public One {
            requireNonNull(type, "type is null");
        }

        @Override
        public String toString() {
            return "one " + type.uri();
        }
    }

    record All<T>(PluginType<T> type) implements Dependency<T> {
        public All {
            requireNonNull(type, "type is null");
        }

        @Override
        public String toString() {
            return "all " + type.uri();
        }
    }

    record Named<T>(PluginType<T> type, String id) implements Dependency<T> {
        public Named {
            requireNonNull(type, "type is null");
            requireNonNull(id, "id is null");
        }

        @Override
        public String toString() {
            return type.uri() + "." + id;
        }
    }

    record Optional<T>(PluginType<T> type, String id) implements Dependency<T> {
        public Optional {
            requireNonNull(type, "type is null");
            requireNonNull(id, "id is null");
        }

        @Override
        public String toString() {
            return "optional " + type.uri() + "." + id;
        }
    }
}
