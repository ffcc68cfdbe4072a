package dev.berth.config.testing;

import static java.util.Objects.requireNonNull;
import static java.util.stream.Collectors.joining;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigUtil;
import dev.berth.config.ConfigProblem;
import dev.berth.config.ConfigProblems;
import dev.berth.config.ConfigSources;
import dev.berth.config.RecordBinder;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Assertions that make a plugin's config test two short tests: the defaults its reference.conf records, and a full
 * mapping that proves every key reaches its record component. Failures throw {@link AssertionError}, so any test
 * framework reports them.
 */
public final class ConfigAssertions {
    private ConfigAssertions() {}

    /**
     * Asserts that the reference.conf files {@code loader} provides bind at {@code path} to {@code type} without
     * problems, and that the result equals {@code expected}.
     */
    public static <R extends Record> void assertRecordedDefaults(Class<R> type, String path, R expected,
            ClassLoader loader) {
        requireNonNull(expected, "expected is null");
        Config reference = ConfigSources.references(requireNonNull(loader, "loader is null"));
        R actual = bindOrFail(ConfigSources.effective(ConfigFactory.empty(), reference), path, type,
                "the recorded defaults");
        assertRecordEquals("the recorded defaults", expected, actual);
    }

    /**
     * Asserts that {@code hocon}, laid over the references {@code loader} provides, binds at {@code path} to
     * {@code expected}, that it sets every key of the record, and that each value it sets differs from the default
     * (so a key mapped to the wrong component cannot pass unnoticed). A key without a default is exempt from the
     * last check.
     *
     * @param hocon keys relative to {@code path}, e.g. {@code "root-dir = /x\ntimeout = 5s"} for
     *     {@code path = plugins."io.x.v1.y"}
     */
    public static <R extends Record> void assertFullMapping(Class<R> type, String path, String hocon, R expected,
            ClassLoader loader) {
        requireNonNull(type, "type is null");
        requireNonNull(path, "path is null");
        requireNonNull(hocon, "hocon is null");
        requireNonNull(expected, "expected is null");
        Config reference = ConfigSources.references(requireNonNull(loader, "loader is null"));
        ConfigObject section = ConfigFactory.parseString(hocon,
                ConfigParseOptions.defaults().setOriginDescription("full mapping")).root();
        Config user = path.isEmpty() ? section.toConfig() : section.atPath(path);
        ConfigObject referenceSection = reference.root();
        for (String segment : path.isEmpty() ? List.<String>of() : ConfigUtil.splitPath(path)) {
            referenceSection = referenceSection.get(segment) instanceof ConfigObject child ? child
                    : ConfigFactory.empty().root();
        }

        List<String> failures = new ArrayList<>();
        R actual = bindOrFail(ConfigSources.effective(user, reference), path, type, "the full mapping");
        // Where the reference has no default, the user's value stands in, so those keys never look like defaults.
        R defaults = bindOrFail(ConfigSources.effective(reference.withFallback(user), ConfigFactory.empty()), path,
                type, "the defaults");
        for (RecordComponent component : type.getRecordComponents()) {
            String key = RecordBinder.keyName(component.getName());
            if (!section.containsKey(key)) {
                failures.add("the mapping does not set '" + key + "'");
            } else if (referenceSection.containsKey(key)
                    && Objects.equals(value(component, actual), value(component, defaults))) {
                failures.add("'" + key + "' is set to its default (" + value(component, actual)
                        + "), which proves nothing");
            }
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(type.getSimpleName() + " full mapping at '" + path + "' is incomplete:\n  "
                    + String.join("\n  ", failures));
        }
        assertRecordEquals("the full mapping", expected, actual);
    }

    private static <R extends Record> R bindOrFail(Config config, String path, Class<R> type, String what) {
        ConfigProblems problems = new ConfigProblems();
        R bound = RecordBinder.bind(config, path, type, problems);
        if (!problems.isEmpty()) {
            throw new AssertionError(type.getSimpleName() + " does not bind from " + what + " at '" + path + "':\n  "
                    + problems.list().stream().map(ConfigProblem::format).collect(joining("\n  ")));
        }
        return bound;
    }

    private static void assertRecordEquals(String what, Record expected, Record actual) {
        if (expected.equals(actual)) {
            return;
        }
        String differences = Arrays.stream(expected.getClass().getRecordComponents())
                .filter(c -> !Objects.equals(value(c, expected), value(c, actual)))
                .map(c -> c.getName() + " (key '" + RecordBinder.keyName(c.getName()) + "'): expected <"
                        + value(c, expected) + "> but was <" + value(c, actual) + ">")
                .collect(joining("\n  "));
        throw new AssertionError(expected.getClass().getSimpleName() + " from " + what + " differs:\n  "
                + (differences.isEmpty() ? "equals() is false although every component is equal" : differences)
                + "\nexpected: " + expected + "\nactual:   " + actual);
    }

    private static Object value(RecordComponent component, Record record) {
        try {
            var accessor = component.getAccessor();
            accessor.setAccessible(true);
            return accessor.invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + component, e);
        }
    }
}
