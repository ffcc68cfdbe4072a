package dev.berth.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigSourcesTest {
    @TempDir
    Path dir;

    @Test
    void parsesTheFileWithIncludesRelativeToIt() throws IOException {
        Files.createDirectories(dir.resolve("etc/conf.d"));
        write("etc/conf.d/grpc.conf", "grpc.address = /run/b.sock\n");
        Path file = write("etc/berth.conf", """
                root = /var/lib/berth
                include "conf.d/grpc.conf"
                """);

        Config user = ConfigSources.user(Optional.of(file), Map.of());

        assertEquals("/var/lib/berth", user.getString("root"));
        assertEquals("/run/b.sock", user.getString("grpc.address"));
        assertEquals(dir.resolve("etc/conf.d/grpc.conf").toString(), user.getValue("grpc.address").origin().filename());
    }

    @Test
    void noFileGivesAnEmptyConfig() {
        assertTrue(ConfigSources.user(Optional.empty(), Map.of()).isEmpty());
    }

    @Test
    void overridesWinOverTheFileAndKeepTheirTypes() throws IOException {
        Path file = write("berth.conf", """
                grpc.address = /run/a.sock
                plugins."io.x.v1.y".size = 1
                """);
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("grpc.address", "unix:///run/b.sock");
        overrides.put("plugins.\"io.x.v1.y\".size", "2");
        overrides.put("debug", "true");
        overrides.put("labels", "{ a = 1, b = \"two\" }");
        overrides.put("note", "\"quoted # not a comment\"");
        overrides.put("state", "${root}/state");

        Config user = ConfigSources.user(Optional.of(file), overrides);
        Config effective = ConfigSources.effective(user, ConfigFactory.parseString("root = /r, debug = false"));

        assertEquals("unix:///run/b.sock", effective.getString("grpc.address"));
        assertEquals(2, effective.getValue("plugins.\"io.x.v1.y\".size").unwrapped());
        assertEquals(true, effective.getValue("debug").unwrapped());
        assertEquals(Map.of("a", 1, "b", "two"), effective.getObject("labels").unwrapped());
        assertEquals("quoted # not a comment", effective.getString("note"));
        assertEquals("/r/state", effective.getString("state"));
        ConfigProblem origin = ConfigProblem.of(effective.getValue("grpc.address").origin(), "", "");
        assertEquals("override grpc.address", origin.origin());
        assertEquals(-1, origin.line());
    }

    @Test
    void aLaterOverrideOfTheSamePathWins() {
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("a.b", "1");
        overrides.put("a", "{ b = 2 }");
        assertEquals(2, ConfigSources.user(Optional.empty(), overrides).getInt("a.b"));
    }

    @Test
    void syntaxErrorNamesFileAndLine() throws IOException {
        Path file = write("berth.conf", """
                root = /x
                grpc {
                  address = "/run/a.sock
                }
                """);

        ConfigValidationException e = assertThrows(ConfigValidationException.class,
                () -> ConfigSources.user(Optional.of(file), Map.of()));

        ConfigProblem problem = e.problems().getFirst();
        assertEquals(file.toString(), problem.origin());
        assertEquals(3, problem.line());
        assertTrue(problem.message().contains("quoted string"), problem.message());
        assertTrue(e.getMessage().startsWith("1 config problem(s):\n  " + file + ":3: "), e.getMessage());
    }

    @Test
    void fileAndOverrideProblemsAreReportedTogether() {
        Path missing = dir.resolve("absent.conf");
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("a..b", "1");
        overrides.put("c", "{ unclosed");
        ConfigValidationException e = assertThrows(ConfigValidationException.class,
                () -> ConfigSources.user(Optional.of(missing), overrides));

        assertEquals(List.of(missing + ": no such file",
                "override a..b: invalid override 'a..b=1': Invalid path 'a..b': path has a leading, trailing, or two adjacent period '.' (use quoted \"\" empty string if you want an empty element)",
                "override c: invalid override 'c={ unclosed': Key 'unclosed' may not be followed by token: end of file"),
                e.problems().stream().map(ConfigProblem::format).toList());
    }

    @Test
    void referencesMergeEveryReferenceConfFirstFoundWinning() throws IOException {
        Path first = Files.createDirectories(dir.resolve("first"));
        Path second = Files.createDirectories(dir.resolve("second"));
        Files.writeString(first.resolve("reference.conf"), """
                plugins."io.x.v1.a" {
                  # How many workers run.
                  workers = 4
                }
                shared = first
                """);
        Files.writeString(second.resolve("reference.conf"), """
                plugins."io.x.v1.b" {
                  # Where blobs go.
                  dir = /b
                }
                shared = second
                """);

        try (URLClassLoader loader = loader(first, second)) {
            Config reference = ConfigSources.references(loader);

            assertEquals(4, reference.getInt("plugins.\"io.x.v1.a\".workers"));
            assertEquals("/b", reference.getString("plugins.\"io.x.v1.b\".dir"));
            assertEquals("first", reference.getString("shared"));
            ConfigProblem where = ConfigProblem.of(reference.getValue("plugins.\"io.x.v1.b\".dir").origin(), "", "");
            assertEquals(second.resolve("reference.conf").toUri().toURL().toExternalForm(), where.origin());
            assertEquals(3, where.line());
            assertEquals(List.of(" How many workers run."),
                    reference.getValue("plugins.\"io.x.v1.a\".workers").origin().comments());
        }
    }

    @Test
    void referencesAreReadFromJars() throws IOException {
        Path jar = dir.resolve("plugin.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("reference.conf"));
            out.write("# The size.\nsize = 3\n".getBytes(StandardCharsets.UTF_8));
        }
        try (URLClassLoader loader = loader(jar)) {
            Config reference = ConfigSources.references(loader);
            ConfigProblem where = ConfigProblem.of(reference.getValue("size").origin(), "", "");
            assertEquals("jar:" + jar.toUri().toURL().toExternalForm() + "!/reference.conf", where.origin());
            assertEquals(2, where.line());
        }
    }

    @Test
    void aBrokenReferenceIsReportedWithItsUrlAndLine() throws IOException {
        Files.writeString(dir.resolve("reference.conf"), "a = 1\nb = {\n");
        try (URLClassLoader loader = loader(dir)) {
            ConfigValidationException e = assertThrows(ConfigValidationException.class,
                    () -> ConfigSources.references(loader));
            assertEquals(dir.resolve("reference.conf").toUri().toURL().toExternalForm(), e.problems().getFirst().origin());
            assertEquals(3, e.problems().getFirst().line());
        }
    }

    @Test
    void noReferencesGiveAnEmptyConfig() throws IOException {
        try (URLClassLoader loader = loader()) {
            assertTrue(ConfigSources.references(loader).isEmpty());
        }
    }

    @Test
    void effectiveFallsBackToTheReference() {
        Config effective = ConfigSources.effective(ConfigFactory.parseString("a = 1"),
                ConfigFactory.parseString("a = 0, b = 2"));
        assertEquals(1, effective.getInt("a"));
        assertEquals(2, effective.getInt("b"));
    }

    @Test
    void anUnresolvableSubstitutionNamesFileAndLine() throws IOException {
        Path file = write("berth.conf", """
                root = /x
                state = ${roots}/state
                """);

        ConfigValidationException e = assertThrows(ConfigValidationException.class,
                () -> ConfigSources.effective(ConfigSources.user(Optional.of(file), Map.of()), ConfigFactory.empty()));

        assertEquals(file + ":2: Could not resolve substitution to a value: ${roots}",
                e.problems().getFirst().format());
    }

    private static URLClassLoader loader(Path... roots) throws IOException {
        URL[] urls = new URL[roots.length];
        for (int i = 0; i < roots.length; i++) {
            urls[i] = roots[i].toUri().toURL();
        }
        // No parent: only the given roots' reference.conf files are seen, not this module's class path.
        return new URLClassLoader(urls, null);
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }
}
