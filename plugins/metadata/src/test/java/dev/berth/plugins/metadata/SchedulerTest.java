package dev.berth.plugins.metadata;

import static dev.berth.config.testing.ConfigAssertions.assertFullMapping;
import static dev.berth.config.testing.ConfigAssertions.assertRecordedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.content.Digest;
import dev.berth.plugin.metadata.GcStats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class SchedulerTest {
    private static final String PATH = "plugins.\"io.containerd.gc.v1.scheduler\"";

    @TempDir
    Path dir;

    @Test
    void defaultsAreContainerds() {
        assertRecordedDefaults(GcConfig.class, PATH,
                new GcConfig(0.02, 0, 100, Duration.ZERO, Duration.ofMillis(100)), getClass().getClassLoader());
        assertEquals(GcConfig.defaults(), new GcConfig(0.02, 0, 100, Duration.ZERO, Duration.ofMillis(100)));
    }

    @Test
    void everyKeyMaps() {
        assertFullMapping(GcConfig.class, PATH, """
                pause-threshold = 0.1
                deletion-threshold = 5
                mutation-threshold = 7
                schedule-delay = 2s
                startup-delay = 3s
                """, new GcConfig(0.1, 5, 7, Duration.ofSeconds(2), Duration.ofSeconds(3)), getClass().getClassLoader());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void scheduleAndWaitRunsACollection() throws Exception {
        try (Fixture fixture = new Fixture(dir);
                Scheduler scheduler = new Scheduler(fixture.store, new GcConfig(0.02, 0, 0, Duration.ZERO, Duration.ofHours(1)))) {
            Digest loose = Fixture.commit(fixture.content("ns"), "loose", Map.of());
            GcStats stats = scheduler.scheduleAndWait();
            assertEquals(1, stats.removed());
            assertFalse(Fixture.exists(fixture.backend, loose));
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aDeletionSchedulesACollection() throws Exception {
        try (Fixture fixture = new Fixture(dir);
                Scheduler scheduler = new Scheduler(fixture.store, new GcConfig(0.02, 0, 0, Duration.ZERO, Duration.ZERO))) {
            fixture.store.leases().create("ns", "l", Map.of());
            Digest held = Fixture.commit(fixture.content("ns", "l"), "held", Map.of());
            assertTrue(Fixture.exists(fixture.backend, held));
            // no request and no startup collection pending: the deletion alone (deletion threshold 0) schedules one
            fixture.store.leases().delete("ns", "l", false);
            while (Fixture.exists(fixture.backend, held)) {
                Thread.sleep(10);
            }
        }
    }
}
