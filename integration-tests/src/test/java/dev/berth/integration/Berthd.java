package dev.berth.integration;

import static java.util.Objects.requireNonNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One berthd process, started from the assembled distribution through the repository's launcher,
 * on a root, state, socket and plugin dir of its own under {@code /tmp/berth-it-*}: unix socket
 * paths are limited to 108 bytes, which rules out deep build directories.
 */
final class Berthd implements AutoCloseable {
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private final Path dir;
    private final Path socket;
    private final Path plugins;
    private final Path config;
    private final Path stdout;
    private final Path stderr;
    private Process process;

    /** A daemon on a fresh directory, listening on {@code <dir>/berthd.sock}. */
    Berthd() {
        this(Optional.empty());
    }

    /** A daemon on a fresh directory that is to listen on {@code socket}, e.g. another daemon's. */
    static Berthd onSocket(Path socket) {
        return new Berthd(Optional.of(socket));
    }

    private Berthd(Optional<Path> socket) {
        try {
            this.dir = Files.createTempDirectory(Path.of("/tmp"), "berth-it-");
            this.plugins = Files.createDirectory(dir.resolve("plugins"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.socket = socket.orElse(dir.resolve("berthd.sock"));
        this.config = dir.resolve("berthd.conf");
        this.stdout = dir.resolve("stdout.log");
        this.stderr = dir.resolve("stderr.log");
        writeConfig(baseConfig());
    }

    Path dir() {
        return dir;
    }

    Path socket() {
        return socket;
    }

    /** The plugin dir named in the config, watched by the running daemon. */
    Path plugins() {
        return plugins;
    }

    Path config() {
        return config;
    }

    Ctr ctr() {
        return new Ctr(socket);
    }

    /**
     * The config every daemon here needs: its own plugin dir and ttrpc socket, so that daemons of
     * different tests share nothing. Tests that need more append to it.
     */
    String baseConfig() {
        return "plugin-dirs = [" + quote(plugins) + "]\n"
                + "ttrpc { address = " + quote(Path.of(socket + ".ttrpc")) + " }\n";
    }

    /**
     * Collection settings under which a collection runs only when a test asks for one, by removing
     * a lease with {@code --sync}: what {@code ctr content ingest} writes and the views {@code ctr}
     * makes are held by nothing, and with containerd's settings a periodic collection follows any
     * removal within a second. Here no collection comes at start, no threshold is ever reached,
     * and the pause threshold spaces the periodic collections by 10^9 times a collection's length.
     */
    static final String GC_ON_REQUEST = """
            plugins."io.containerd.gc.v1.scheduler" {
              deletion-threshold = 1000000000
              mutation-threshold = 0
              startup-delay = 1h
              pause-threshold = 1e-9
            }
            """;

    /** Replaces the config file berthd is started with. */
    Berthd writeConfig(String text) {
        try {
            Files.writeString(config, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Copies a plugin jar into the daemon's plugin dir, keeping its file name. */
    Path install(Path jar) {
        try {
            return Files.copy(jar, plugins.resolve(jar.getFileName()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts the daemon and returns once it answers {@code ctr version}; fails if it exits first. */
    Berthd start(String... extraArgs) {
        launch(extraArgs);
        awaitReady();
        return this;
    }

    /** Starts the daemon without waiting for it. */
    Berthd launch(String... extraArgs) {
        if (process != null) {
            throw new IllegalStateException("already started");
        }
        List<String> command = new ArrayList<>(List.of(launcher().toString(),
                "--config", config.toString(),
                "--root", dir.resolve("root").toString(),
                "--state", dir.resolve("state").toString(),
                "--address", socket.toString()));
        command.addAll(List.of(extraArgs));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile());
        builder.environment().putAll(environment());
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
        return this;
    }

    private void awaitReady() {
        Ctr ctr = ctr();
        Poll.until(START_TIMEOUT,
                () -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("berthd exited " + process.exitValue() + " before serving\n" + logs());
                    }
                    return Files.exists(socket) && ctr.run("version").exitCode() == 0;
                },
                () -> "berthd does not answer ctr version on " + socket + "\n" + logs());
    }

    /** Waits for the daemon to exit by itself; returns its exit status. */
    int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("berthd still runs after " + timeout + "\n" + logs());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        return process.exitValue();
    }

    /** Sends SIGTERM and returns the exit status. */
    int stop() {
        process.destroy(); // SIGTERM on Linux
        return awaitExit(STOP_TIMEOUT);
    }

    String stdout() {
        return read(stdout);
    }

    String stderr() {
        return read(stderr);
    }

    /** Both logs, for failure messages. */
    String logs() {
        return "--- berthd stdout (" + dir + ") ---\n" + stdout() + "--- berthd stderr ---\n" + stderr();
    }

    /** Kills the daemon if it still runs and removes its directory. */
    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
    }

    /** Runs a berthd command that does not serve, e.g. {@code --version} or {@code config validate FILE}. */
    static Exec.Result run(String... args) {
        List<String> command = new ArrayList<>(List.of(launcher().toString()));
        command.addAll(List.of(args));
        return Exec.run(command, environment(), START_TIMEOUT);
    }

    /**
     * The repository's launcher. It would build a missing distribution; here a missing one is a
     * failure, because the tests must run what the reactor built, not build it themselves.
     */
    private static Path launcher() {
        Path dist = Path.of(property("berth.dist"));
        assertTrue(Files.isRegularFile(dist.resolve("lib/berth-bootstrap.jar")), () -> dist + " is not built: run mvn package on bootstrap first");
        Path launcher = Path.of(property("berth.launcher"));
        assertTrue(Files.isExecutable(launcher), () -> launcher + " is missing or not executable");
        return launcher;
    }

    /** berthd needs Java 25, which is what runs these tests. */
    private static Map<String, String> environment() {
        return Map.of("JAVA_HOME", System.getProperty("java.home"));
    }

    static String property(String name) {
        return requireNonNull(System.getProperty(name), () -> "system property " + name + " is not set (run through failsafe)");
    }

    /** A HOCON string literal. */
    static String quote(Path path) {
        return "\"" + path.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
