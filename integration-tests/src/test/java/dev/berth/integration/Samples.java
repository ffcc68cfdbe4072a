package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** The sample plugin jars (module plugin-samples), as built by the reactor. */
enum Samples {
    HELLO("hello"),
    DEPENDENT("dependent"),
    FAILING("failing"),
    BROKEN_GRAPH("broken-graph"),
    FUTURE_API("future-api");

    /** The message the failing sample's initialisation throws. */
    static final String FAILURE = "the failing sample never starts: it exists to show how errors are reported";

    private final String module;

    Samples(String module) {
        this.module = module;
    }

    Path jar() {
        Path jar = Path.of(Berthd.property("berth.sample." + module));
        assertTrue(Files.isRegularFile(jar), () -> "sample jar " + jar + " is missing");
        return jar;
    }
}
