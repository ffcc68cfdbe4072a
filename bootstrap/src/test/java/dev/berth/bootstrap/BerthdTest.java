package dev.berth.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands that do not leave a daemon running, run in process. */
class BerthdTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @TempDir
    Path dir;

    private int run(String... args) {
        Berthd berthd = new Berthd(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new Host(0, Path.of("/root"), Map.of()));
        return berthd.run(args);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private List<String> errLines() {
        return Arrays.asList(err.toString(StandardCharsets.UTF_8).split("\n"));
    }

    @Test
    void versionPrintsVersionAndRevision() {
        assertEquals(0, run("--version"));
        assertTrue(out().matches("berthd \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? (unknown|[0-9a-f]{40})\n"), out());
    }

    @Test
    void helpPrintsUsage() {
        assertEquals(0, run("--help"));
        assertTrue(out().startsWith("Usage: berthd"), out());
    }

    @Test
    void unknownFlagIsAUsageError() {
        assertEquals(2, run("--no-such-flag"));
        assertEquals(List.of("berthd: unknown flag --no-such-flag", "Run 'berthd --help' for usage."), errLines());
        assertEquals("", out());
    }

    @Test
    void validateReportsEveryProblemOfTheDaemonAndThePluginsWithFileAndLine() throws Exception {
        Path file = dir.resolve("berth.conf");
        Files.writeString(file, """
                root = /srv/berth
                grpc {
                  adress = /tmp/b.sock
                  uid = nobody
                }
                plugins {
                  "io.containerd.grpc.v1.verison" {}
                }
                """);
        assertEquals(1, run("config", "validate", file.toString()));
        List<String> lines = errLines();
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(file + ":3: grpc.adress: ") && l.contains("did you mean 'address'")), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(file + ":4: grpc.uid: ")), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(file + ":7: ") && l.contains("io.containerd.grpc.v1.version")), lines.toString());
        assertEquals("", out());
    }

    @Test
    void validateAcceptsAGoodFile() throws Exception {
        Path file = dir.resolve("berth.conf");
        Files.writeString(file, "grpc.gid = 1000\nlog-level = debug\n");
        assertEquals(0, run("config", "validate", file.toString()), err.toString(StandardCharsets.UTF_8));
        assertEquals(file + ": ok\n", out());
    }

    @Test
    void validateReportsASyntaxError() throws Exception {
        Path file = dir.resolve("berth.conf");
        Files.writeString(file, "root = /srv/berth\ngrpc {\n");
        assertEquals(1, run("config", "validate", file.toString()));
        assertTrue(errLines().getFirst().startsWith(file + ":"), errLines().toString());
    }

    @Test
    void startupFailsOnAMistypedKeyNamingFileLineAndTheKeyMeant() throws Exception {
        Path file = dir.resolve("berth.conf");
        Files.writeString(file, "# berth\nstate = " + dir.resolve("state") + "\nroot-dir = /srv\n");
        assertEquals(1, run("--config", file.toString(), "--root", dir.resolve("root").toString()));
        List<String> lines = errLines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.getFirst().startsWith(file + ":3: root-dir: "), lines.toString());
        assertTrue(lines.getFirst().contains("root"), lines.toString());
        assertFalse(Files.exists(dir.resolve("root")), "nothing is created when the config is invalid");
    }

    @Test
    void startupFailsOnAnUnknownPluginSectionNamingFileLineAndThePluginMeant() throws Exception {
        Path file = dir.resolve("berth.conf");
        Files.writeString(file, "plugins {\n  \"io.containerd.grpc.v1.verison\" {}\n}\n");
        assertEquals(1, run("--config", file.toString(), "--root", dir.resolve("root").toString(),
                "--state", dir.resolve("state").toString()));
        List<String> lines = errLines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.getFirst().startsWith(file + ":2: plugins.\"io.containerd.grpc.v1.verison\": "), lines.toString());
        assertTrue(lines.getFirst().contains("io.containerd.grpc.v1.version"), lines.toString());
        assertFalse(Files.exists(dir.resolve("state/berth.sock")));
    }

    @Test
    void defaultPrintsEachKeyWithItsDescription() {
        assertEquals(0, run("config", "default"));
        String text = out();
        assertTrue(text.contains("# Unix socket the gRPC API (containerd v1) is served on."), text);
        assertTrue(text.contains("# Directory of persistent data"), text);
        assertTrue(text.contains("/var/lib/berth"), text);
    }

    @Test
    void dumpShowsWhereEachValueComesFrom() throws Exception {
        Path file = dir.resolve("berth.conf");
        Files.writeString(file, "grpc {\n  gid = 1000\n}\n");
        assertEquals(0, run("--config", file.toString(), "config", "dump", "--root", "/srv/berth"));
        String text = out();
        assertTrue(text.contains(file + ":2"), text);
        assertTrue(text.contains("gid = 1000"), text);
        assertTrue(text.contains("/srv/berth"), text);
        assertTrue(text.contains("/srv/berth/plugins"), text);
    }

    @Test
    void schemaIsJsonDescribingTheKeys() {
        assertEquals(0, run("config", "schema"));
        String text = out().strip();
        assertTrue(text.startsWith("{") && text.endsWith("}"), text);
        assertTrue(text.contains("\"max-recv-message-size\""), text);
        assertTrue(text.contains("Unix socket the gRPC API"), text);
    }
}
