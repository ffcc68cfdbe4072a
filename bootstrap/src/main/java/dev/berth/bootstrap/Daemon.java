package dev.berth.bootstrap;

import static java.util.Objects.requireNonNull;

import dev.berth.api.GrpcServices;
import dev.berth.bootstrap.h2.TransportWarmUp;
import dev.berth.config.ConfigProblem;
import dev.berth.config.ConfigValidationException;
import dev.berth.kernel.Kernel;
import dev.berth.kernel.KernelOptions;
import dev.berth.kernel.RequiredPluginException;
import dev.berth.plugin.DaemonInfo;
import dev.berth.plugin.events.EventTypes;
import dev.berth.plugin.events.Exchange;
import dev.berth.ttrpc.TtrpcServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running daemon: the kernel with its plugins, the gRPC server in front of them, and the ttrpc endpoint shims
 * forward their events to.
 *
 * <p>Wired by hand rather than with Guice: there are three objects, and creating an injector costs about
 * 0.35 s of a cold start whose whole budget is 0.27 s.
 */
final class Daemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);
    private static final Duration GRACE = Duration.ofSeconds(10);

    private final Kernel kernel;
    private final GrpcServer server;
    private final Optional<TtrpcServer> shimEvents;
    private final TransportWarmUp warmUp;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Daemon(Kernel kernel, GrpcServer server, Optional<TtrpcServer> shimEvents, TransportWarmUp warmUp) {
        this.kernel = requireNonNull(kernel, "kernel is null");
        this.server = requireNonNull(server, "server is null");
        this.shimEvents = requireNonNull(shimEvents, "shimEvents is null");
        this.warmUp = requireNonNull(warmUp, "warmUp is null");
    }

    /** Why the daemon did not start; each line is for the user as is. */
    static final class StartupException extends Exception {
        private final List<String> lines;

        StartupException(List<String> lines) {
            super(String.join("\n", lines));
            this.lines = List.copyOf(lines);
        }

        List<String> lines() {
            return lines;
        }
    }

    /** The facts every plugin is told about the daemon. */
    static DaemonInfo info(BuildInfo build, DaemonConfig config) {
        return new DaemonInfo(build.version(), build.revision(), config.root(), config.state(),
                config.grpc().address(), config.ttrpc().address());
    }

    /** The kernel for {@code settings}, prepared (plugins discovered and configured) but not started. */
    static Kernel prepare(Settings settings, BuildInfo build, ClassLoader builtins) {
        DaemonConfig config = settings.daemon();
        return Kernel.prepare(new KernelOptions(info(build, config), settings.user(), config.pluginDirs(),
                new LinkedHashSet<>(config.disabledPlugins()), new LinkedHashSet<>(config.requiredPlugins()), builtins));
    }

    /**
     * Starts the kernel's plugins, then serves their gRPC services on the configured socket, then watches
     * the plugin directories. On failure nothing is left running.
     *
     * @throws ConfigValidationException if a plugin's section of the config is invalid
     * @throws StartupException          if a required plugin did not start or the socket cannot be served
     */
    static Daemon start(Settings settings, BuildInfo build) throws StartupException {
        DaemonConfig config = settings.daemon();
        long started = System.nanoTime();
        Kernel kernel = prepare(settings, build, Daemon.class.getClassLoader());
        Optional<TtrpcServer> shimEvents = Optional.empty();
        try {
            List<ConfigProblem> problems = kernel.configProblems();
            if (!problems.isEmpty()) {
                throw new ConfigValidationException(problems);
            }
            long prepared = System.nanoTime();
            createDirectory(config.root());
            createDirectory(config.state());
            // Before any plugin starts: a second daemon on the same root would corrupt the first one's data.
            UnixSocket.claim(Path.of(config.grpc().address()));
            kernel.start();
            long initialised = System.nanoTime();
            shimEvents = serveShimEvents(config, kernel);
            GrpcServer server = GrpcServer.start(config.grpc(), kernel.instances(GrpcServices.TYPE).values());
            kernel.addListener(server);
            kernel.watchPluginDirs();
            long serving = System.nanoTime();
            log.debug("startup: plugins discovered in {} ms, initialised in {} ms, serving after {} ms",
                    millis(started, prepared), millis(prepared, initialised), millis(initialised, serving));
            log.info("berthd {} ready on {}", build.version(), server.socket());
            return new Daemon(kernel, server, shimEvents,
                    TransportWarmUp.start(server.socket(), config.grpc().warmUpConnections()));
        } catch (RequiredPluginException e) {
            abandon(kernel, shimEvents);
            throw new StartupException(e.failures());
        } catch (IOException e) {
            abandon(kernel, shimEvents);
            throw new StartupException(List.of(e.getMessage() != null ? e.getMessage() : e.toString()));
        } catch (RuntimeException e) {
            abandon(kernel, shimEvents);
            throw e;
        }
    }

    private static void abandon(Kernel kernel, Optional<TtrpcServer> shimEvents) {
        shimEvents.ifPresent(TtrpcServer::close);
        kernel.close();
    }

    /** The ttrpc events endpoint on {@code ttrpc.address}, when an event exchange runs to take the events. */
    private static Optional<TtrpcServer> serveShimEvents(DaemonConfig config, Kernel kernel) throws IOException {
        Optional<Exchange> exchange = kernel.instances(EventTypes.EXCHANGE).values().stream().findFirst();
        if (exchange.isEmpty()) {
            log.warn("no event exchange runs: not serving shim events on {}", config.ttrpc().address());
            return Optional.empty();
        }
        return Optional.of(ShimEvents.serve(Path.of(config.ttrpc().address()), exchange.get()));
    }

    private static long millis(long from, long to) {
        return (to - from) / 1_000_000;
    }

    /** Root and state hold other users' nothing: 0711 as containerd's, created with parents as needed. */
    private static void createDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        }
    }

    GrpcServer server() {
        return server;
    }

    Kernel kernel() {
        return kernel;
    }

    /** Stops serving (running calls get a grace period), closes the plugins in reverse order, removes the socket. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        log.info("shutting down");
        warmUp.close();
        server.stop(GRACE);
        shimEvents.ifPresent(TtrpcServer::close);
        kernel.close();
        log.info("stopped");
    }
}
