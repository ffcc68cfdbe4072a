package dev.berth.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerUuidTest {
    @TempDir
    Path dir;

    @Test
    void isCreatedOnceAndKept() throws IOException {
        Path file = dir.resolve("io.containerd.grpc.v1.introspection/uuid");
        String first = ServerUuid.loadOrCreate(file);
        assertEquals(first, UUID.fromString(first).toString());
        assertEquals(first, Files.readString(file));
        assertEquals(first, ServerUuid.loadOrCreate(file));
        try (var files = Files.list(file.getParent())) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void differsBetweenRoots() throws IOException {
        assertNotEquals(ServerUuid.loadOrCreate(dir.resolve("a/uuid")), ServerUuid.loadOrCreate(dir.resolve("b/uuid")));
    }

    @Test
    void acceptsATrailingNewline() throws IOException {
        Path file = dir.resolve("uuid");
        Files.writeString(file, "0b5c8f9e-3d1a-4c2b-9f7e-1a2b3c4d5e6f\n");
        assertEquals("0b5c8f9e-3d1a-4c2b-9f7e-1a2b3c4d5e6f", ServerUuid.loadOrCreate(file));
    }

    @Test
    void refusesSomethingElse() throws IOException {
        Path file = dir.resolve("uuid");
        Files.writeString(file, "1-2-3-4-5");
        IOException e = assertThrows(IOException.class, () -> ServerUuid.loadOrCreate(file));
        assertTrue(e.getMessage().contains("not a UUID"), e.getMessage());
    }
}
