package dev.berth.config.testing;

import static dev.berth.config.testing.ConfigAssertions.assertFullMapping;
import static dev.berth.config.testing.ConfigAssertions.assertRecordedDefaults;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URLClassLoader;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigAssertionsTest {
    record Store(Path dir, int workers, Duration timeout, Optional<String> label) {}

    private static final String PATH = "plugins.\"io.x.v1.store\"";
    private static final Store DEFAULTS = new Store(Path.of("/var/lib/store"), 4, Duration.ofSeconds(10),
            Optional.empty());
    private static final Store MAPPED = new Store(Path.of("/srv/store"), 8, Duration.ofMillis(1500),
            Optional.of("fast"));

    @TempDir
    Path dir;

    private URLClassLoader loader;

    @BeforeEach
    void writeReference() throws IOException {
        Files.writeString(dir.resolve("reference.conf"), """
                plugins."io.x.v1.store" {
                  # Where blobs go.
                  dir = /var/lib/store
                  # Worker threads.
                  workers = 4
                  # How long a write may take.
                  timeout = 10s
                }
                """);
        loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, null);
    }

    @AfterEach
    void closeLoader() throws IOException {
        loader.close();
    }

    @Test
    void recordedDefaultsPass() {
        assertRecordedDefaults(Store.class, PATH, DEFAULTS, loader);
    }

    @Test
    void recordedDefaultsNameTheDifferingComponent() {
        AssertionError e = assertThrows(AssertionError.class, () -> assertRecordedDefaults(Store.class, PATH,
                new Store(Path.of("/var/lib/store"), 5, Duration.ofSeconds(10), Optional.empty()), loader));
        assertTrue(e.getMessage().contains("workers (key 'workers'): expected <5> but was <4>"), e.getMessage());
        assertTrue(e.getMessage().contains("expected: Store[dir=/var/lib/store, workers=5"), e.getMessage());
    }

    @Test
    void recordedDefaultsReportBindingProblems() throws IOException {
        Files.writeString(dir.resolve("reference.conf"), """
                plugins."io.x.v1.store" {
                  dir = /var/lib/store
                  workers = 4
                  timeout = 10s
                  worker = 2
                }
                """);
        AssertionError e = assertThrows(AssertionError.class,
                () -> assertRecordedDefaults(Store.class, PATH, DEFAULTS, loader));
        assertTrue(e.getMessage().contains("reference.conf:5: " + PATH + ".worker: unknown key 'worker' (did you mean 'workers'?)"),
                e.getMessage());
    }

    @Test
    void fullMappingPasses() {
        assertFullMapping(Store.class, PATH, """
                dir = /srv/store
                workers = 8
                timeout = 1500ms
                label = fast
                """, MAPPED, loader);
    }

    @Test
    void fullMappingFailsWhenAKeyIsNotSet() {
        AssertionError e = assertThrows(AssertionError.class, () -> assertFullMapping(Store.class, PATH, """
                dir = /srv/store
                workers = 8
                timeout = 1500ms
                """, new Store(Path.of("/srv/store"), 8, Duration.ofMillis(1500), Optional.empty()), loader));
        assertTrue(e.getMessage().contains("the mapping does not set 'label'"), e.getMessage());
    }

    @Test
    void fullMappingFailsWhenAValueEqualsItsDefault() {
        AssertionError e = assertThrows(AssertionError.class, () -> assertFullMapping(Store.class, PATH, """
                dir = /srv/store
                workers = 4
                timeout = 10000ms
                label = fast
                """, new Store(Path.of("/srv/store"), 4, Duration.ofSeconds(10), Optional.of("fast")), loader));
        assertTrue(e.getMessage().contains("'workers' is set to its default (4)"), e.getMessage());
        assertTrue(e.getMessage().contains("'timeout' is set to its default (PT10S)"), e.getMessage());
    }

    @Test
    void fullMappingFailsWhenTheResultDiffers() {
        AssertionError e = assertThrows(AssertionError.class, () -> assertFullMapping(Store.class, PATH, """
                dir = /srv/store
                workers = 8
                timeout = 1500ms
                label = slow
                """, MAPPED, loader));
        assertTrue(e.getMessage().contains("label (key 'label'): expected <Optional[fast]> but was <Optional[slow]>"),
                e.getMessage());
    }

    @Test
    void fullMappingFailsOnAnUnknownKey() {
        AssertionError e = assertThrows(AssertionError.class, () -> assertFullMapping(Store.class, PATH, """
                dir = /srv/store
                workers = 8
                timeout = 1500ms
                label = fast
                lable = fast
                """, MAPPED, loader));
        assertTrue(e.getMessage().contains("unknown key 'lable' (did you mean 'label'?)"), e.getMessage());
    }
}
