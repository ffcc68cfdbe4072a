package dev.berth.plugins.runtime.v2;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import dev.berth.api.runtime.task.v2.DeleteResponse;
import dev.berth.plugin.DeadlineExceededException;
import dev.berth.plugin.FailedPreconditionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a shim binary's commands for one bundle as containerd's {@code shim.Command}: the bundle is the working
 * directory, {@code -namespace}, {@code -address} (the daemon's gRPC socket) and {@code -publish-binary} come first,
 * {@code TTRPC_ADDRESS} names the daemon's ttrpc socket and {@code GOMAXPROCS=2} keeps the shim small.
 */
record ShimBinary(Path path, Bundle bundle, String address, String ttrpcAddress, String publishBinary, boolean schedCore) {

    ShimBinary {
        requireNonNull(path, "path is null");
        requireNonNull(bundle, "bundle is null");
        requireNonNull(address, "address is null");
        requireNonNull(ttrpcAddress, "ttrpcAddress is null");
        requireNonNull(publishBinary, "publishBinary is null");
    }

    /**
     * Runs {@code start}, which launches the shim in the background (its own process group, a child of no one
     * once the command exits, so the daemon's death does not touch it) and prints the address of its socket.
     *
     * @param options the task's options, given to the shim on stdin
     * @param debug   whether the shim logs at debug level
     * @return the address the shim listens on
     */
    String start(Optional<Any> options, boolean debug) throws IOException {
        List<String> args = new ArrayList<>(List.of("-id", bundle.id()));
        if (debug) {
            args.add("-debug");
        }
        args.add("start");
        Process start = command(args).redirectErrorStream(true).start();
        try (OutputStream stdin = start.getOutputStream()) {
            if (options.isPresent()) {
                stdin.write(options.get().toByteArray());
            }
        }
        String out = new String(start.getInputStream().readAllBytes(), UTF_8).strip();
        int status = waitFor(start, null);
        if (status != 0) {
            throw new FailedPreconditionException("start shim " + path + " for " + bundle.namespace() + "/"
                    + bundle.id() + ": exit status " + status + ": " + out);
        }
        return out;
    }

    /**
     * Runs {@code delete}, the cleanup after a shim that is gone: it kills and deletes the container through the
     * OCI runtime and unmounts the rootfs, and prints the exit of the task's init process.
     */
    DeleteResponse delete(Duration timeout) throws IOException {
        Process delete = command(List.of("-id", bundle.id(), "-bundle", bundle.path().toString(), "delete"))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        CompletableFuture<byte[]> errors = readAll(delete.getErrorStream());
        CompletableFuture<byte[]> out = readAll(delete.getInputStream());
        int status = waitFor(delete, timeout);
        String warnings = new String(errors.join(), UTF_8).strip();
        if (status != 0) {
            throw new FailedPreconditionException("delete with shim " + path + " for " + bundle.namespace() + "/"
                    + bundle.id() + ": exit status " + status + ": " + warnings);
        }
        return DeleteResponse.parseFrom(out.join());
    }

    private ProcessBuilder command(List<String> args) {
        List<String> command = new ArrayList<>(List.of(path.toString(),
                "-namespace", bundle.namespace(),
                "-address", address,
                "-publish-binary", publishBinary));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).directory(bundle.path().toFile());
        builder.environment().put("GOMAXPROCS", "2");
        builder.environment().put("TTRPC_ADDRESS", ttrpcAddress);
        if (schedCore) {
            builder.environment().put("SCHED_CORE", "1");
        }
        return builder;
    }

    private static CompletableFuture<byte[]> readAll(InputStream stream) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (stream) {
                result.complete(stream.readAllBytes());
            } catch (IOException e) {
                result.completeExceptionally(new UncheckedIOException(e));
            }
        });
        return result;
    }

    private int waitFor(Process process, Duration timeout) throws IOException {
        try {
            if (timeout == null) {
                return process.waitFor();
            }
            if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                process.destroyForcibly();
                throw new DeadlineExceededException(path + " for " + bundle.namespace() + "/" + bundle.id()
                        + ": no answer within " + timeout);
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for " + path, e);
        }
    }
}
