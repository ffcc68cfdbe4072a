package dev.berth.config;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigOriginFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Where configuration comes from: the user's file and overrides, the plugins' reference.conf files, and their merge. */
public final class ConfigSources {
    private static final String REFERENCE = "reference.conf";

    private ConfigSources() {}

    /**
     * Parses the user's file (HOCON, {@code include}s resolved relative to it), then applies {@code overrides} on top.
     * Adds no defaults and does not resolve substitutions.
     *
     * <p>An override maps a key path ({@code grpc.address}, {@code plugins."io.x.v1.y".size}) to HOCON value text.
     * Text starting with <code>{</code>, {@code [} or {@code "}, or containing <code>${</code>, is parsed as HOCON; a
     * number, boolean or {@code null} keeps its type; anything else is taken verbatim as a string, so that
     * {@code unix:///run/berth.sock} needs no quoting. Overrides apply in the map's iteration order, later ones winning.
     *
     * @throws ConfigValidationException for a missing or unreadable file, a syntax error (naming file:line and what
     *     was expected), or a malformed override; all such problems are reported together
     */
    public static Config user(Optional<Path> file, Map<String, String> overrides) {
        requireNonNull(file, "file is null");
        requireNonNull(overrides, "overrides is null");
        ConfigProblems problems = new ConfigProblems();
        Config config = file.map(f -> parseFile(f, problems)).orElseGet(() -> ConfigFactory.empty("no config file"));
        for (Map.Entry<String, String> override : overrides.entrySet()) {
            try {
                config = override(override.getKey(), override.getValue()).withFallback(config);
            } catch (ConfigException e) {
                problems.add(new ConfigProblem("override " + override.getKey(), -1, "",
                        "invalid override '" + override.getKey() + "=" + override.getValue() + "': " + reason(e)));
            }
        }
        problems.throwIfAny();
        return config;
    }

    /**
     * Every {@code reference.conf} that {@code loader} provides ({@link ClassLoader#getResources}, so its parents'
     * too), merged with the first found winning, unresolved. Origins name the resource URL and line; comments are kept
     * (they document the keys). Relative {@code include}s are not supported in reference files.
     *
     * @throws ConfigValidationException if a reference file does not parse
     */
    public static Config references(ClassLoader loader) {
        requireNonNull(loader, "loader is null");
        ConfigProblems problems = new ConfigProblems();
        Config merged = null;
        for (URL url : resources(loader)) {
            try {
                Config parsed = ConfigFactory.parseReader(new StringReader(read(url)),
                        ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF)
                                .setOriginDescription(url.toExternalForm()));
                merged = merged == null ? parsed : merged.withFallback(parsed);
            } catch (ConfigException e) {
                problems.add(locate(e, url.toExternalForm()));
            }
        }
        problems.throwIfAny();
        return merged == null ? ConfigFactory.empty("no " + REFERENCE) : merged;
    }

    /**
     * {@code user.withFallback(reference).resolve()}.
     *
     * @throws ConfigValidationException for a substitution that cannot be resolved, naming its file:line
     */
    public static Config effective(Config user, Config reference) {
        requireNonNull(user, "user is null");
        requireNonNull(reference, "reference is null");
        try {
            return user.withFallback(reference).resolve();
        } catch (ConfigException e) {
            throw new ConfigValidationException(List.of(locate(e, "config")));
        }
    }

    private static Config parseFile(Path file, ConfigProblems problems) {
        String name = file.toString();
        if (!Files.exists(file)) {
            problems.add(new ConfigProblem(name, -1, "", "no such file"));
        } else if (!Files.isRegularFile(file)) {
            problems.add(new ConfigProblem(name, -1, "", "not a regular file"));
        } else if (!Files.isReadable(file)) {
            problems.add(new ConfigProblem(name, -1, "", "file is not readable"));
        } else {
            try {
                return ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                problems.add(locate(e, name));
            }
        }
        return ConfigFactory.empty(name);
    }

    private static Config override(String key, String text) {
        ConfigUtil.splitPath(key); // rejects a malformed key path with a clear message
        String origin = "override " + key;
        ConfigParseOptions options = ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF)
                .setOriginDescription(origin);
        String trimmed = text.strip();
        boolean structured = trimmed.startsWith("{") || trimmed.startsWith("[") || trimmed.startsWith("\"")
                || trimmed.contains("${");
        ConfigValue value;
        if (structured) {
            value = ConfigFactory.parseString("v = " + trimmed, options).root().get("v");
        } else {
            value = scalar(trimmed, options).orElseGet(() -> ConfigValueFactory.fromAnyRef(text));
        }
        // The override's own origin has no line: the text is one command-line argument, not a file.
        return value.withOrigin(ConfigOriginFactory.newSimple(origin)).atPath(key);
    }

    /** A number, boolean or null typed as such; empty for anything else, which is then taken verbatim. */
    private static Optional<ConfigValue> scalar(String text, ConfigParseOptions options) {
        try {
            ConfigValue value = ConfigFactory.parseString("v = " + text, options).root().get("v");
            return switch (value.valueType()) {
                case NUMBER, BOOLEAN, NULL -> Optional.of(value);
                default -> Optional.empty();
            };
        } catch (ConfigException e) {
            return Optional.empty();
        }
    }

    private static Iterable<URL> resources(ClassLoader loader) {
        try {
            return Collections.list(loader.getResources(REFERENCE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + REFERENCE + " resources", e);
        }
    }

    /** Reads without the JDK's jar cache, which would keep a plugin jar open after its class loader is closed. */
    private static String read(URL url) {
        try {
            URLConnection connection = url.openConnection();
            connection.setUseCaches(false);
            try (InputStream in = connection.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + url, e);
        }
    }

    private static ConfigProblem locate(ConfigException e, String fallbackOrigin) {
        return e.origin() != null
                ? ConfigProblem.of(e.origin(), "", reason(e))
                : new ConfigProblem(fallbackOrigin, -1, "", reason(e));
    }

    /** The library's message without the origin prefix it adds, which {@link ConfigProblem} reports separately. */
    private static String reason(ConfigException e) {
        String message = String.valueOf(e.getMessage());
        String prefix = e.origin() == null ? null : e.origin().description() + ": ";
        return prefix != null && message.startsWith(prefix) ? message.substring(prefix.length()) : message;
    }
}
