package dev.berth.plugins.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.metadata.NamespaceStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespacesTest {
    @TempDir
    Path dir;
    Fixture fixture;
    NamespaceStore namespaces;

    @BeforeEach
    void open() throws Exception {
        fixture = new Fixture(dir);
        namespaces = fixture.store.namespaces();
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void createListLabelDelete() {
        namespaces.create("default", Map.of("a", "1"));
        namespaces.create("k8s.io", Map.of());
        assertEquals(List.of("default", "k8s.io"), namespaces.list());
        assertEquals(Map.of("a", "1"), namespaces.labels("default"));

        namespaces.setLabel("default", "b", "2");
        namespaces.setLabel("default", "a", "");
        assertEquals(Map.of("b", "2"), namespaces.labels("default"));

        namespaces.delete("k8s.io");
        assertEquals(List.of("default"), namespaces.list());
        assertThrows(NotFoundException.class, () -> namespaces.delete("k8s.io"));
        assertEquals(Map.of(), namespaces.labels("k8s.io"), "a missing namespace has no labels, as in containerd");
    }

    @Test
    void duplicateIsRefused() {
        namespaces.create("a", Map.of());
        var e = assertThrows(AlreadyExistsException.class, () -> namespaces.create("a", Map.of()));
        assertEquals("namespace \"a\": already exists", e.getMessage());
    }

    @Test
    void invalidNamesAndLabelsAreRefused() {
        for (String name : List.of("", "-a", "a-", "a..b", "a/b", "a b", "x".repeat(77))) {
            assertThrows(InvalidArgumentException.class, () -> namespaces.create(name, Map.of()), name);
        }
        namespaces.create("a.b-c_d9", Map.of());
        namespaces.create("x".repeat(76), Map.of());
        assertThrows(InvalidArgumentException.class, () -> namespaces.create("big", Map.of("k", "v".repeat(4096))));
        namespaces.create("fits", Map.of("k", "v".repeat(4095)));
        assertThrows(InvalidArgumentException.class, () -> namespaces.setLabel("fits", "k", "v".repeat(4096)));
    }

    @Test
    void nonEmptyNamespaceIsRefused() {
        namespaces.create("busy", Map.of());
        Fixture.commit(fixture.content("busy"), "blob", Map.of());
        fixture.store.leases().create("busy", "l1", Map.of());
        var e = assertThrows(FailedPreconditionException.class, () -> namespaces.delete("busy"));
        assertEquals("namespace \"busy\" must be empty, but it still has blobs, leases: failed precondition",
                e.getMessage());
        assertTrue(namespaces.list().contains("busy"));
    }

    @Test
    void writingInANamespaceCreatesIt() {
        fixture.store.leases().create("implicit", "l", Map.of());
        assertEquals(List.of("implicit"), namespaces.list());
    }
}
