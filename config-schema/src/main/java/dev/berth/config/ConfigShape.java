package dev.berth.config;

import com.typesafe.config.Config;
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a config record expects, read once from its Java types; shared by the binder and the schema writer so that
 * both agree on every type. An unsupported component type is a programming error of the record's author and is
 * rejected with {@link IllegalArgumentException} before any value is looked at.
 */
sealed interface ConfigShape {

    /** The expected type as a user reads it in a message: "int", "list of string", "one of [a, b]". */
    String describe();

    enum Scalar implements ConfigShape {
        STRING("string"), BOOLEAN("boolean"), INT("int"), LONG("long or size"), DOUBLE("number"),
        DURATION("duration"), PATH("path");

        private final String description;

        Scalar(String description) {
            this.description = description;
        }

        @Override
        public String describe() {
            return description;
        }
    }

    record EnumShape(Class<? extends Enum<?>> type) implements ConfigShape {
        /** The key text of each constant: lower case, '_' written as '-'. */
        List<String> names() {
            return Arrays.stream(type.getEnumConstants()).map(c -> keyText(c.name())).toList();
        }

        Optional<Enum<?>> match(String text) {
            String wanted = keyText(text);
            return Arrays.stream(type.getEnumConstants()).filter(c -> keyText(c.name()).equals(wanted))
                    .<Enum<?>>map(c -> c).findFirst();
        }

        private static String keyText(String name) {
            return name.toLowerCase(Locale.ROOT).replace('_', '-');
        }

        @Override
        public String describe() {
            return "one of " + names();
        }
    }

    record ListShape(ConfigShape element) implements ConfigShape {
        @Override
        public String describe() {
            return "list of " + element.describe();
        }
    }

    record SetShape(ConfigShape element) implements ConfigShape {
        @Override
        public String describe() {
            return "list of " + element.describe();
        }
    }

    /** {@code Map<String, X>}: free-form keys, strictly bound values. */
    record MapShape(ConfigShape value) implements ConfigShape {
        @Override
        public String describe() {
            return "object of " + value.describe();
        }
    }

    record OptionalShape(ConfigShape value) implements ConfigShape {
        @Override
        public String describe() {
            return value.describe();
        }
    }

    /** A raw {@link Config} sub-tree, checked by someone else. */
    record RawShape() implements ConfigShape {
        @Override
        public String describe() {
            return "object";
        }
    }

    record RecordShape(Class<? extends Record> type, List<Component> components, Constructor<?> constructor)
            implements ConfigShape {
        Set<String> keys() {
            return components.stream().map(Component::key).collect(Collectors.toCollection(LinkedHashSet::new));
        }

        @Override
        public String describe() {
            return "object";
        }
    }

    record Component(String key, ConfigShape shape) {}

    static RecordShape ofRecord(Class<? extends Record> type) {
        return ofRecord(type, new HashSet<>());
    }

    private static RecordShape ofRecord(Class<? extends Record> type, Set<Class<?>> enclosing) {
        if (!enclosing.add(type)) {
            throw new IllegalArgumentException("config record " + type.getName() + " contains itself");
        }
        List<Component> components = new ArrayList<>();
        for (RecordComponent component : type.getRecordComponents()) {
            String where = type.getName() + "." + component.getName();
            components.add(new Component(RecordBinder.keyName(component.getName()),
                    of(component.getGenericType(), where, enclosing)));
        }
        enclosing.remove(type);
        Class<?>[] parameterTypes = Arrays.stream(type.getRecordComponents()).map(RecordComponent::getType)
                .toArray(Class<?>[]::new);
        try {
            Constructor<?> constructor = type.getDeclaredConstructor(parameterTypes);
            // Records declared in tests or plugins are often not public; plugins run outside any named module.
            constructor.setAccessible(true);
            return new RecordShape(type, List.copyOf(components), constructor);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("record without canonical constructor: " + type.getName(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static ConfigShape of(Type type, String where, Set<Class<?>> enclosing) {
        if (type instanceof Class<?> c) {
            if (c == String.class) return Scalar.STRING;
            if (c == boolean.class || c == Boolean.class) return Scalar.BOOLEAN;
            if (c == int.class || c == Integer.class) return Scalar.INT;
            if (c == long.class || c == Long.class) return Scalar.LONG;
            if (c == double.class || c == Double.class) return Scalar.DOUBLE;
            if (c == Duration.class) return Scalar.DURATION;
            if (c == Path.class) return Scalar.PATH;
            if (c == Config.class) return new RawShape();
            if (c.isEnum()) return new EnumShape((Class<? extends Enum<?>>) c);
            if (c.isRecord()) return ofRecord((Class<? extends Record>) c, enclosing);
        } else if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw) {
            Type[] arguments = p.getActualTypeArguments();
            if (raw == List.class) return new ListShape(of(arguments[0], where, enclosing));
            if (raw == Set.class) return new SetShape(of(arguments[0], where, enclosing));
            if (raw == Optional.class) return new OptionalShape(of(arguments[0], where, enclosing));
            if (raw == Map.class && arguments[0] == String.class) {
                return new MapShape(of(arguments[1], where, enclosing));
            }
        }
        throw new IllegalArgumentException(where + ": unsupported config type " + type.getTypeName());
    }
}
