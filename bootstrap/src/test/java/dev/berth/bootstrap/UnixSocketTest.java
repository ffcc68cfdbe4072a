package dev.berth.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketTest {
    @TempDir
    Path dir;

    @Test
    void createsTheParentDirectory() throws Exception {
        Path socket = dir.resolve("a/b/berth.sock");
        UnixSocket.claim(socket);
        assertTrue(Files.isDirectory(socket.getParent()));
        assertFalse(Files.exists(socket));
    }

    @Test
    void removesAStaleSocket() throws Exception {
        Path socket = dir.resolve("berth.sock");
        // closing a listening channel leaves its file behind, as a daemon that was killed does
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket));
        UnixSocket.claim(socket);
        assertFalse(Files.exists(socket));
    }

    @Test
    void refusesASocketSomethingAnswersOn() throws Exception {
        Path socket = dir.resolve("berth.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            UnixSocket.InUseException e = assertThrows(UnixSocket.InUseException.class, () -> UnixSocket.claim(socket));
            assertTrue(e.getMessage().contains("another process is serving " + socket), e.getMessage());
            assertTrue(Files.exists(socket));
        }
    }

    @Test
    void refusesToReplaceAFileThatIsNotASocket() throws Exception {
        Path file = dir.resolve("berth.sock");
        Files.writeString(file, "data");
        IOException e = assertThrows(IOException.class, () -> UnixSocket.claim(file));
        assertEquals(file + " exists and is not a socket; refusing to replace it", e.getMessage());
        assertEquals("data", Files.readString(file));
    }

    @Test
    void restrictGivesMode0660() throws Exception {
        Path socket = dir.resolve("berth.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            UnixSocket.restrict(socket, -1, -1);
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        }
    }
}
