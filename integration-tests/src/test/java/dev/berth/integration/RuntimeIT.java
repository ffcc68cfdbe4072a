package dev.berth.integration;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Containers run by berthd through the real {@code containerd-shim-runc-v2} and runc, driven by
 * {@code ctr run} and {@code ctr tasks} as against containerd, on a busybox image built offline with
 * umoci and imported with {@code ctr images import}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RuntimeIT {
    private static final Path UMOCI = Path.of("/usr/bin/umoci");
    private static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final Path SHIM = Path.of("/usr/bin/containerd-shim-runc-v2");
    private static final String IMAGE = "registry.test/busybox:latest";
    private static final String NS = "rt";
    private static final Duration SLOW = Duration.ofMinutes(2);

    private final List<Berthd> daemons = new ArrayList<>();
    private Berthd berthd;
    private Path archive;

    @BeforeAll
    void start() throws Exception {
        Ctr.requireInstalled();
        for (Path required : List.of(UMOCI, BUSYBOX, SHIM, Path.of("/usr/sbin/runc"))) {
            if (!Files.isExecutable(required)) {
                if (System.getenv("CI") != null) {
                    fail(required + " is missing");
                }
                Assumptions.abort(required + " is missing");
            }
        }
        berthd = daemon("");
        archive = buildImage(berthd.dir().resolve("image"));
        importImage(berthd);
    }

    @AfterAll
    void stop() {
        for (Berthd daemon : daemons.reversed()) {
            removeAll(daemon);
            daemon.close();
        }
    }

    @Test
    void runPrintsOutputExitStatusAndReadsStdin() throws Exception {
        Ctr ctr = berthd.ctr();
        assertEquals("X\n", ctr.succeed("-n", NS, "run", "--rm", IMAGE, "echo1", "/bin/echo", "X"));
        Exec.Result seven = ctr.run("-n", NS, "run", "--rm", IMAGE, "exit7", "/bin/sh", "-c", "exit 7");
        assertEquals(7, seven.exitCode(), seven::toString);
        // the shim's error in containerd's words, without a status code of its own
        Exec.Result missing = ctr.run("-n", NS, "run", "--rm", IMAGE, "missing1", "/bin/no-such-binary");
        assertTrue(missing.exitCode() != 0, missing::toString);
        assertTrue(missing.stderr().startsWith("ctr: failed to create shim task: OCI runtime create failed: "), missing::toString);
        assertTrue(missing.stderr().contains("no-such-binary"), missing::toString);
        assertFalse(ctr.succeed("-n", NS, "containers", "ls", "-q").contains("missing1"), "--rm removes it");
        // ctr 1.6 arms its stdin closer only once Create has returned; input that ends before then
        // (a bare `echo hi |`) is never closed and cat waits for ever, against containerd as much as
        // here. The pause lets the closer be armed, which is what an interactive user gets anyway.
        Exec.Result piped = Exec.run(List.of("/bin/sh", "-c", "(sleep 1; echo hi) | " + Ctr.BINARY + " --address "
                + berthd.socket() + " -n " + NS + " run --rm " + IMAGE + " cat1 cat"), Map.of(), SLOW);
        assertEquals(0, piped.exitCode(), piped::toString);
        assertEquals("hi\n", piped.stdout());
        assertEquals("", ctr.succeed("-n", NS, "containers", "ls", "-q"), "--rm removes the containers");
    }

    @Test
    void detachedTaskIsListedExecedPausedKilledAndRemoved() {
        Ctr ctr = berthd.ctr();
        ctr.succeed("-n", NS, "run", "-d", IMAGE, "detached", "/bin/sleep", "300");
        assertEquals("RUNNING", status(ctr, "detached"));
        // runc's state is the daemon's own, not in containerd's /run/containerd/runc, where a
        // containerd on the same host would act on it for a container of the same namespace and id
        assertTrue(Files.isRegularFile(runcRoot(berthd).resolve("detached/state.json")), "runc's state of detached");
        assertFalse(Files.exists(Path.of("/run/containerd/runc", NS, "detached")));
        assertEquals("Y\n", ctr.succeed("-n", NS, "tasks", "exec", "--exec-id", "e1", "detached", "/bin/echo", "Y"));
        String pids = ctr.succeed("-n", NS, "tasks", "ps", "detached");
        assertTrue(pids.lines().skip(1).anyMatch(line -> line.trim().matches("\\d+.*")), pids);
        ctr.succeed("-n", NS, "tasks", "pause", "detached");
        assertEquals("PAUSED", status(ctr, "detached"));
        ctr.succeed("-n", NS, "tasks", "resume", "detached");
        assertEquals("RUNNING", status(ctr, "detached"));
        String metrics = ctr.succeed("-n", NS, "tasks", "metrics", "detached");
        assertTrue(metrics.contains("memory.usage_in_bytes") || metrics.contains("memory.usage"), metrics);
        ctr.succeed("-n", NS, "tasks", "kill", "-s", "SIGKILL", "detached");
        Poll.until(Duration.ofSeconds(15), () -> "STOPPED".equals(status(ctr, "detached")),
                () -> "detached is not STOPPED: " + ctr.run("-n", NS, "tasks", "ls"));
        ctr.succeed("-n", NS, "tasks", "rm", "detached");
        ctr.succeed("-n", NS, "containers", "rm", "detached");
        assertFalse(ctr.succeed("-n", NS, "containers", "ls", "-q").lines().anyMatch("detached"::equals));
    }

    @Test
    void eventsReachAnotherClient() throws Exception {
        Path log = berthd.dir().resolve("events.log");
        Path filteredLog = berthd.dir().resolve("events-filtered.log");
        Process events = new ProcessBuilder(Ctr.BINARY.toString(), "--address", berthd.socket().toString(), "events")
                .redirectOutput(log.toFile()).redirectErrorStream(true).start();
        // a field of the shim's task events, as containerd's filters read them
        Process filtered = new ProcessBuilder(Ctr.BINARY.toString(), "--address", berthd.socket().toString(), "events",
                "event.container_id==evented").redirectOutput(filteredLog.toFile()).redirectErrorStream(true).start();
        try {
            Thread.sleep(1000);
            berthd.ctr().succeed("-n", NS, "run", "--rm", IMAGE, "unwatched", "/bin/true");
            berthd.ctr().succeed("-n", NS, "run", "--rm", IMAGE, "evented", "/bin/true");
            Poll.until(Duration.ofSeconds(10), () -> {
                String seen = read(log);
                return seen.contains("/containers/create") && seen.contains("/tasks/start")
                        && seen.contains("/tasks/exit") && seen.contains("\"evented\"");
            }, () -> "ctr events saw: " + read(log));
            Poll.until(Duration.ofSeconds(10), () -> read(filteredLog).contains("/tasks/exit"),
                    () -> "ctr events event.container_id==evented saw: " + read(filteredLog));
            String seen = read(filteredLog);
            assertTrue(seen.contains("/tasks/start"), seen);
            assertFalse(seen.contains("unwatched"), seen);
            assertFalse(seen.contains("/containers/create"), "container events have no container_id: " + seen);
        } finally {
            for (Process process : List.of(events, filtered)) {
                process.destroy();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void rootfsIsFreshInEachContainer() {
        Ctr ctr = berthd.ctr();
        ctr.succeed("-n", NS, "run", "--rm", IMAGE, "writer", "/bin/sh", "-c", "echo dirty > /marker && cat /marker");
        assertEquals("absent\n", ctr.succeed("-n", NS, "run", "--rm", IMAGE, "reader", "/bin/sh", "-c",
                "if [ -e /marker ]; then echo present; else echo absent; fi"));
    }

    @Test
    void runtimeBinaryFromConfigAndPerContainer() throws Exception {
        Path configured = recordingRuntime(berthd.dir(), "configured");
        Berthd custom = daemon("plugins.\"io.containerd.runtime.v2.task\".runtimes.\"io.containerd.runc.v2\""
                + ".runc-options.binary-name = " + Berthd.quote(configured) + "\n");
        importImage(custom);
        assertEquals("via config\n", custom.ctr().succeed("-n", NS, "run", "--rm", IMAGE, "cfg", "/bin/echo",
                "via config"));
        assertTrue(read(log(configured)).contains("create"), "the configured binary created the container");

        Path perContainer = recordingRuntime(berthd.dir(), "per-container");
        assertEquals("via option\n", berthd.ctr().succeed("-n", NS, "run", "--rm", "--runc-binary",
                perContainer.toString(), IMAGE, "opt", "/bin/echo", "via option"));
        assertTrue(read(log(perContainer)).contains("create"), "the container's binary created it");
        assertTrue(read(log(perContainer)).contains("--root " + runcRoot(berthd) + " "),
                "a container's runtime options keep the daemon's runc root: " + read(log(perContainer)));
        assertFalse(read(log(configured)).contains(" opt"), "the other daemon's binary was not used");
    }

    @Test
    void detachedContainerSurvivesKillMinusNineOfTheDaemon() throws Exception {
        Berthd first = daemon("");
        importImage(first);
        first.ctr().succeed("-n", NS, "run", "-d", IMAGE, "survivor", "/bin/sleep", "300");
        assertEquals("RUNNING", status(first.ctr(), "survivor"));

        ProcessHandle daemon = berthdProcess(first);
        daemon.destroyForcibly();
        daemon.onExit().get(30, TimeUnit.SECONDS);
        assertFalse(first.ctr().run("version").exitCode() == 0, "the daemon is gone");

        // a second daemon on the first one's socket, root and state
        Berthd second = Berthd.onSocket(first.socket());
        daemons.add(second);
        Files.delete(second.config());
        Files.copy(first.config(), second.config());
        Files.createSymbolicLink(second.dir().resolve("root"), first.dir().resolve("root"));
        Files.createSymbolicLink(second.dir().resolve("state"), first.dir().resolve("state"));
        second.start();

        Ctr ctr = second.ctr();
        assertEquals("RUNNING", status(ctr, "survivor"), second.logs());
        assertEquals("still here\n", ctr.succeed("-n", NS, "tasks", "exec", "--exec-id", "e2", "survivor",
                "/bin/echo", "still here"));
        ctr.succeed("-n", NS, "tasks", "kill", "-s", "SIGKILL", "survivor");
        Poll.until(Duration.ofSeconds(15), () -> "STOPPED".equals(status(ctr, "survivor")),
                () -> "survivor is not STOPPED: " + ctr.run("-n", NS, "tasks", "ls"));
        ctr.succeed("-n", NS, "tasks", "rm", "survivor");
        ctr.succeed("-n", NS, "containers", "rm", "survivor");
        assertEquals("", ctr.succeed("-n", NS, "tasks", "ls", "-q"));
    }

    /** A started daemon with {@code extraConfig}; each keeps runc's state in its own state directory. */
    private Berthd daemon(String extraConfig) {
        Berthd daemon = new Berthd();
        daemons.add(daemon);
        daemon.writeConfig(daemon.baseConfig() + extraConfig);
        return daemon.start();
    }

    /** runc's root for the namespace's containers ({@code runc --root}), when the config names none. */
    private static Path runcRoot(Berthd daemon) {
        return daemon.dir().resolve("state/io.containerd.runtime.v2.task/.runc").resolve(NS);
    }

    private void importImage(Berthd daemon) {
        String imported = daemon.ctr().succeed("-n", NS, "images", "import", "--base-name", "registry.test/busybox",
                archive.toString());
        assertTrue(imported.contains("unpacking " + IMAGE) && imported.contains("done"), imported);
    }

    /** The STATUS column of {@code ctr tasks ls} for {@code id}, or empty if it is not listed. */
    private static String status(Ctr ctr, String id) {
        for (String line : ctr.succeed("-n", NS, "tasks", "ls").lines().skip(1).toList()) {
            String[] columns = line.trim().split("\\s+");
            if (columns.length >= 3 && columns[0].equals(id)) {
                return columns[2];
            }
        }
        return "";
    }

    /** The java process serving {@code daemon}'s socket, found by its arguments. */
    private static ProcessHandle berthdProcess(Berthd daemon) {
        String socket = daemon.socket().toString();
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().arguments().map(List::of).orElse(List.of()).contains(socket))
                .filter(p -> p.info().command().orElse("").endsWith("java"))
                .findFirst().orElseThrow(() -> new AssertionError("no berthd process serves " + socket));
    }

    /** Kills and removes whatever a test left in the namespace, so that no shim or mount outlives the run. */
    private static void removeAll(Berthd daemon) {
        Ctr ctr = daemon.ctr();
        if (ctr.run("version").exitCode() != 0) {
            return;
        }
        for (String id : ctr.run("-n", NS, "tasks", "ls", "-q").stdout().lines().toList()) {
            ctr.run("-n", NS, "tasks", "kill", "-s", "SIGKILL", id);
            Poll.until(Duration.ofSeconds(15), () -> !"RUNNING".equals(status(ctr, id)), () -> id + " still runs");
            ctr.run("-n", NS, "tasks", "rm", "-f", id);
        }
        for (String id : ctr.run("-n", NS, "containers", "ls", "-q").stdout().lines().toList()) {
            ctr.run("-n", NS, "containers", "rm", id);
        }
    }

    /** An OCI runtime that appends its arguments to {@code <script>.log} and runs runc. */
    private static Path recordingRuntime(Path dir, String name) throws IOException {
        Path script = dir.resolve(name + "-runtime");
        Files.writeString(script, "#!/bin/sh\necho \"$@\" >> " + log(script) + "\nexec /usr/sbin/runc \"$@\"\n", UTF_8);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private static Path log(Path script) {
        return Path.of(script + ".log");
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** An OCI archive of busybox with a link per applet the tests run, built with umoci. */
    private static Path buildImage(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path layout = dir.resolve("layout");
        Path bundle = dir.resolve("bundle");
        exec(UMOCI.toString(), "init", "--layout", layout.toString());
        exec(UMOCI.toString(), "new", "--image", layout + ":latest");
        exec(UMOCI.toString(), "unpack", "--image", layout + ":latest", bundle.toString());
        Path bin = Files.createDirectories(bundle.resolve("rootfs/bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"));
        for (String applet : List.of("sh", "echo", "cat", "true", "sleep")) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        exec(UMOCI.toString(), "repack", "--image", layout + ":latest", bundle.toString());
        Path tar = dir.resolve("busybox.tar");
        exec("tar", "-C", layout.toString(), "-cf", tar.toString(), ".");
        return tar;
    }

    private static void exec(String... command) {
        Exec.Result result = Exec.run(List.of(command), Map.of(), SLOW);
        assertEquals(0, result.exitCode(), result::toString);
    }
}
