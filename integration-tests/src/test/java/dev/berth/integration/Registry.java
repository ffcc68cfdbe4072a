package dev.berth.integration;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real image registry, Debian's {@code docker-registry} (the distribution project's registry),
 * serving plain HTTP on a free loopback port with its storage under a directory of its own.
 */
final class Registry implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/bin/docker-registry");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final int ATTEMPTS = 3;

    private final Path dir;
    private final int port;
    private final Process process;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Registry(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /**
     * Stops the calling test unless the registry is installed. In CI, which installs it, its
     * absence is a failure rather than a reason to skip.
     */
    static void requireInstalled() {
        if (Files.isExecutable(BINARY)) {
            return;
        }
        String message = BINARY + " is missing (Debian package docker-registry)";
        if (System.getenv("CI") != null) {
            fail(message);
        }
        Assumptions.abort(message);
    }

    /** Starts a registry on {@code dir} and returns once it answers {@code GET /v2/}. */
    static Registry start(Path dir) throws IOException {
        Files.createDirectories(dir);
        AssertionError last = null;
        // the port is free when chosen but another process may take it before the registry binds it
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int port = freePort();
            Path config = dir.resolve("config.yml");
            Files.writeString(config, """
                    version: 0.1
                    log:
                      level: info
                    storage:
                      filesystem:
                        rootdirectory: %s
                      delete:
                        enabled: true
                    http:
                      addr: 127.0.0.1:%d
                    """.formatted(dir.resolve("data"), port));
            Process process = new ProcessBuilder(BINARY.toString(), "serve", config.toString())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("registry.log").toFile())
                    .start();
            Registry registry = new Registry(dir, port, process);
            try {
                registry.awaitReady();
                return registry;
            } catch (AssertionError e) {
                registry.close();
                last = e;
            }
        }
        throw last;
    }

    /** {@code 127.0.0.1:<port>}, the host part of references into this registry. */
    String host() {
        return "127.0.0.1:" + port;
    }

    /**
     * The digest the registry serves for an OCI manifest {@code repository:tag}, as its
     * {@code Docker-Content-Digest} header says; empty if it has no such manifest.
     */
    Optional<String> manifestDigest(String repository, String tag) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + host() + "/v2/" + repository + "/manifests/" + tag))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Accept", "application/vnd.oci.image.manifest.v1+json")
                .timeout(Duration.ofSeconds(10))
                .build();
        HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        if (response.statusCode() != 200) {
            throw new AssertionError("HEAD " + request.uri() + " answered " + response.statusCode() + "\n" + log());
        }
        return response.headers().firstValue("Docker-Content-Digest");
    }

    /** What the registry logged, for failure messages. */
    String log() {
        try {
            Path log = dir.resolve("registry.log");
            return "--- registry log (" + dir + ") ---\n" + (Files.exists(log) ? Files.readString(log) : "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops the registry; its directory stays for the caller's temp dir to remove. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitReady() {
        HttpRequest ping = HttpRequest.newBuilder(URI.create("http://" + host() + "/v2/")).timeout(Duration.ofSeconds(2)).build();
        Poll.until(START_TIMEOUT,
                () -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("the registry exited " + process.exitValue() + " before serving\n" + log());
                    }
                    try {
                        return http.send(ping, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                    } catch (IOException e) {
                        return false;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new AssertionError("interrupted", e);
                    }
                },
                () -> "the registry does not answer GET /v2/ on " + host() + "\n" + log());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
