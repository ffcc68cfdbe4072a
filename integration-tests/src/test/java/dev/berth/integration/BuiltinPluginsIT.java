package dev.berth.integration;

import static java.util.stream.Collectors.toSet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Introspection of a daemon with nothing but its built-in plugins. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuiltinPluginsIT {
    private static final String GRPC = "io.containerd.grpc.v1";

    private Berthd berthd;

    @BeforeAll
    void start() {
        Ctr.requireInstalled();
        berthd = new Berthd().start();
    }

    @AfterAll
    void stop() {
        if (berthd != null) {
            berthd.close();
        }
    }

    @Test
    void everyBuiltinIsOk() {
        List<Ctr.Row> plugins = berthd.ctr().plugins();
        Set<String> uris = plugins.stream().map(Ctr.Row::uri).collect(toSet());
        assertTrue(uris.containsAll(Set.of(GRPC + ".version", GRPC + ".introspection", GRPC + ".healthcheck")),
                () -> "missing gRPC basics in " + uris);
        for (Ctr.Row plugin : plugins) {
            assertEquals("ok", plugin.status(), () -> plugin.uri() + " is not ok:\n" + berthd.ctr().succeed("plugins", "ls", "-d"));
        }
    }

    @Test
    void typeFilterShowsOnlyThatType() {
        List<Ctr.Row> all = berthd.ctr().plugins();
        List<Ctr.Row> grpc = berthd.ctr().plugins("type==" + GRPC);
        assertFalse(grpc.isEmpty());
        assertEquals(all.stream().filter(plugin -> plugin.type().equals(GRPC)).toList(), grpc);
    }

    @Test
    void idFilterShowsOnlyThatPlugin() {
        List<Ctr.Row> version = berthd.ctr().plugins("id==version");
        assertEquals(List.of(GRPC + ".version"), version.stream().map(Ctr.Row::uri).toList());
    }

    @Test
    void detailedListingHasABlockPerPluginAndNoErrors() {
        List<Ctr.Detail> details = berthd.ctr().pluginDetails();
        assertEquals(berthd.ctr().plugins().stream().map(Ctr.Row::uri).toList(),
                details.stream().map(Ctr.Detail::uri).toList());
        for (Ctr.Detail plugin : details) {
            assertTrue(plugin.errorMessage().isEmpty(), () -> plugin.uri() + " has an error: " + plugin.errorMessage());
        }
    }
}
