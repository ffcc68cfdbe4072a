package dev.berth.config;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.berth.config.ConfigShape.Component;
import dev.berth.config.ConfigShape.EnumShape;
import dev.berth.config.ConfigShape.ListShape;
import dev.berth.config.ConfigShape.MapShape;
import dev.berth.config.ConfigShape.OptionalShape;
import dev.berth.config.ConfigShape.RawShape;
import dev.berth.config.ConfigShape.RecordShape;
import dev.berth.config.ConfigShape.Scalar;
import dev.berth.config.ConfigShape.SetShape;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Strict binding of HOCON to config records: every unknown key, wrongly typed value and missing key is reported, each
 * with its file:line, never just the first.
 *
 * <p>Record component {@code fooBar} is key {@code foo-bar}. Supported component types: {@code String},
 * {@code boolean}, {@code int}, {@code long} (also sizes such as {@code 64 MiB}), {@code double},
 * {@link java.time.Duration} ({@code 10s}, {@code 500ms}; a bare number is milliseconds), {@link Path}, enums (matched
 * case-insensitively, {@code -} equal to {@code _}), {@code List<X>}, {@code Set<X>}, {@code Map<String, X>}, nested
 * records, {@code Optional<X>} (absent or {@code null} is empty) and {@link Config} (the raw sub-tree, unchecked).
 * A number, boolean and string convert into one another as HOCON allows ({@code port = "80"} is an int).
 */
public final class RecordBinder {
    private static final int MAX_RENDERED = 60;

    private RecordBinder() {}

    /**
     * Binds the object at {@code path} ("" for the whole config) to {@code type}, adding every problem to
     * {@code problems}. A compact constructor that throws is reported as a problem too.
     *
     * @param config a resolved config, such as {@link ConfigSources#effective}
     * @return the record, or null if any problem was found for this path
     * @throws IllegalArgumentException if {@code type} has a component of an unsupported type
     */
    public static <R extends Record> R bind(Config config, String path, Class<R> type, ConfigProblems problems) {
        requireNonNull(config, "config is null");
        requireNonNull(path, "path is null");
        requireNonNull(problems, "problems is null");
        RecordShape shape = ConfigShape.ofRecord(type);
        int before = problems.size();
        Object bound;
        if (path.isEmpty()) {
            bound = bindRecord(config.root(), "", shape, problems);
        } else {
            List<String> segments = ConfigUtil.splitPath(path);
            ConfigValue value = lookup(config.root(), segments);
            if (value == null) {
                problems.add(parentOrigin(config, segments), ConfigUtil.joinPath(segments),
                        missing(segments.getLast(), shape));
                bound = null;
            } else {
                bound = bindValue(value, ConfigUtil.joinPath(segments), shape, problems);
            }
        }
        return problems.size() == before ? type.cast(bound) : null;
    }

    /**
     * Reports each direct child key of the object at {@code path} that is not in {@code allowed}, as
     * {@code "unknown <what> 'key'"} with a did-you-mean among {@code allowed}. Keys are not split on dots, so quoted
     * keys such as {@code "io.containerd.grpc.v1.version"} are compared whole. Nothing is reported if {@code path} is
     * absent.
     */
    public static void checkKeys(Config config, String path, Set<String> allowed, String what,
            ConfigProblems problems) {
        requireNonNull(config, "config is null");
        requireNonNull(path, "path is null");
        requireNonNull(allowed, "allowed is null");
        requireNonNull(what, "what is null");
        requireNonNull(problems, "problems is null");
        ConfigValue value = path.isEmpty() ? config.root() : lookup(config.root(), ConfigUtil.splitPath(path));
        if (value == null) {
            return;
        }
        if (!(value instanceof ConfigObject object)) {
            problems.add(value.origin(), path, wrongType("object", value));
            return;
        }
        unknownKeys(object, path, allowed, what, problems);
    }

    /** The key for a record component: {@code maxSize} is {@code max-size}, {@code httpURLPath} {@code http-url-path}. */
    public static String keyName(String componentName) {
        requireNonNull(componentName, "componentName is null");
        StringBuilder key = new StringBuilder();
        for (int i = 0; i < componentName.length(); i++) {
            char c = componentName.charAt(i);
            if (Character.isUpperCase(c) && i > 0) {
                char previous = componentName.charAt(i - 1);
                boolean endOfAcronym = Character.isUpperCase(previous) && i + 1 < componentName.length()
                        && Character.isLowerCase(componentName.charAt(i + 1));
                if (!Character.isUpperCase(previous) || endOfAcronym) {
                    key.append('-');
                }
            }
            key.append(Character.toLowerCase(c));
        }
        return key.toString();
    }

    /** Returns the bound value, or null after adding at least one problem. */
    private static Object bindValue(ConfigValue value, String path, ConfigShape shape, ConfigProblems problems) {
        return switch (shape) {
            case OptionalShape(ConfigShape inner) -> {
                if (value.valueType() == ConfigValueType.NULL) {
                    yield Optional.empty();
                }
                Object bound = bindValue(value, path, inner, problems);
                yield bound == null ? null : Optional.of(bound);
            }
            case Scalar scalar -> bindScalar(value, path, scalar, problems);
            case EnumShape enumShape -> {
                Optional<Enum<?>> constant = value.valueType() == ConfigValueType.STRING
                        ? enumShape.match((String) value.unwrapped())
                        : Optional.empty();
                if (constant.isEmpty()) {
                    problems.add(value.origin(), path, wrongType(shape.describe(), value));
                }
                yield constant.orElse(null);
            }
            case ListShape(ConfigShape element) -> {
                List<Object> elements = bindElements(value, path, shape, element, problems);
                yield elements == null ? null : Collections.unmodifiableList(elements);
            }
            case SetShape(ConfigShape element) -> {
                List<Object> elements = bindElements(value, path, shape, element, problems);
                yield elements == null ? null : Collections.unmodifiableSet(new LinkedHashSet<>(elements));
            }
            case MapShape(ConfigShape valueShape) -> {
                if (!(value instanceof ConfigObject object)) {
                    problems.add(value.origin(), path, wrongType(shape.describe(), value));
                    yield null;
                }
                Map<String, Object> map = new LinkedHashMap<>();
                boolean failed = false;
                for (String key : object.keySet().stream().sorted().toList()) {
                    Object bound = bindValue(object.get(key), child(path, key), valueShape, problems);
                    failed |= bound == null;
                    map.put(key, bound);
                }
                yield failed ? null : Collections.unmodifiableMap(map);
            }
            case RawShape raw -> {
                if (!(value instanceof ConfigObject object)) {
                    problems.add(value.origin(), path, wrongType(shape.describe(), value));
                    yield null;
                }
                yield object.toConfig();
            }
            case RecordShape record -> {
                if (!(value instanceof ConfigObject object)) {
                    problems.add(value.origin(), path, wrongType(shape.describe(), value));
                    yield null;
                }
                yield bindRecord(object, path, record, problems);
            }
        };
    }

    private static Object bindRecord(ConfigObject object, String path, RecordShape shape, ConfigProblems problems) {
        int before = problems.size();
        unknownKeys(object, path, shape.keys(), "key", problems);
        Object[] arguments = new Object[shape.components().size()];
        for (int i = 0; i < arguments.length; i++) {
            Component component = shape.components().get(i);
            ConfigValue value = object.get(component.key());
            if (value == null && component.shape() instanceof OptionalShape) {
                arguments[i] = Optional.empty();
            } else if (value == null) {
                problems.add(object.origin(), child(path, component.key()), missing(component.key(), component.shape()));
            } else {
                arguments[i] = bindValue(value, child(path, component.key()), component.shape(), problems);
            }
        }
        if (problems.size() > before) {
            return null;
        }
        try {
            return shape.constructor().newInstance(arguments);
        } catch (InvocationTargetException e) {
            // The record's own validation (a compact constructor) rejected the values.
            problems.add(object.origin(), path, "invalid " + shape.type().getSimpleName() + ": "
                    + e.getCause().getMessage());
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + shape.type().getName(), e);
        }
    }

    private static List<Object> bindElements(ConfigValue value, String path, ConfigShape shape, ConfigShape element,
            ConfigProblems problems) {
        if (!(value instanceof ConfigList list)) {
            problems.add(value.origin(), path, wrongType(shape.describe(), value));
            return null;
        }
        List<Object> elements = new ArrayList<>();
        boolean failed = false;
        for (int i = 0; i < list.size(); i++) {
            Object bound = bindValue(list.get(i), path + "[" + i + "]", element, problems);
            failed |= bound == null;
            elements.add(bound);
        }
        return failed ? null : elements;
    }

    private static Object bindScalar(ConfigValue value, String path, Scalar scalar, ConfigProblems problems) {
        // Typesafe Config's getters implement HOCON's conversions (string "80" to int, "yes" to boolean, units).
        Config holder = value.atKey("v");
        try {
            return switch (scalar) {
                case STRING -> holder.getString("v");
                case BOOLEAN -> holder.getBoolean("v");
                case DOUBLE -> holder.getDouble("v");
                case DURATION -> holder.getDuration("v");
                case PATH -> Path.of(holder.getString("v"));
                case INT -> {
                    requireWhole(holder);
                    yield holder.getInt("v");
                }
                case LONG -> {
                    if (isNumber(holder)) {
                        requireWhole(holder);
                        yield holder.getLong("v");
                    }
                    yield holder.getBytes("v");
                }
            };
        } catch (ConfigException | InvalidPathException e) {
            String hint = switch (scalar) {
                case DURATION -> " (use e.g. 10s, 500ms, 2m)";
                case LONG -> " (use a whole number or a size such as 64 MiB)";
                default -> "";
            };
            problems.add(value.origin(), path, wrongType(scalar.describe(), value) + hint);
            return null;
        }
    }

    private static boolean isNumber(Config holder) {
        try {
            holder.getNumber("v");
            return true;
        } catch (ConfigException e) {
            return false;
        }
    }

    /** The library would silently truncate 1.5 to 1 for an int; strict binding refuses it. */
    private static void requireWhole(Config holder) {
        Number number = holder.getNumber("v");
        if (number instanceof Double d && d != Math.rint(d)) {
            throw new ConfigException.WrongType(holder.origin(), "not a whole number");
        }
    }

    private static void unknownKeys(ConfigObject object, String path, Collection<String> allowed, String what,
            ConfigProblems problems) {
        // Report in file order, so that the list reads like the file.
        object.keySet().stream().filter(key -> !allowed.contains(key))
                .sorted(Comparator.<String>comparingInt(key -> object.get(key).origin().lineNumber())
                        .thenComparing(Comparator.naturalOrder()))
                .forEach(key -> problems.add(object.get(key).origin(), child(path, key),
                        "unknown " + what + " '" + key + "'"
                                + suggestion(key, allowed).map(s -> " (did you mean '" + s + "'?)").orElse("")));
    }

    /**
     * The closest allowed key: one equal but for case and separators, else one within edit distance 2, else one that
     * is a prefix of the other.
     */
    static Optional<String> suggestion(String unknown, Collection<String> allowed) {
        String normalized = normalize(unknown);
        Optional<String> sameButSpelling = allowed.stream().filter(a -> normalize(a).equals(normalized)).sorted()
                .findFirst();
        if (sameButSpelling.isPresent()) {
            return sameButSpelling;
        }
        String lower = unknown.toLowerCase(Locale.ROOT);
        Optional<String> close = allowed.stream()
                .filter(a -> {
                    int distance = distance(lower, a.toLowerCase(Locale.ROOT));
                    return distance <= 2 && distance < Math.min(lower.length(), a.length());
                })
                .min(Comparator.<String>comparingInt(a -> distance(lower, a.toLowerCase(Locale.ROOT)))
                        .thenComparing(Comparator.naturalOrder()));
        if (close.isPresent()) {
            return close;
        }
        return allowed.stream()
                .filter(a -> Math.min(normalized.length(), normalize(a).length()) >= 3
                        && (normalize(a).startsWith(normalized) || normalized.startsWith(normalize(a))))
                .sorted().findFirst();
    }

    private static String normalize(String key) {
        return key.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static String missing(String key, ConfigShape shape) {
        return "missing key '" + key + "' (expected " + shape.describe() + ")";
    }

    static String wrongType(String expected, ConfigValue value) {
        String rendered = value.render(ConfigRenderOptions.concise());
        if (rendered.length() > MAX_RENDERED) {
            rendered = rendered.substring(0, MAX_RENDERED) + "...";
        }
        String type = value.valueType().name().toLowerCase(Locale.ROOT);
        return "expected " + expected + ", found " + (value.valueType() == ConfigValueType.NULL ? type
                : type + " " + rendered);
    }

    private static ConfigOrigin parentOrigin(Config config, List<String> segments) {
        for (int i = segments.size() - 1; i > 0; i--) {
            if (lookup(config.root(), segments.subList(0, i)) instanceof ConfigObject object) {
                return object.origin();
            }
        }
        return config.origin();
    }

    /** The value at {@code segments} below {@code root}; null if absent or if a non-object is on the way. */
    static ConfigValue lookup(ConfigObject root, List<String> segments) {
        ConfigValue value = root;
        for (String segment : segments) {
            if (!(value instanceof ConfigObject object) || (value = object.get(segment)) == null) {
                return null;
            }
        }
        return value;
    }

    static String child(String path, String key) {
        return path.isEmpty() ? ConfigUtil.joinPath(key) : path + "." + ConfigUtil.joinPath(key);
    }
}
