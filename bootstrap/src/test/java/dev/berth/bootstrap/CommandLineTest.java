package dev.berth.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.bootstrap.CommandLine.Command;
import dev.berth.bootstrap.CommandLine.UsageException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CommandLineTest {

    @Test
    void noArgumentsRunsTheDaemonWithNoOverrides() throws Exception {
        CommandLine cli = CommandLine.parse();
        assertEquals(Command.RUN, cli.command());
        assertEquals(Optional.empty(), cli.configFile());
        assertEquals(Map.of(), cli.overrides());
    }

    @Test
    void dedicatedFlagsBecomeConfigOverrides() throws Exception {
        CommandLine cli = CommandLine.parse("--config", "/etc/berth/config.conf", "--root", "/srv/berth",
                "--state=/run/b", "-a", "/run/b/b.sock", "--log-level", "debug");
        assertEquals(Optional.of(Path.of("/etc/berth/config.conf")), cli.configFile());
        assertEquals(Map.of("root", "/srv/berth", "state", "/run/b", "grpc.address", "/run/b/b.sock", "log-level", "debug"),
                cli.overrides());
    }

    @Test
    void relativePathsAreMadeAbsolute() throws Exception {
        CommandLine cli = CommandLine.parse("--root", "data/../root", "-c", "berth.conf");
        Path cwd = Path.of("").toAbsolutePath();
        assertEquals(cwd.resolve("root").toString(), cli.overrides().get("root"));
        assertEquals(Optional.of(cwd.resolve("berth.conf")), cli.configFile());
    }

    @Test
    void dedicatedFlagsWinOverSetAndLaterSetsWinOverEarlierOnes() throws Exception {
        CommandLine cli = CommandLine.parse("--root", "/a", "--set", "root=/b", "--set", "grpc.gid=10", "--set", "grpc.gid=20");
        assertEquals("/a", cli.overrides().get("root"));
        assertEquals("20", cli.overrides().get("grpc.gid"));
        assertEquals(List.of("grpc.gid", "root"), List.copyOf(cli.overrides().keySet()));
    }

    @Test
    void setKeepsEverythingAfterTheFirstEqualsSign() throws Exception {
        CommandLine cli = CommandLine.parse("--set", "plugins.\"io.x.v1.y\".url=http://h/?a=b");
        assertEquals("http://h/?a=b", cli.overrides().get("plugins.\"io.x.v1.y\".url"));
    }

    @Test
    void configSubcommands() throws Exception {
        assertEquals(Command.CONFIG_DEFAULT, CommandLine.parse("config", "default").command());
        assertEquals(Command.CONFIG_DUMP, CommandLine.parse("--config", "/x.conf", "config", "dump").command());
        assertEquals(Command.CONFIG_SCHEMA, CommandLine.parse("config", "schema").command());
        CommandLine validate = CommandLine.parse("config", "validate", "/etc/berth.conf");
        assertEquals(Command.CONFIG_VALIDATE, validate.command());
        assertEquals(Optional.of(Path.of("/etc/berth.conf")), validate.operand());
    }

    @Test
    void versionAndHelpWinOverEverythingElse() throws Exception {
        assertEquals(Command.VERSION, CommandLine.parse("--root", "/x", "--version").command());
        assertEquals(Command.VERSION, CommandLine.parse("-v").command());
        assertEquals(Command.HELP, CommandLine.parse("config", "dump", "-h").command());
    }

    @Test
    void usageErrors() {
        assertUsage("unknown flag --roots", "--roots", "/x");
        assertUsage("--root needs a value", "--root");
        assertUsage("--set expects KEY=VALUE, got 'root'", "--set", "root");
        assertUsage("unknown command 'start'", "start");
        assertUsage("config needs a subcommand: default, dump, validate FILE or schema", "config");
        assertUsage("unknown config subcommand 'show'", "config", "show");
        assertUsage("config validate needs a FILE", "config", "validate");
        assertUsage("unexpected argument 'more'", "config", "dump", "more");
        assertUsage("--version takes no value", "--version=1");
    }

    private static void assertUsage(String message, String... args) {
        UsageException e = assertThrows(UsageException.class, () -> CommandLine.parse(args));
        assertEquals(message, e.getMessage());
    }

    @Test
    void usageListsEveryFlag() {
        for (String flag : List.of("--config", "--root", "--state", "--address", "--log-level", "--set", "--version", "--help")) {
            assertTrue(CommandLine.USAGE.contains(flag), flag);
        }
    }
}
