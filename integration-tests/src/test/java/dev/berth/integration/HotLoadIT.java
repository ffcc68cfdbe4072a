package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The plugin dirs of a running daemon are watched: jars come and go without a restart. */
class HotLoadIT {
    private static final Duration WATCH_TIMEOUT = Duration.ofSeconds(30);
    private static final String HELLO = "io.berth.sample.v1.hello";
    private static final String LOUD = "io.berth.sample.v1.loud";

    @BeforeEach
    void requireCtr() {
        Ctr.requireInstalled();
    }

    @Test
    void jarCopiedInIsLoadedAndDeletedIsUnloaded() throws IOException {
        try (Berthd berthd = new Berthd().start()) {
            Ctr ctr = berthd.ctr();
            awaitStatus(ctr, HELLO, Optional.empty());

            Path jar = berthd.install(Samples.HELLO.jar());
            awaitStatus(ctr, HELLO, Optional.of("ok"));
            // its defaults come from the jar's own reference.conf
            Ctr.Detail hello = ctr.pluginDetails("id==hello").getFirst();
            assertEquals("Hello, world!", hello.exports().get("greeting"), hello::toString);

            Files.delete(jar);
            awaitStatus(ctr, HELLO, Optional.empty());
            assertEquals("ok", status(ctr, "io.containerd.grpc.v1.introspection").orElseThrow());
        }
    }

    @Test
    void jarOthersDependOnStaysLoaded() throws IOException {
        try (Berthd berthd = new Berthd().start()) {
            Ctr ctr = berthd.ctr();
            Path hello = berthd.install(Samples.HELLO.jar());
            awaitStatus(ctr, HELLO, Optional.of("ok"));
            berthd.install(Samples.DEPENDENT.jar());
            awaitStatus(ctr, LOUD, Optional.of("ok"));

            int logged = berthd.stderr().length();
            Files.delete(hello);
            // The refusal is only visible in the log: wait for it, so that the plugins' staying is
            // not merely the watcher being slow.
            Poll.until(WATCH_TIMEOUT,
                    () -> berthd.stderr().substring(logged).lines().anyMatch(line -> line.contains(LOUD) && line.contains(HELLO)),
                    () -> "berthd did not log refusing to unload " + hello + "\n" + berthd.logs());

            assertEquals(Optional.of("ok"), status(ctr, HELLO), berthd::logs);
            assertEquals(Optional.of("ok"), status(ctr, LOUD), berthd::logs);
        }
    }

    private static void awaitStatus(Ctr ctr, String uri, Optional<String> expected) {
        Poll.until(WATCH_TIMEOUT, () -> status(ctr, uri).equals(expected),
                () -> uri + " is " + status(ctr, uri).orElse("absent") + ", expected " + expected.orElse("absent")
                        + "\n" + ctr.succeed("plugins", "ls", "-d"));
    }

    private static Optional<String> status(Ctr ctr, String uri) {
        List<Ctr.Row> rows = ctr.plugins();
        return rows.stream().filter(row -> row.uri().equals(uri)).map(Ctr.Row::status).findFirst();
    }
}
