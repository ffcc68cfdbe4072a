package dev.berth.ttrpc.shim;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.Any;
import dev.berth.api.runtime.runc.options.Options;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts and cleans up a real {@code containerd-shim-runc-v2} the way containerd's shim manager does: the
 * bundle directory (named by the task id, inside a directory per namespace) is the working directory, a FIFO
 * named {@code log} in it takes the shim's log, {@code TTRPC_ADDRESS} names the daemon's ttrpc events socket,
 * and {@code start} prints the shim's socket address and exits while the shim itself stays in the background.
 */
final class ShimFixture implements AutoCloseable {

    static final Path SHIM = Path.of("/usr/bin/containerd-shim-runc-v2");
    /** The type URL the shim resolves runc options by: containerd's typeurl name, without any prefix. */
    static final String OPTIONS_TYPE_URL = "containerd.runc.v1.Options";

    final String namespace;
    final String id;
    final Path bundle;
    final Path daemonAddress;
    final Path eventsSocket;
    final Path runcRoot;
    private final Process logReader;
    private final Path logCopy;
    private final List<Long> shimPids = new ArrayList<>();
    private String address;

    /** Skips where the shim or root is missing, but fails in CI, which installs both. */
    static void requireShim() {
        boolean present = Files.isExecutable(SHIM) && "root".equals(System.getProperty("user.name"));
        if (!present && System.getenv("CI") != null) {
            fail(SHIM + " and root are required in CI");
        }
        assumeTrue(present, SHIM + " or root missing");
    }

    ShimFixture(Path dir, String namespace, String id, Path eventsSocket) throws IOException, InterruptedException {
        this.namespace = namespace;
        this.id = id;
        this.bundle = Files.createDirectories(dir.resolve(namespace).resolve(id));
        this.daemonAddress = dir.resolve("berthd.sock");
        this.eventsSocket = eventsSocket;
        this.runcRoot = Files.createDirectories(dir.resolve("runc"));
        Files.writeString(bundle.resolve("config.json"), "{}");
        run(List.of("mkfifo", bundle.resolve("log").toString()));
        // the shim blocks opening the FIFO until it has a reader; a process, unlike a blocked read in this JVM,
        // can be stopped at teardown whatever state it is in
        this.logCopy = dir.resolve(id + ".log");
        this.logReader = new ProcessBuilder("cat", bundle.resolve("log").toString())
                .redirectOutput(logCopy.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    /** The runc options every task of this fixture uses: runc's state kept under the test's directory. */
    Options.Builder options() {
        return Options.newBuilder().setRoot(runcRoot.toString());
    }

    static Any pack(Options options) {
        return Any.newBuilder().setTypeUrl(OPTIONS_TYPE_URL).setValue(options.toByteString()).build();
    }

    /** Runs {@code shim ... start}; returns the address it printed. */
    String start(Options options) throws IOException, InterruptedException {
        Process start = command(List.of("-id", id, "start")).start();
        // the shim reads its options from stdin to end of file
        try (var stdin = start.getOutputStream()) {
            stdin.write(pack(options).toByteArray());
        }
        String address = new String(start.getInputStream().readAllBytes(), UTF_8).strip();
        String errors = new String(start.getErrorStream().readAllBytes(), UTF_8);
        assertEquals(0, start.waitFor(), "shim start: " + errors);
        this.address = address;
        return address;
    }

    /** Runs {@code shim ... delete}, the cleanup of a shim that is gone; returns its stdout (a DeleteResponse). */
    byte[] delete() throws IOException, InterruptedException {
        Process delete = command(List.of("-id", id, "-bundle", bundle.toString(), "delete"))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        byte[] out = delete.getInputStream().readAllBytes();
        String errors = new String(delete.getErrorStream().readAllBytes(), UTF_8);
        assertEquals(0, delete.waitFor(), "shim delete: " + errors);
        return out;
    }

    void track(long shimPid) {
        shimPids.add(shimPid);
    }

    String log() throws IOException {
        return Files.readString(logCopy);
    }

    private ProcessBuilder command(List<String> args) {
        List<String> command = new ArrayList<>(List.of(SHIM.toString(), "-namespace", namespace,
                "-address", daemonAddress.toString(), "-publish-binary", "/bin/false"));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).directory(bundle.toFile());
        builder.environment().put("TTRPC_ADDRESS", eventsSocket.toString());
        return builder;
    }

    /** Kills what the test left behind: shims, the container (through runc), the rootfs mount. */
    @Override
    public void close() throws IOException, InterruptedException {
        for (long pid : shimPids) {
            ProcessHandle.of(pid).ifPresent(shim -> {
                shim.destroyForcibly();
                shim.onExit().orTimeout(10, TimeUnit.SECONDS).join();
            });
        }
        // the shim keeps runc's state per namespace under the root of its options
        Path runcState = runcRoot.resolve(namespace);
        if (Files.isDirectory(runcState.resolve(id))) {
            run(List.of("runc", "--root", runcState.toString(), "delete", "--force", id));
        }
        // a shim that is killed leaves its socket behind, as it does under containerd
        if (address != null) {
            Files.deleteIfExists(TaskClient.socketPath(address));
        }
        Path rootfs = bundle.resolve("rootfs");
        while (Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + rootfs + " ")) {
            run(List.of("umount", rootfs.toString()));
        }
        logReader.destroyForcibly().waitFor();
    }

    static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), UTF_8);
        assertEquals(0, process.waitFor(), command + ": " + out);
        return out;
    }
}
