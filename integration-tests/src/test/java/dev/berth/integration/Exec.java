package dev.berth.integration;

import static java.util.Objects.requireNonNull;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion, with a deadline, capturing its output. */
final class Exec {

    /**
     * What a finished command left behind.
     *
     * @param command  the command line, for messages
     * @param exitCode its exit status
     * @param stdout   its standard output
     * @param stderr   its standard error
     */
    record Result(List<String> command, int exitCode, String stdout, String stderr) {
        Result {
            command = List.copyOf(command);
            requireNonNull(stdout, "stdout is null");
            requireNonNull(stderr, "stderr is null");
        }

        /** Everything the command printed, for assertions that do not care which stream. */
        String output() {
            return stdout + stderr;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " exited " + exitCode
                    + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr;
        }
    }

    private Exec() {}

    /** Runs {@code command} with {@code environment} added to ours; kills it and fails after {@code timeout}. */
    static Result run(List<String> command, Map<String, String> environment, Duration timeout) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().putAll(environment);
        try {
            Process process = builder.start();
            // Drained concurrently so that a chatty command cannot block on a full pipe.
            CompletableFuture<String> stdout = drain(process.getInputStream());
            CompletableFuture<String> stderr = drain(process.getErrorStream());
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                        + "\n--- stdout ---\n" + stdout.join() + "--- stderr ---\n" + stderr.join());
            }
            return new Result(command, process.exitValue(), stdout.join(), stderr.join());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + command, e);
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, Thread::startVirtualThread);
    }
}
