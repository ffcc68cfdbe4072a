package dev.berth.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigDocsTest {
    enum Mode { FAST, SLOW }

    record Grpc(String address, Optional<Duration> keepalive) {}

    record DaemonConfig(Path root, Path state, Grpc grpc, Config plugins) {}

    record Blob(int workers, Duration timeout, Mode mode, List<String> tags, Map<String, Integer> quotas) {}

    private static final Config REFERENCE = ConfigFactory.parseString("""
            # Directory for persistent data.
            root = /var/lib/berth
            # Directory for runtime state,
            # below the root by default.
            state = ${root}/state
            grpc {
              # Socket the gRPC API listens on.
              address = "/run/berth/berth.sock"
            }
            plugins {}
            plugins."io.x.v1.blob" {
              # How many workers run.
              workers = 4
              # How long a request may take.
              timeout = 10s
              # Scheduling "mode".
              mode = slow
              tags = []
              quotas { a = 1 }
            }
            """, ConfigParseOptions.defaults().setOriginDescription("reference.conf"));

    @TempDir
    Path dir;

    @Test
    void defaultsCarryTheirCommentsInSortedOrder() {
        assertEquals("""
                grpc {
                  # Socket the gRPC API listens on.
                  address = "/run/berth/berth.sock"
                }
                plugins {
                  "io.x.v1.blob" {
                    # Scheduling "mode".
                    mode = "slow"
                    quotas {
                      a = 1
                    }
                    tags = []
                    # How long a request may take.
                    timeout = "10s"
                    # How many workers run.
                    workers = 4
                  }
                }
                # Directory for persistent data.
                root = "/var/lib/berth"
                # Directory for runtime state,
                # below the root by default.
                state = ${root}"/state"
                """, ConfigDocs.renderDefaults(REFERENCE));
    }

    @Test
    void renderedDefaultsParseBackToTheSameValues() {
        Config reparsed = ConfigFactory.parseString(ConfigDocs.renderDefaults(REFERENCE)).resolve();
        assertEquals(REFERENCE.resolve().root().unwrapped(), reparsed.root().unwrapped());
    }

    @Test
    void effectiveShowsWhereEveryValueCameFrom() throws IOException {
        Path file = Files.writeString(dir.resolve("berth.conf"), """
                root = /srv/berth

                plugins."io.x.v1.blob".workers = 8
                """);
        Config user = ConfigSources.user(Optional.of(file), Map.of("grpc.address", "/run/b.sock"));

        String rendered = ConfigDocs.renderEffective(ConfigSources.effective(user, REFERENCE));

        assertTrue(rendered.contains("  # override grpc.address\n  address = \"/run/b.sock\"\n"), rendered);
        assertTrue(rendered.contains("# " + file + ":1\nroot = \"/srv/berth\"\n"), rendered);
        assertTrue(rendered.contains("    # " + file + ":3\n    workers = 8\n"), rendered);
        assertTrue(rendered.contains("    # reference.conf:15\n    timeout = \"10s\"\n"), rendered);
        // A value built by substitution names both places it was built from.
        assertTrue(rendered.contains("# merge of " + file + ": 1,reference.conf: 5\nstate = \"/srv/berth/state\"\n"),
                rendered);
    }

    @Test
    void schemaIsJsonWithClosedObjectsDescriptionsAndDefaults() {
        String json = ConfigDocs.jsonSchema(DaemonConfig.class, Map.of("plugins.\"io.x.v1.blob\"", Blob.class),
                REFERENCE);

        Config schema = ConfigFactory.parseString(json, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));

        assertEquals("https://json-schema.org/draft/2020-12/schema", schema.getString("\"$schema\""));
        assertEquals("object", schema.getString("type"));
        assertEquals(Set.of("root", "state", "grpc", "plugins"), schema.getObject("properties").keySet());
        assertEquals("Directory for persistent data.", schema.getString("properties.root.description"));
        assertEquals("/var/lib/berth", schema.getString("properties.root.default"));
        assertEquals("Directory for runtime state, below the root by default.",
                schema.getString("properties.state.description"));
        assertEquals("/var/lib/berth/state", schema.getString("properties.state.default"));
        List<? extends ConfigObject> keepalive = schema.getObjectList("properties.grpc.properties.keepalive.anyOf");
        assertEquals(List.of("integer", "string"), keepalive.get(0).toConfig().getStringList("type"));
        assertEquals("null", keepalive.get(1).toConfig().getString("type"));
        assertEquals("Socket the gRPC API listens on.",
                schema.getString("properties.grpc.properties.address.description"));

        String blob = "properties.plugins.properties.\"io.x.v1.blob\".";
        assertFalse(schema.getBoolean("properties.plugins.additionalProperties"));
        assertEquals("integer", schema.getString(blob + "properties.workers.type"));
        assertEquals("How many workers run.", schema.getString(blob + "properties.workers.description"));
        assertEquals(4, schema.getInt(blob + "properties.workers.default"));
        assertEquals(List.of("integer", "string"), schema.getStringList(blob + "properties.timeout.type"));
        assertTrue("10s".matches(schema.getString(blob + "properties.timeout.pattern")));
        assertTrue("64 MiB".matches(schema.getString(blob + "properties.timeout.pattern")));
        assertEquals("10s", schema.getString(blob + "properties.timeout.default"));
        assertEquals(List.of("fast", "slow"), schema.getStringList(blob + "properties.mode.enum"));
        assertEquals("Scheduling \"mode\".", schema.getString(blob + "properties.mode.description"));
        assertEquals("string", schema.getString(blob + "properties.tags.items.type"));
        assertEquals("integer", schema.getString(blob + "properties.quotas.additionalProperties.type"));
        assertEquals(Map.of("a", 1), schema.getObject(blob + "properties.quotas.default").unwrapped());
        assertEveryRecordIsClosed(schema.root(), "");
    }

    @Test
    void schemaWithoutSectionsLeavesARawConfigOpen() {
        Config schema = ConfigFactory.parseString(ConfigDocs.jsonSchema(DaemonConfig.class, Map.of(), REFERENCE),
                ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
        assertEquals("object", schema.getString("properties.plugins.type"));
        assertFalse(schema.hasPath("properties.plugins.additionalProperties"));
        assertFalse(schema.getBoolean("properties.grpc.additionalProperties"));
    }

    /** Every object schema that lists properties must forbid others, at any depth. */
    private static void assertEveryRecordIsClosed(ConfigObject node, String where) {
        if (node.containsKey("properties")) {
            ConfigValue additional = node.get("additionalProperties");
            assertTrue(additional != null && Boolean.FALSE.equals(additional.unwrapped()), where + " is open");
        }
        node.forEach((key, value) -> {
            if (value instanceof ConfigObject child) {
                assertEveryRecordIsClosed(child, where + "/" + key);
            }
        });
    }
}
