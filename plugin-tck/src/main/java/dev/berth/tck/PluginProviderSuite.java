package dev.berth.tck;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.plugin.Dependency;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Checks what every plugin module must get right before the kernel ever sees it: it is found as a
 * service, its registrations are unique and self-consistent, and every config record has a
 * documented default section in the module's own {@code reference.conf}.
 *
 * <p>Use: {@code class MyPluginsTest extends PluginProviderSuite { protected PluginProvider provider() { return new MyProvider(); } }}
 */
public abstract class PluginProviderSuite {

    /** The provider under test. */
    protected abstract PluginProvider provider();

    private List<Registration<?>> registrations() {
        List<Registration<?>> registrations = provider().registrations();
        assertNotNull(registrations, "registrations() returned null");
        return registrations;
    }

    @Test
    public void providerIsListedAsAService() {
        Class<?> type = provider().getClass();
        boolean listed = ServiceLoader.load(PluginProvider.class, type.getClassLoader()).stream()
                .anyMatch(candidate -> candidate.type() == type);
        assertTrue(listed, type.getName() + " is not listed in META-INF/services/" + PluginProvider.class.getName());
    }

    @Test
    public void registersPluginsWithUniqueIdentities() {
        List<Registration<?>> registrations = registrations();
        assertFalse(registrations.isEmpty(), "the provider registers no plugins");
        Set<String> seen = new HashSet<>();
        for (Registration<?> registration : registrations) {
            assertTrue(seen.add(registration.uri()), "registered twice: " + registration.uri());
        }
    }

    @Test
    public void typeUrisNameOneContract() {
        Map<String, Class<?>> contracts = new HashMap<>();
        for (Registration<?> registration : registrations()) {
            check(contracts, registration.type().uri(), registration.type().contract(), registration.uri());
            for (Dependency<?> dependency : registration.requires()) {
                check(contracts, dependency.type().uri(), dependency.type().contract(), registration.uri());
            }
        }
    }

    private static void check(Map<String, Class<?>> contracts, String type, Class<?> contract, String where) {
        Class<?> previous = contracts.putIfAbsent(type, contract);
        if (previous != null && previous != contract) {
            fail(where + ": type " + type + " is declared with contract " + contract.getName()
                    + " and elsewhere with " + previous.getName());
        }
    }

    @Test
    public void noPluginDependsOnItself() {
        for (Registration<?> registration : registrations()) {
            for (Dependency<?> dependency : registration.requires()) {
                String target = switch (dependency) {
                    case Dependency.Named<?> named -> named.type().uri() + "." + named.id();
                    case Dependency.Optional<?> optional -> optional.type().uri() + "." + optional.id();
                    default -> null;
                };
                assertFalse(registration.uri().equals(target), registration.uri() + " depends on itself");
            }
        }
    }

    @Test
    public void everyConfigRecordHasADocumentedDefaultSection() throws IOException {
        String reference = ownReferenceConf();
        for (Registration<?> registration : registrations()) {
            if (registration.configType() == Registration.NoConfig.class) {
                continue;
            }
            String section = "plugins.\"" + registration.uri() + "\"";
            String quoted = "\"" + registration.uri() + "\"";
            assertTrue(reference != null && reference.contains(quoted),
                    registration.uri() + " binds " + registration.configType().getName()
                            + " but the module's reference.conf has no section " + section);
            var components = registration.configType().getRecordComponents();
            assertNotNull(components, registration.configType() + " is not a record");
            for (var component : components) {
                String key = kebab(component.getName());
                assertTrue(reference.contains(key), section + " has no default for '" + key + "'");
            }
        }
    }

    private String ownReferenceConf() throws IOException {
        ClassLoader loader = provider().getClass().getClassLoader();
        var urls = loader.getResources("reference.conf");
        String location = provider().getClass().getProtectionDomain().getCodeSource().getLocation().toString();
        while (urls.hasMoreElements()) {
            var url = urls.nextElement();
            if (url.toString().contains(location.replaceFirst("^file:", ""))) {
                try (InputStream in = url.openStream()) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
        }
        return null;
    }

    private static String kebab(String name) {
        StringBuilder out = new StringBuilder();
        for (char c : name.toCharArray()) {
            if (Character.isUpperCase(c)) {
                out.append('-').append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    @Test
    public void configRecordsArePublicRecords() {
        for (Registration<?> registration : registrations()) {
            Class<? extends Record> type = registration.configType();
            assertTrue(java.lang.reflect.Modifier.isPublic(type.getModifiers()),
                    registration.uri() + ": config record " + type.getName() + " must be public to be bound");
        }
    }
}
