package dev.berth.plugins.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.content.Digest;
import dev.berth.plugin.metadata.Lease;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReopenAndCrashTest {
    @TempDir
    Path dir;

    @Test
    void dataSurvivesClosingAndReopening() throws Exception {
        try (Fixture fixture = new Fixture(dir)) {
            fixture.store.namespaces().create("kept", Map.of("a", "b"));
            fixture.store.leases().create("kept", "l", Map.of("x", "y"));
            Digest digest = Fixture.commit(fixture.content("kept", "l"), "bytes", Map.of("k", "v"));
            fixture.reopen();
            assertEquals(Map.of("a", "b"), fixture.store.namespaces().labels("kept"));
            assertEquals(List.of("l"), fixture.store.leases().list("kept", l -> true).stream().map(Lease::id).toList());
            assertEquals(Map.of("k", "v"), fixture.content("kept").info(digest).labels());
            assertEquals(1, fixture.store.leases().listResources("kept", "l").size());
        }
    }

    /**
     * A child JVM creates leases in a loop, printing each id once its transaction committed, and is
     * killed with SIGKILL mid-stream. Every printed lease must be there after reopening, and every
     * record must be whole.
     */
    @Test
    void committedWritesSurviveSigkill() throws Exception {
        Path metadata = dir.resolve("metadata");
        Path content = dir.resolve("content");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                CrashWriter.class.getName(), metadata.toString(), content.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<String> acknowledged = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while (acknowledged.size() < 300 && (line = out.readLine()) != null) {
                acknowledged.add(line);
            }
            // SIGKILL: no shutdown hook, no close, possibly mid-transaction
            child.destroyForcibly();
            child.waitFor();
        }
        assertEquals(300, acknowledged.size(), "the writer stopped early");
        assertEquals(137, child.exitValue(), "killed by SIGKILL");

        try (LmdbMetadataStore store = LmdbMetadataStore.open(metadata, Fixture.contentStore(content), Map.of(),
                Clock.systemUTC())) {
            Set<String> present = store.leases().list("crash", l -> true).stream().map(Lease::id)
                    .collect(Collectors.toSet());
            assertTrue(present.containsAll(acknowledged), "acknowledged leases lost");
            for (String id : present) {
                assertEquals(Map.of("n", id), store.leases().list("crash", l -> l.id().equals(id)).getFirst().labels());
            }
            // the store still takes writes after the crash
            store.leases().create("crash", "after", Map.of());
        }
    }

    /** The child process of {@link #committedWritesSurviveSigkill}. */
    public static final class CrashWriter {
        public static void main(String[] args) throws Exception {
            LmdbMetadataStore store = LmdbMetadataStore.open(Path.of(args[0]), Fixture.contentStore(Path.of(args[1])),
                    Map.of(), Clock.systemUTC());
            for (int i = 0; ; i++) {
                String id = "lease-" + i;
                store.leases().create("crash", id, Map.of("n", id));
                System.out.println(id);
                System.out.flush();
            }
        }
    }
}
