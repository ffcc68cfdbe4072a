package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Config problems are reported, all of them, naming file and line, and stop the daemon. */
class ConfigErrorsIT {

    @Test
    void mistypedKeyStopsTheDaemonNamingFileLineAndTheKeyMeant() {
        try (Berthd berthd = new Berthd()) {
            berthd.writeConfig("""
                    # one mistyped key, on line 3
                    grpc {
                      adress = "/tmp/berth-it-never.sock"
                    }
                    """ + berthd.baseConfig());

            int exit = berthd.launch().awaitExit(Berthd.START_TIMEOUT);

            assertEquals(1, exit, berthd::logs);
            String stderr = berthd.stderr();
            assertTrue(stderr.contains(berthd.config() + ":3"), berthd::logs);
            assertTrue(stderr.contains("did you mean 'address'"), berthd::logs);
            assertFalse(Files.exists(berthd.socket()), "a daemon with a bad config must not listen");
        }
    }

    @Test
    void pluginJarSectionsAreCheckedLikeTheDaemonsOwn() {
        try (Berthd berthd = new Berthd()) {
            berthd.install(Samples.HELLO.jar());
            berthd.writeConfig("""
                    plugins."io.berth.sample.v1.hello" {
                      greting = "Hey, {name}"
                    }
                    """ + berthd.baseConfig());

            int exit = berthd.launch().awaitExit(Berthd.START_TIMEOUT);

            assertEquals(1, exit, berthd::logs);
            assertTrue(berthd.stderr().contains(berthd.config() + ":2"), berthd::logs);
            assertTrue(berthd.stderr().contains("did you mean 'greeting'"), berthd::logs);
        }
    }

    @Test
    void validateReportsEveryProblem() {
        try (Berthd berthd = new Berthd()) {
            berthd.writeConfig("""
                    rooot = "/tmp/berth-it-root"
                    grpc {
                      adress = "/tmp/berth-it-never.sock"
                    }
                    plugin-dirs = 5
                    """);

            Exec.Result result = Berthd.run("config", "validate", berthd.config().toString());

            assertEquals(1, result.exitCode(), result::toString);
            String prefix = berthd.config() + ":";
            List<String> problems = result.output().lines().filter(line -> line.startsWith(prefix)).toList();
            assertEquals(3, problems.size(), result::toString);
            assertReported(problems, prefix + "1:", "did you mean 'root'", result);
            assertReported(problems, prefix + "3:", "did you mean 'address'", result);
            assertReported(problems, prefix + "5:", "plugin-dirs", result);
        }
    }

    @Test
    void validateAcceptsAValidFile() {
        try (Berthd berthd = new Berthd()) {
            berthd.writeConfig("""
                    grpc {
                      address = "/tmp/berth-it-valid.sock"
                    }
                    """ + berthd.baseConfig());

            Exec.Result result = Berthd.run("config", "validate", berthd.config().toString());

            assertEquals(0, result.exitCode(), result::toString);
        }
    }

    private static void assertReported(List<String> problems, String location, String text, Exec.Result result) {
        assertTrue(problems.stream().anyMatch(line -> line.startsWith(location) && line.contains(text)),
                () -> "no problem at " + location + " saying " + text + " in:\n" + result);
    }
}
