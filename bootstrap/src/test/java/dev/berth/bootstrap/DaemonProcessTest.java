package dev.berth.bootstrap;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import dev.berth.api.services.version.v1.VersionGrpc;
import dev.berth.api.services.version.v1.VersionResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** berthd as a real process on temporary directories, spoken to over its real socket. */
class DaemonProcessTest {
    private static final Duration STARTUP = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void killLeftovers() throws InterruptedException {
        for (Process process : processes) {
            process.destroyForcibly().waitFor();
        }
    }

    private Process berthd(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                Berthd.class.getName(),
                "--root", dir.resolve("root").toString(),
                "--state", dir.resolve("state").toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("berthd-" + processes.size() + ".log").toFile())
                .start();
        processes.add(process);
        return process;
    }

    private String log(int index) throws IOException {
        return Files.readString(dir.resolve("berthd-" + index + ".log"), UTF_8);
    }

    private Path socket() {
        return dir.resolve("state/berth.sock");
    }

    private void awaitReady(Process process) throws Exception {
        Instant deadline = Instant.now().plus(STARTUP);
        while (!log(processes.indexOf(process)).contains(" ready on " + socket())) {
            assertTrue(process.isAlive(), () -> "berthd exited: " + safeLog(process));
            assertTrue(Instant.now().isBefore(deadline), "berthd not ready in time");
            Thread.sleep(20);
        }
    }

    private String safeLog(Process process) {
        try {
            return log(processes.indexOf(process));
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void servesOnItsSocketAndStopsCleanlyOnSigterm() throws Exception {
        Process daemon = berthd();
        awaitReady(daemon);
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket())));
        assertTrue(Files.isDirectory(dir.resolve("root")));
        Path ttrpc = dir.resolve("state/berth.sock.ttrpc");
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(ttrpc)),
                "the ttrpc events endpoint is served");

        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket().toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loop).usePlaintext().build();
        try {
            VersionResponse version = VersionGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .version(Empty.getDefaultInstance());
            BuildInfo build = BuildInfo.load();
            assertEquals(build.version(), version.getVersion());
            assertEquals(build.revision(), version.getRevision());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }

        daemon.destroy(); // SIGTERM
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "berthd did not stop on SIGTERM");
        assertEquals(0, daemon.exitValue(), log(0));
        assertFalse(Files.exists(socket()), "socket removed at exit");
        assertFalse(Files.exists(ttrpc), "ttrpc socket removed at exit");
        assertTrue(log(0).contains("stopped"), log(0));
    }

    @Test
    void warmsItsTransportWithTheRealServicesAnsweringEveryCall() throws Exception {
        Path config = dir.resolve("berthd.conf");
        Files.writeString(config, """
                grpc.warm-up-connections = 30
                log-level = debug
                """);
        Process daemon = berthd("--config", config.toString());
        awaitReady(daemon);
        Instant deadline = Instant.now().plus(STARTUP);
        while (!log(0).contains("transport warm-up: 30 connections in ")) {
            assertFalse(log(0).contains("transport warm-up stopped"), log(0));
            assertTrue(daemon.isAlive(), () -> "berthd exited: " + safeLog(daemon));
            assertTrue(Instant.now().isBefore(deadline), "no end of the warm-up in the log: " + safeLog(daemon));
            Thread.sleep(20);
        }
        daemon.destroy();
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "berthd did not stop on SIGTERM");
        assertEquals(0, daemon.exitValue(), log(0));
    }

    @Test
    void refusesToStartWhileAnotherDaemonServesTheSocket() throws Exception {
        Process first = berthd();
        awaitReady(first);
        Process second = berthd();
        assertTrue(second.waitFor(60, TimeUnit.SECONDS), "second berthd did not give up");
        assertEquals(1, second.exitValue());
        assertTrue(log(1).contains("another process is serving " + socket()), log(1));
        assertTrue(first.isAlive());
        assertTrue(Files.exists(socket()), "the first daemon's socket is left alone");
    }

    @Test
    void replacesAStaleSocketLeftByAKilledDaemon() throws Exception {
        Process killed = berthd();
        awaitReady(killed);
        killed.destroyForcibly().waitFor(); // SIGKILL: no chance to remove the socket
        assertTrue(Files.exists(socket()));

        Process next = berthd();
        awaitReady(next);
        next.destroy();
        assertTrue(next.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, next.exitValue(), log(1));
    }
}
