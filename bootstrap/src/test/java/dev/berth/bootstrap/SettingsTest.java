package dev.berth.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.bootstrap.DaemonConfig.LogLevel;
import dev.berth.config.ConfigProblem;
import dev.berth.config.ConfigValidationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {
    private static final Host ROOT = new Host(0, Path.of("/root"), Map.of());

    @TempDir
    Path dir;

    private static Settings load(Host host, Map<String, String> overrides) {
        return Settings.load(Optional.empty(), overrides, host, SettingsTest.class.getClassLoader());
    }

    @Test
    void rootUsesTheSystemDirectories() {
        DaemonConfig config = load(ROOT, Map.of()).daemon();
        assertEquals(Path.of("/var/lib/berth"), config.root());
        assertEquals(Path.of("/run/berth"), config.state());
        assertEquals("/run/berth/berth.sock", config.grpc().address());
        assertEquals("/run/berth/berth.sock.ttrpc", config.ttrpc().address());
        assertEquals(List.of(Path.of("/var/lib/berth/plugins")), config.pluginDirs());
        assertEquals(LogLevel.INFO, config.logLevel());
        assertEquals(-1, config.grpc().uid());
        assertEquals(16L << 20, config.grpc().maxRecvMessageSize());
        assertEquals(List.of(), config.disabledPlugins());
    }

    @Test
    void otherUsersGetXdgDirectories() {
        Host user = new Host(1000, Path.of("/home/ann"),
                Map.of("XDG_DATA_HOME", "/home/ann/data", "XDG_RUNTIME_DIR", "/run/user/1000"));
        DaemonConfig config = load(user, Map.of()).daemon();
        assertEquals(Path.of("/home/ann/data/berth"), config.root());
        assertEquals(Path.of("/run/user/1000/berth"), config.state());
        assertEquals("/run/user/1000/berth/berth.sock", config.grpc().address());
        assertEquals(List.of(Path.of("/home/ann/data/berth/plugins")), config.pluginDirs());
    }

    @Test
    void otherUsersWithoutXdgVariablesFallBackToHomeAndTmp() {
        Host user = new Host(1000, Path.of("/home/ann"), Map.of("XDG_DATA_HOME", "relative/is/ignored"));
        DaemonConfig config = load(user, Map.of()).daemon();
        assertEquals(Path.of("/home/ann/.local/share/berth"), config.root());
        assertEquals(Path.of("/tmp/berth-1000"), config.state());
        assertEquals("/tmp/berth-1000/berth.sock", config.grpc().address());
    }

    @Test
    void flagsOverrideAndDerivedDefaultsFollow() throws Exception {
        CommandLine cli = CommandLine.parse("--root", dir.resolve("r").toString(), "--state", dir.resolve("s").toString());
        DaemonConfig config = load(ROOT, cli.overrides()).daemon();
        assertEquals(dir.resolve("r"), config.root());
        assertEquals(dir.resolve("s").resolve("berth.sock").toString(), config.grpc().address());
        assertEquals(List.of(dir.resolve("r/plugins")), config.pluginDirs());

        cli = CommandLine.parse("--address", "/tmp/x.sock", "--log-level", "DEBUG", "--set", "grpc.gid=42");
        config = load(ROOT, cli.overrides()).daemon();
        assertEquals("/tmp/x.sock", config.grpc().address());
        assertEquals("/tmp/x.sock.ttrpc", config.ttrpc().address());
        assertEquals(LogLevel.DEBUG, config.logLevel());
        assertEquals(42, config.grpc().gid());
    }

    @Test
    void theUserConfigHoldsOnlyTheFileAndOverrides() throws Exception {
        Path file = dir.resolve("berth.conf");
        Files.writeString(file, "grpc { gid = 7 }\n");
        Settings settings = Settings.load(Optional.of(file), Map.of("root", "/srv/b"), ROOT, getClass().getClassLoader());
        assertEquals(7, settings.user().getInt("grpc.gid"));
        assertEquals("/srv/b", settings.user().getString("root"));
        assertEquals(false, settings.user().hasPath("state"));
        assertEquals(7, settings.daemon().grpc().gid());
    }

    @Test
    void everyProblemIsReportedWithFileAndLine() throws Exception {
        Path file = dir.resolve("berth.conf");
        Files.writeString(file, """
                root = relative/root
                grpc {
                  adress = /tmp/b.sock
                  max-recv-message-size = 3 GiB
                }
                log-level = loud
                """);
        ConfigValidationException e = assertThrows(ConfigValidationException.class,
                () -> Settings.load(Optional.of(file), Map.of(), ROOT, getClass().getClassLoader()));
        List<String> lines = e.problems().stream().map(ConfigProblem::format).toList();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(file + ":3: grpc.adress: ") && l.contains("address")), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(file + ":6: log-level: ")), lines.toString());
        assertEquals(2, lines.size(), lines.toString()); // binding stops before the checks that need a bound record

        Files.writeString(file, """
                root = relative/root
                grpc.max-recv-message-size = 3 GiB
                plugin-dirs = [/opt/berth/plugins]
                grpc.warm-up-connections = -1
                """);
        e = assertThrows(ConfigValidationException.class,
                () -> Settings.load(Optional.of(file), Map.of(), ROOT, getClass().getClassLoader()));
        lines = e.problems().stream().map(ConfigProblem::format).toList();
        assertEquals(List.of(
                        file + ":1: root: 'relative/root' is not an absolute path",
                        file + ":2: grpc.max-recv-message-size: 3221225472 is out of range: expected 1 byte to 2 GiB - 1",
                        file + ":4: grpc.warm-up-connections: -1 is out of range: expected 0 or more"),
                lines);
    }
}
