package dev.berth.bootstrap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The training run behind the AOT cache ({@code --aot-training}, used by the build): starts the daemon on
 * a temporary root and state, makes the calls of everyday {@code ctr} commands over the real socket, and
 * stops. The JVM records the classes this loads and links, and the methods it profiles, so the daemon's
 * start, its first answers and its compilation of the busiest paths need not wait for that work.
 */
final class AotTraining {
    /** Rounds of {@link TrainingWorkload}, each on a connection of its own. */
    private static final int ROUNDS = 100;

    private AotTraining() {}

    static int run(BuildInfo build, Host host) throws Daemon.StartupException {
        return run(build, host, ROUNDS);
    }

    /** The training with a number of rounds of its own (tests run few); fails when a call of the client fails. */
    static int run(BuildInfo build, Host host, int rounds) throws Daemon.StartupException {
        Path dir = temporaryDirectory();
        try {
            Settings settings = Settings.load(Optional.empty(),
                    // no warm-up: the cache is to hold the profiles of the training's calls alone
                    Map.of("root", dir.resolve("root").toString(), "state", dir.resolve("state").toString(),
                            "grpc.warm-up-connections", "0"),
                    host, AotTraining.class.getClassLoader());
            Logging.level(settings.daemon().logLevel());
            try (Daemon daemon = Daemon.start(settings, build)) {
                train(daemon.server(), rounds);
                awaitCompilations();
            }
            return Berthd.OK;
        } finally {
            delete(dir);
        }
    }

    /**
     * Runs {@link TrainingWorkload} in a JVM of its own, on this one's class path, so that the profiles this
     * JVM records are of the daemon alone: in one JVM, the client's calls would share gRPC's and protobuf's
     * methods and their profiles with the server's.
     */
    private static void train(GrpcServer server, int rounds) throws Daemon.StartupException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder client = new ProcessBuilder(java,
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"),
                TrainingWorkload.class.getName(), server.socket().toString(), Integer.toString(rounds))
                .inheritIO();
        // options a user gives the JVMs through the environment are for the daemon, not for its client
        client.environment().remove("JAVA_TOOL_OPTIONS");
        try {
            Process process = client.start();
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new Daemon.StartupException(List.of("AOT training: the client did not finish in 10 minutes"));
            }
            if (process.exitValue() != 0) {
                throw new Daemon.StartupException(List.of("AOT training: the client failed with status " + process.exitValue()));
            }
        } catch (IOException e) {
            throw new Daemon.StartupException(List.of("AOT training: cannot start the client: " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Daemon.StartupException(List.of("AOT training: interrupted"));
        }
    }

    /**
     * Waits (at most a minute) until the JIT has compiled what the training queued: the cache records the
     * level each method was compiled at, and a compilation still queued at exit never happens.
     */
    private static void awaitCompilations() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        long last = -1;
        int quiet = 0;
        while (quiet < 2 && System.nanoTime() < deadline) {
            long total = jit.getTotalCompilationTime();
            quiet = total == last ? quiet + 1 : 0;
            last = total;
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static Path temporaryDirectory() {
        try {
            return Files.createTempDirectory("berthd-aot");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
