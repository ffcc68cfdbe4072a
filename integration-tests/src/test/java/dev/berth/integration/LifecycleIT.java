package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Start and stop as a service manager sees them. */
class LifecycleIT {

    @BeforeEach
    void requireCtr() {
        Ctr.requireInstalled();
    }

    @Test
    void sigtermStopsCleanlyAndRemovesTheSocket() {
        try (Berthd berthd = new Berthd().start()) {
            assertTrue(Files.exists(berthd.socket()));

            assertEquals(0, berthd.stop(), berthd::logs);
            assertFalse(Files.exists(berthd.socket()), berthd::logs);
        }
    }

    @Test
    void secondDaemonOnALiveSocketRefusesToStart() {
        try (Berthd first = new Berthd().start(); Berthd second = Berthd.onSocket(first.socket())) {
            int exit = second.launch().awaitExit(Berthd.START_TIMEOUT);

            assertNotEquals(0, exit, second::logs);
            assertTrue(second.stderr().contains(first.socket().toString()), second::logs);
            assertTrue(Files.exists(first.socket()), "the refused daemon removed the live socket");
            assertEquals(0, first.ctr().run("version").exitCode(), first::logs);
        }
    }

    @Test
    void staleSocketIsReplaced() throws IOException {
        try (Berthd berthd = new Berthd()) {
            // A socket file nobody listens on, as a killed daemon leaves behind.
            try (ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                channel.bind(UnixDomainSocketAddress.of(berthd.socket()));
            }
            assertTrue(Files.exists(berthd.socket()));

            berthd.start();

            assertEquals(0, berthd.ctr().run("version").exitCode(), berthd::logs);
        }
    }
}
