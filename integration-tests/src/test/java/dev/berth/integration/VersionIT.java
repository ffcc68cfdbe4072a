package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class VersionIT {

    @Test
    void ctrVersionShowsTheVersionAndRevisionBerthdReports() {
        Ctr.requireInstalled();
        try (Berthd berthd = new Berthd().start()) {
            Map<String, String> server = berthd.ctr().serverVersion();
            String version = server.getOrDefault("Version", "");
            String revision = server.getOrDefault("Revision", "");
            assertFalse(version.isBlank(), () -> "no server version in " + server);
            assertFalse(revision.isBlank(), () -> "no server revision in " + server);

            Exec.Result cli = Berthd.run("--version");
            assertEquals(0, cli.exitCode(), cli::toString);
            assertTrue(cli.stdout().contains(version), () -> "berthd --version does not say " + version + ": " + cli);
            assertTrue(cli.stdout().contains(revision), () -> "berthd --version does not say " + revision + ": " + cli);
        }
    }

    @Test
    void logLevelFromTheCommandLineHoldsFromTheFirstLine() {
        Ctr.requireInstalled();
        // the level is set while another thread may still be setting logging up: start several times
        for (int i = 0; i < 4; i++) {
            try (Berthd berthd = new Berthd().start("--log-level", "debug")) {
                String log = berthd.stderr();
                assertTrue(log.contains(" DEBUG Berthd: startup: config loaded"), () -> "start " + log);
            }
        }
    }
}
