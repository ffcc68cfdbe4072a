package dev.berth.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordBinderTest {
    enum Mode { FAST_START, SLOW }

    record Limits(int maxConns, Duration idle) {}

    record Sample(String name, boolean enabled, int port, long maxSize, double ratio, Duration timeout, Path root,
            Mode mode, List<Integer> ports, Set<String> tags, Map<String, Limits> limits, Limits defaults,
            Optional<String> comment, Config extra) {}

    record Port(int number) {
        Port {
            if (number <= 0) {
                throw new IllegalArgumentException("number must be positive, was " + number);
            }
        }
    }

    record Unsupported(java.util.Date when) {}

    record Daemon(String root, Config plugins) {}

    private static final String FULL = """
            sample {
              name = demo
              enabled = yes
              port = "8080"
              max-size = 64 MiB
              ratio = 0.5
              timeout = 10s
              root = /var/lib/x
              mode = fast-start
              ports = [1, 2, 3]
              tags = [a, b, a]
              limits { "io.x.v1.y" { max-conns = 3, idle = 500ms } }
              defaults { max-conns = 7, idle = 1m }
              comment = null
              extra { anything { goes = true } }
            }
            """;

    @TempDir
    Path dir;

    @Test
    void bindsEverySupportedType() throws IOException {
        ConfigProblems problems = new ConfigProblems();
        Sample sample = RecordBinder.bind(load(FULL), "sample", Sample.class, problems);

        assertEquals(List.of(), problems.list());
        assertEquals("demo", sample.name());
        assertTrue(sample.enabled());
        assertEquals(8080, sample.port());
        assertEquals(64L * 1024 * 1024, sample.maxSize());
        assertEquals(0.5, sample.ratio());
        assertEquals(Duration.ofSeconds(10), sample.timeout());
        assertEquals(Path.of("/var/lib/x"), sample.root());
        assertEquals(Mode.FAST_START, sample.mode());
        assertEquals(List.of(1, 2, 3), sample.ports());
        assertEquals(Set.of("a", "b"), sample.tags());
        assertEquals(Map.of("io.x.v1.y", new Limits(3, Duration.ofMillis(500))), sample.limits());
        assertEquals(new Limits(7, Duration.ofMinutes(1)), sample.defaults());
        assertEquals(Optional.empty(), sample.comment());
        assertTrue(sample.extra().getBoolean("anything.goes"));
    }

    @Test
    void unknownKeySuggestsTheClosestKeyAndNamesItsLine() throws IOException {
        Path file = write("berth.conf", """
                sample {
                  name = demo
                  enabeld = true
                }
                """);
        ConfigProblems problems = new ConfigProblems();

        assertNull(RecordBinder.bind(load(file, "sample { enabled = false }"), "sample", Named.class, problems));
        assertEquals(List.of(new ConfigProblem(file.toString(), 3, "sample.enabeld",
                "unknown key 'enabeld' (did you mean 'enabled'?)")), problems.list());
        assertEquals(file + ":3: sample.enabeld: unknown key 'enabeld' (did you mean 'enabled'?)",
                problems.list().getFirst().format());
    }

    record Named(String name, boolean enabled) {}

    @Test
    void suggestionsCoverCaseSeparatorsDistanceAndPrefix() {
        Set<String> keys = Set.of("max-size", "root-dir", "address", "timeout");
        assertEquals(Optional.of("max-size"), RecordBinder.suggestion("maxSize", keys));
        assertEquals(Optional.of("max-size"), RecordBinder.suggestion("MAX_SIZE", keys));
        assertEquals(Optional.of("address"), RecordBinder.suggestion("adress", keys));
        assertEquals(Optional.of("timeout"), RecordBinder.suggestion("timeout-seconds", keys));
        assertEquals(Optional.of("root-dir"), RecordBinder.suggestion("root", keys));
        assertEquals(Optional.empty(), RecordBinder.suggestion("colour", keys));
    }

    @Test
    void reportsEveryProblemInOneRun() throws IOException {
        Path file = write("berth.conf", """
                sample {
                  name = [not, a, string]
                  enabled = maybe
                  port = 1.5
                  max-size = 64 parsecs
                  ratio = high
                  timeout = soon
                  mode = medium
                  ports = [1, x]
                  tags = a
                  limits { a { max-conns = many, idle = 1s, extra = 1 } }
                  defaults = 3
                  comment = {}
                  extra = 4
                  bogus = 1
                }
                """);
        ConfigProblems problems = new ConfigProblems();

        assertNull(RecordBinder.bind(load(file, "sample {}"), "sample", Sample.class, problems));
        List<String> formatted = problems.list().stream().map(ConfigProblem::format).toList();
        String f = file.toString();
        assertEquals(List.of(
                f + ":15: sample.bogus: unknown key 'bogus'",
                f + ":2: sample.name: expected string, found list [\"not\",\"a\",\"string\"]",
                f + ":3: sample.enabled: expected boolean, found string \"maybe\"",
                f + ":4: sample.port: expected int, found number 1.5",
                f + ":5: sample.max-size: expected long or size, found string \"64 parsecs\""
                        + " (use a whole number or a size such as 64 MiB)",
                f + ":6: sample.ratio: expected number, found string \"high\"",
                f + ":7: sample.timeout: expected duration, found string \"soon\" (use e.g. 10s, 500ms, 2m)",
                f + ":1: sample.root: missing key 'root' (expected path)",
                f + ":8: sample.mode: expected one of [fast-start, slow], found string \"medium\"",
                f + ":9: sample.ports[1]: expected int, found string \"x\"",
                f + ":10: sample.tags: expected list of string, found string \"a\"",
                f + ":11: sample.limits.a.extra: unknown key 'extra'",
                f + ":11: sample.limits.a.max-conns: expected int, found string \"many\"",
                f + ":12: sample.defaults: expected object, found number 3",
                f + ":13: sample.comment: expected string, found object {}",
                f + ":14: sample.extra: expected object, found number 4"), formatted);
    }

    @Test
    void missingKeyIsReportedAtItsParentWithTheExpectedType() throws IOException {
        Path file = write("berth.conf", """
                sample {
                  name = demo
                }
                """);
        ConfigProblems problems = new ConfigProblems();

        assertNull(RecordBinder.bind(load(file, ""), "sample", Named.class, problems));
        assertEquals(List.of(new ConfigProblem(file.toString(), 1, "sample.enabled",
                "missing key 'enabled' (expected boolean)")), problems.list());
    }

    @Test
    void missingSectionIsReported() {
        ConfigProblems problems = new ConfigProblems();
        assertNull(RecordBinder.bind(ConfigFactory.parseString("a {}"), "a.b", Named.class, problems));
        assertEquals("missing key 'b' (expected object)", problems.list().getFirst().message());
        assertEquals("a.b", problems.list().getFirst().path());
    }

    @Test
    void explicitNullIsAWrongTypeUnlessOptional() {
        ConfigProblems problems = new ConfigProblems();
        assertNull(RecordBinder.bind(ConfigFactory.parseString("name = null, enabled = true"), "", Named.class,
                problems));
        assertEquals("expected string, found null", problems.list().getFirst().message());
    }

    @Test
    void optionalIsEmptyWhenAbsentAndPresentWhenSet() {
        record WithOptional(Optional<Duration> grace, Optional<Limits> limits) {}
        ConfigProblems problems = new ConfigProblems();
        assertEquals(new WithOptional(Optional.empty(), Optional.empty()),
                RecordBinder.bind(ConfigFactory.empty(), "", WithOptional.class, problems));
        assertEquals(new WithOptional(Optional.of(Duration.ofSeconds(3)), Optional.of(new Limits(1, Duration.ZERO))),
                RecordBinder.bind(ConfigFactory.parseString("grace = 3s, limits { max-conns = 1, idle = 0 }"), "",
                        WithOptional.class, problems));
        assertTrue(problems.isEmpty(), problems.list()::toString);
    }

    @Test
    void problemInAnIncludedFileNamesThatFileAndLine() throws IOException {
        Path included = write("plugins.conf", """
                # settings of the sample section
                sample.name = demo
                sample.enabled = true
                sample.colour = blue
                """);
        Path main = write("berth.conf", """
                root = /x
                include "plugins.conf"
                """);
        ConfigProblems problems = new ConfigProblems();

        assertNull(RecordBinder.bind(load(main, ""), "sample", Named.class, problems));
        assertEquals(List.of(new ConfigProblem(included.toString(), 4, "sample.colour", "unknown key 'colour'")),
                problems.list());
    }

    @Test
    void bindsTheRootWithARawConfigComponent() {
        Config config = ConfigFactory.parseString("""
                root = /x
                plugins { "io.x.v1.y" { size = 3 } }
                """);
        ConfigProblems problems = new ConfigProblems();

        Daemon daemon = RecordBinder.bind(config, "", Daemon.class, problems);

        assertNotNull(daemon);
        assertEquals(3, daemon.plugins().getInt("\"io.x.v1.y\".size"));
        assertNull(RecordBinder.bind(ConfigFactory.parseString("root = /x, plugin {}"), "", Daemon.class, problems));
        assertEquals(List.of("unknown key 'plugin' (did you mean 'plugins'?)", "missing key 'plugins' (expected object)"),
                problems.list().stream().map(ConfigProblem::message).toList());
    }

    @Test
    void bindsAQuotedDottedSectionPath() {
        Config config = ConfigFactory.parseString("plugins { \"io.x.v1.y\" { number = 3 } }");
        ConfigProblems problems = new ConfigProblems();
        assertEquals(new Port(3), RecordBinder.bind(config, "plugins.\"io.x.v1.y\"", Port.class, problems));
        assertTrue(problems.isEmpty());
    }

    @Test
    void aRecordRejectingItsValuesIsAProblem() {
        ConfigProblems problems = new ConfigProblems();
        assertNull(RecordBinder.bind(ConfigFactory.parseString("p.number = -1"), "p", Port.class, problems));
        assertEquals("invalid Port: number must be positive, was -1", problems.list().getFirst().message());
    }

    @Test
    void anUnsupportedComponentTypeIsAProgrammingError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RecordBinder.bind(ConfigFactory.empty(), "", Unsupported.class, new ConfigProblems()));
        assertTrue(e.getMessage().contains("Unsupported.when: unsupported config type java.util.Date"),
                e.getMessage());
    }

    @Test
    void checkKeysComparesDottedQuotedKeysWhole() throws IOException {
        Path file = write("berth.conf", """
                plugins {
                  "io.containerd.grpc.v1.version" { }
                  "io.containerd.grpc.v1.versoin" { }
                  "io.other.v1.thing" { }
                }
                """);
        ConfigProblems problems = new ConfigProblems();

        RecordBinder.checkKeys(load(file, ""), "plugins",
                Set.of("io.containerd.grpc.v1.version", "io.containerd.grpc.v1.introspection"), "plugin", problems);

        assertEquals(List.of(
                new ConfigProblem(file.toString(), 3, "plugins.\"io.containerd.grpc.v1.versoin\"",
                        "unknown plugin 'io.containerd.grpc.v1.versoin' (did you mean 'io.containerd.grpc.v1.version'?)"),
                new ConfigProblem(file.toString(), 4, "plugins.\"io.other.v1.thing\"",
                        "unknown plugin 'io.other.v1.thing'")), problems.list());
    }

    @Test
    void checkKeysIgnoresAnAbsentObject() {
        ConfigProblems problems = new ConfigProblems();
        RecordBinder.checkKeys(ConfigFactory.empty(), "plugins", Set.of(), "plugin", problems);
        assertTrue(problems.isEmpty());
    }

    @Test
    void keyNamesAreKebabCase() {
        assertEquals("max-size", RecordBinder.keyName("maxSize"));
        assertEquals("root", RecordBinder.keyName("root"));
        assertEquals("http-url-path", RecordBinder.keyName("httpURLPath"));
        assertEquals("ipv6-address", RecordBinder.keyName("ipv6Address"));
        assertEquals("ttl", RecordBinder.keyName("TTL"));
    }

    private Config load(String user) throws IOException {
        return load(write("berth.conf", user), "");
    }

    private Config load(Path user, String reference) {
        return ConfigSources.effective(ConfigSources.user(Optional.of(user), Map.of()),
                ConfigFactory.parseString(reference));
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }
}
