package dev.berth.config;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import dev.berth.config.ConfigShape.Component;
import dev.berth.config.ConfigShape.EnumShape;
import dev.berth.config.ConfigShape.ListShape;
import dev.berth.config.ConfigShape.MapShape;
import dev.berth.config.ConfigShape.OptionalShape;
import dev.berth.config.ConfigShape.RawShape;
import dev.berth.config.ConfigShape.RecordShape;
import dev.berth.config.ConfigShape.Scalar;
import dev.berth.config.ConfigShape.SetShape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Renders configuration for people and editors: the documented defaults, the effective values with their origins, a JSON Schema. */
public final class ConfigDocs {
    private static final String SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";
    /** A number with an optional unit, as HOCON durations ("10s") and sizes ("64 MiB") are written. */
    private static final String QUANTITY = "^\\s*-?[0-9]+(\\.[0-9]+)?\\s*[a-zA-Z]*\\s*$";

    private ConfigDocs() {}

    /**
     * HOCON text of {@code reference}, keys sorted, each key preceded by {@code # } lines holding the comments that
     * preceded it in its reference.conf. Substitutions are shown unresolved, as written.
     */
    public static String renderDefaults(Config reference) {
        requireNonNull(reference, "reference is null");
        StringBuilder out = new StringBuilder();
        render(reference.root(), "", out, ConfigDocs::comments);
        return out.toString();
    }

    /**
     * HOCON text of {@code effective}, keys sorted, each leaf preceded by a {@code # origin:line} comment naming
     * where its value came from: the user's file, an override, or a reference.conf.
     */
    public static String renderEffective(Config effective) {
        requireNonNull(effective, "effective is null");
        StringBuilder out = new StringBuilder();
        render(effective.root(), "", out, value -> value instanceof ConfigObject ? List.of() : List.of(where(value)));
        return out.toString();
    }

    /**
     * A JSON Schema (draft 2020-12) of the whole configuration file, pretty-printed.
     *
     * <p>The root is {@code topLevel}; each entry of {@code sections} (a key path such as
     * {@code plugins."io.containerd.grpc.v1.version"}) places a record's schema at that path, under whatever the top
     * level declares there (typically a {@link Config} component such as {@code plugins}, which then admits exactly
     * its sections). Every record is an object with {@code additionalProperties: false}; descriptions are the
     * reference.conf comments and defaults its values; durations and sizes are an integer or a string with a unit.
     */
    public static String jsonSchema(Class<? extends Record> topLevel, Map<String, Class<? extends Record>> sections,
            Config reference) {
        requireNonNull(topLevel, "topLevel is null");
        requireNonNull(sections, "sections is null");
        requireNonNull(reference, "reference is null");
        SchemaBuilder builder = new SchemaBuilder(reference);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("$schema", SCHEMA_DIALECT);
        root.putAll(builder.record(ConfigShape.ofRecord(topLevel), List.of()));
        for (Map.Entry<String, Class<? extends Record>> section : new TreeMap<>(sections).entrySet()) {
            List<String> path = ConfigUtil.splitPath(section.getKey());
            Map<String, Object> parent = root;
            for (String segment : path.subList(0, path.size() - 1)) {
                parent = childObject(parent, segment);
            }
            Map<String, Object> schema = new LinkedHashMap<>();
            builder.description(path).ifPresent(d -> schema.put("description", d));
            schema.putAll(builder.record(ConfigShape.ofRecord(section.getValue()), path));
            properties(parent).put(path.getLast(), schema);
        }
        return Json.write(root);
    }

    private static void render(ConfigObject object, String indent, StringBuilder out,
            Function<ConfigValue, List<String>> notes) {
        for (String key : object.keySet().stream().sorted().toList()) {
            ConfigValue value = object.get(key);
            for (String note : notes.apply(value)) {
                out.append(indent).append(note.isEmpty() ? "#" : "# " + note).append('\n');
            }
            out.append(indent).append(ConfigUtil.joinPath(key));
            if (value instanceof ConfigObject child && resolved(child)) {
                if (child.isEmpty()) {
                    out.append(" {}\n");
                } else {
                    out.append(" {\n");
                    render(child, indent + "  ", out, notes);
                    out.append(indent).append("}\n");
                }
            } else {
                out.append(" = ").append(value.render(ConfigRenderOptions.concise())).append('\n');
            }
        }
    }

    /** An object merged with a substitution cannot be walked before resolution; it is rendered as written. */
    private static boolean resolved(ConfigObject object) {
        try {
            object.keySet();
            return true;
        } catch (ConfigException.NotResolved e) {
            return false;
        }
    }

    private static List<String> comments(ConfigValue value) {
        return value.origin().comments().stream().map(String::strip).toList();
    }

    private static String where(ConfigValue value) {
        int line = value.origin().lineNumber();
        return ConfigProblem.originName(value.origin()) + (line >= 0 ? ":" + line : "");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> childObject(Map<String, Object> parent, String key) {
        return (Map<String, Object>) properties(parent).computeIfAbsent(key,
                k -> new LinkedHashMap<>(Map.of("type", "object")));
    }

    /** The properties of an object schema; an open object (a raw {@link Config}) becomes closed once given some. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> properties(Map<String, Object> object) {
        if (!(object.get("properties") instanceof Map<?, ?>)) {
            object.put("properties", new LinkedHashMap<String, Object>());
            object.put("additionalProperties", false);
        }
        return (Map<String, Object>) object.get("properties");
    }

    /** Builds schema fragments, taking descriptions from reference comments and defaults from reference values. */
    private static final class SchemaBuilder {
        private final ConfigObject commented;
        private final ConfigObject defaults;

        SchemaBuilder(Config reference) {
            this.commented = reference.root();
            // Defaults that refer to other keys (state = ${root}/state) resolve where the reference alone allows it.
            this.defaults = reference.resolve(ConfigResolveOptions.defaults().setAllowUnresolved(true)).root();
        }

        /** An object schema for a record; {@code path} is where it sits, or null inside a list or map. */
        Map<String, Object> record(RecordShape shape, List<String> path) {
            Map<String, Object> properties = new LinkedHashMap<>();
            for (Component component : shape.components()) {
                List<String> childPath = path == null ? null : append(path, component.key());
                properties.put(component.key(), property(component.shape(), childPath));
            }
            Map<String, Object> schema = new LinkedHashMap<>();
            schema.put("type", "object");
            schema.put("properties", properties);
            schema.put("additionalProperties", false);
            return schema;
        }

        private Map<String, Object> property(ConfigShape shape, List<String> path) {
            Map<String, Object> schema = new LinkedHashMap<>();
            if (path != null) {
                description(path).ifPresent(d -> schema.put("description", d));
            }
            schema.putAll(type(shape, path));
            boolean leaf = !(shape instanceof RecordShape || shape instanceof RawShape
                    || shape instanceof OptionalShape(RecordShape _));
            if (path != null && leaf) {
                ConfigValue value = RecordBinder.lookup(defaults, path);
                if (value != null) {
                    try {
                        schema.put("default", value.unwrapped());
                    } catch (ConfigException.NotResolved e) {
                        // Depends on a key only the user's file sets; there is no fixed default to show.
                    }
                }
            }
            return schema;
        }

        private Map<String, Object> type(ConfigShape shape, List<String> path) {
            Map<String, Object> schema = new LinkedHashMap<>();
            switch (shape) {
                case Scalar scalar -> {
                    switch (scalar) {
                        case STRING, PATH -> schema.put("type", "string");
                        case BOOLEAN -> schema.put("type", "boolean");
                        case INT -> schema.put("type", "integer");
                        case DOUBLE -> schema.put("type", "number");
                        case LONG, DURATION -> {
                            schema.put("type", List.of("integer", "string"));
                            schema.put("pattern", QUANTITY);
                        }
                    }
                }
                case EnumShape e -> {
                    schema.put("type", "string");
                    schema.put("enum", e.names());
                }
                case ListShape(ConfigShape element) -> {
                    schema.put("type", "array");
                    schema.put("items", type(element, null));
                }
                case SetShape(ConfigShape element) -> {
                    schema.put("type", "array");
                    schema.put("items", type(element, null));
                    schema.put("uniqueItems", true);
                }
                case MapShape(ConfigShape value) -> {
                    schema.put("type", "object");
                    schema.put("additionalProperties", type(value, null));
                }
                case OptionalShape(ConfigShape value) -> schema.put("anyOf", List.of(type(value, path), Map.of("type", "null")));
                case RawShape raw -> schema.put("type", "object");
                case RecordShape record -> schema.putAll(record(record, path));
            }
            return schema;
        }

        Optional<String> description(List<String> path) {
            ConfigValue value = RecordBinder.lookup(commented, path);
            if (value == null) {
                return Optional.empty();
            }
            String text = value.origin().comments().stream().map(String::strip).filter(c -> !c.isEmpty())
                    .collect(Collectors.joining(" "));
            return text.isEmpty() ? Optional.empty() : Optional.of(text);
        }

        private static List<String> append(List<String> path, String key) {
            List<String> result = new ArrayList<>(path);
            result.add(key);
            return result;
        }
    }
}
