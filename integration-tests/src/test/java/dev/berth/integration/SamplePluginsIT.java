package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.PluginApi;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A daemon whose plugin dir holds every sample jar: the good ones work, each bad one is reported
 * with its cause, and none of them keeps the daemon from serving.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SamplePluginsIT {
    private static final String SAMPLE = "io.berth.sample.v1";
    private static final String GRAPH = "io.berth.sample.graph.v1";

    private Berthd berthd;
    private List<Ctr.Row> rows;
    private List<Ctr.Detail> details;
    private String detailsText;

    @BeforeAll
    void start() {
        Ctr.requireInstalled();
        berthd = new Berthd();
        for (Samples sample : Samples.values()) {
            berthd.install(sample.jar());
        }
        berthd.writeConfig(berthd.baseConfig() + """
                plugins."io.berth.sample.v1.hello" {
                  greeting = "Ahoy, {name}!"
                }
                """);
        berthd.start();
        rows = berthd.ctr().plugins();
        detailsText = berthd.ctr().succeed("plugins", "ls", "-d");
        details = Ctr.Detail.parse(detailsText);
    }

    @AfterAll
    void stop() {
        if (berthd != null) {
            berthd.close();
        }
    }

    @Test
    void builtinsStillServe() {
        assertEquals("ok", status("io.containerd.grpc.v1.introspection"));
        assertEquals(0, berthd.ctr().run("version").exitCode());
    }

    @Test
    void helloIsOkAndConfiguredFromTheDaemonsConfig() {
        assertEquals("ok", status(SAMPLE + ".hello"), this::listing);
        Ctr.Detail hello = detail(SAMPLE + ".hello");
        assertEquals("Ahoy, world!", hello.exports().get("greeting"), this::listing);
        assertEquals(berthd.dir().resolve("root").resolve(SAMPLE + ".hello").toString(), hello.exports().get("root"), this::listing);
    }

    @Test
    void pluginOfAnotherJarUsesHello() {
        assertEquals("ok", status(SAMPLE + ".loud"), this::listing);
        Ctr.Detail loud = detail(SAMPLE + ".loud");
        assertEquals(List.of(SAMPLE), loud.requires(), this::listing);
        assertEquals("AHOY, WORLD!", loud.exports().get("greeting"), this::listing);
    }

    @Test
    void failingInitShowsItsMessage() {
        assertEquals("error", status(SAMPLE + ".failing"), this::listing);
        assertErrorMentions(SAMPLE + ".failing", Samples.FAILURE);
    }

    @Test
    void dependentOfAFailedPluginCarriesTheCause() {
        assertEquals("error", status(SAMPLE + ".needs-failing"), this::listing);
        assertErrorMentions(SAMPLE + ".needs-failing", SAMPLE + ".failing", Samples.FAILURE);
    }

    @Test
    void missingDependencyIsNamed() {
        assertEquals("error", status(GRAPH + ".orphan"), this::listing);
        assertErrorMentions(GRAPH + ".orphan", "io.berth.sample.absent.v1.nowhere");
    }

    @Test
    void cycleIsNamedWhole() {
        for (String plugin : List.of(GRAPH + ".chicken", GRAPH + ".egg")) {
            assertEquals("error", status(plugin), this::listing);
            assertErrorMentions(plugin, "cycle", GRAPH + ".chicken", GRAPH + ".egg");
        }
    }

    @Test
    void jarForAFutureSpiIsRefusedNamingBothVersions() {
        // A jar refused before its plugins are read is listed as one entry of the jar type, by its Plugin-Id.
        String jar = "io.berth.jar.v1.berth-sample-future-api";
        assertEquals("error", status(jar), this::listing);
        assertErrorMentions(jar, ">=2.0.0", PluginApi.version());
        assertTrue(rows.stream().noneMatch(row -> row.type().equals("io.berth.sample.future.v1")), this::listing);
    }

    @Test
    void requiredPluginThatFailsStopsTheDaemonNamingPluginAndCause() {
        try (Berthd strict = new Berthd()) {
            strict.install(Samples.FAILING.jar());
            strict.writeConfig(strict.baseConfig() + "required-plugins = [\"" + SAMPLE + ".failing\"]\n");

            int exit = strict.launch().awaitExit(Berthd.START_TIMEOUT);

            assertNotEquals(0, exit, strict::logs);
            String stderr = strict.stderr();
            assertTrue(stderr.lines().anyMatch(line -> line.contains(SAMPLE + ".failing")), strict::logs);
            assertTrue(stderr.contains(Samples.FAILURE), strict::logs);
        }
    }

    private String status(String uri) {
        return rows.stream().filter(row -> row.uri().equals(uri)).findFirst()
                .orElseThrow(() -> new AssertionError(uri + " is not listed:\n" + listing()))
                .status();
    }

    private Ctr.Detail detail(String uri) {
        return details.stream().filter(detail -> detail.uri().equals(uri)).findFirst()
                .orElseThrow(() -> new AssertionError(uri + " is not listed:\n" + listing()));
    }

    /** Fails unless the plugin's error mentions every one of {@code texts}. */
    private void assertErrorMentions(String uri, String... texts) {
        String error = detail(uri).error();
        for (String text : texts) {
            assertTrue(error.contains(text), () -> uri + "'s error does not mention '" + text + "': " + error);
        }
    }

    private String listing() {
        return "--- ctr plugins ls -d ---\n" + detailsText;
    }
}
