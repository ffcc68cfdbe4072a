package dev.berth.ttrpc.shim;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.api.events.TaskCreate;
import dev.berth.api.events.TaskDelete;
import dev.berth.api.events.TaskExit;
import dev.berth.api.events.TaskStart;
import dev.berth.api.runtime.runc.options.Options;
import dev.berth.api.runtime.task.v2.ConnectRequest;
import dev.berth.api.runtime.task.v2.ConnectResponse;
import dev.berth.api.runtime.task.v2.CreateTaskRequest;
import dev.berth.api.runtime.task.v2.DeleteRequest;
import dev.berth.api.runtime.task.v2.DeleteResponse;
import dev.berth.api.runtime.task.v2.PidsRequest;
import dev.berth.api.runtime.task.v2.ShutdownRequest;
import dev.berth.api.runtime.task.v2.StartRequest;
import dev.berth.api.runtime.task.v2.StateRequest;
import dev.berth.api.runtime.task.v2.StateResponse;
import dev.berth.api.runtime.task.v2.WaitRequest;
import dev.berth.api.runtime.task.v2.WaitResponse;
import dev.berth.api.services.ttrpc.events.v1.Envelope;
import dev.berth.api.types.Mount;
import dev.berth.api.types.task.Status;
import dev.berth.plugin.NotFoundException;
import dev.berth.ttrpc.TtrpcServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ttrpc client and server against the real containerd-shim-runc-v2 and runc. */
class ShimTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String NAMESPACE = "berth-test";

    @TempDir
    Path dir;

    private final LinkedBlockingQueue<Envelope> events = new LinkedBlockingQueue<>();
    private TtrpcServer daemon;
    private ShimFixture shim;

    @BeforeEach
    void setUp() throws IOException, InterruptedException {
        ShimFixture.requireShim();
        Path eventsSocket = dir.resolve("berthd.sock.ttrpc");
        daemon = TtrpcEvents.register(new TtrpcServer(), events::add).serve(eventsSocket);
        shim = new ShimFixture(dir, NAMESPACE, "berth-" + UUID.randomUUID().toString().substring(0, 8), eventsSocket);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (shim != null) {
            shim.close();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    void connectsToAStartedShimAndShutsItDown() throws Exception {
        String address = shim.start(shim.options().build());
        assertTrue(address.startsWith("unix:///run/containerd/s/"), address);
        assertEquals(address, Files.readString(shim.bundle.resolve("address")), "the shim records its address");

        CountDownLatch closed = new CountDownLatch(1);
        try (TaskClient task = TaskClient.connect(address, NAMESPACE, TIMEOUT, closed::countDown)) {
            ConnectResponse connected = task.connect(ConnectRequest.newBuilder().setId(shim.id).build());
            shim.track(connected.getShimPid());
            ProcessHandle process = ProcessHandle.of(connected.getShimPid()).orElseThrow();
            assertTrue(process.info().commandLine().orElseThrow().contains("-id " + shim.id),
                    process.info().commandLine().orElseThrow());
            assertEquals(0, connected.getTaskPid(), "no task yet");

            NotFoundException missing = assertThrows(NotFoundException.class,
                    () -> task.state(StateRequest.newBuilder().setId(shim.id).build()));
            assertTrue(missing.getMessage().contains("not found"), missing.getMessage());

            task.shutdown(ShutdownRequest.newBuilder().setId(shim.id).build());
            assertTrue(closed.await(10, TimeUnit.SECONDS), "the shim closes the connection as it exits");
            process.onExit().get(10, TimeUnit.SECONDS);
            assertFalse(Files.exists(TaskClient.socketPath(address)), "the shim removes its socket");
        }
    }

    @Test
    void runsATaskThroughRuncAndForwardsItsEventsToTheDaemon() throws Exception {
        Path rootfs = busyboxRootfs(dir.resolve("rootfs"));
        writeSpec(shim.bundle, List.of("/bin/sh", "-c", "echo hello from busybox; exit 3"));
        // stdout as ctr passes it: a FIFO the shim writes and the client reads until the process exits
        Path stdout = dir.resolve("stdout");
        ShimFixture.run(List.of("mkfifo", stdout.toString()));
        Process stdoutReader = new ProcessBuilder("cat", stdout.toString())
                .redirectOutput(dir.resolve("stdout.txt").toFile()).start();
        Path runtime = recordingRuntime(dir.resolve("runtime-wrapper"), dir.resolve("invocations"));
        Options options = shim.options().setBinaryName(runtime.toString()).build();

        String address = shim.start(options);
        try (TaskClient task = TaskClient.connect(address, NAMESPACE, TIMEOUT, () -> {})) {
            shim.track(task.connect(ConnectRequest.newBuilder().setId(shim.id).build()).getShimPid());

            int pid = task.create(CreateTaskRequest.newBuilder()
                    .setId(shim.id)
                    .setBundle(shim.bundle.toString())
                    .addRootfs(Mount.newBuilder().setType("bind").setSource(rootfs.toString())
                            .addAllOptions(List.of("rbind", "rw")))
                    .setStdout(stdout.toString())
                    .setStderr(stdout.toString())
                    .setOptions(ShimFixture.pack(options))
                    .build()).getPid();
            assertTrue(pid > 0);
            StateResponse created = task.state(StateRequest.newBuilder().setId(shim.id).build());
            assertEquals(Status.CREATED, created.getStatus());
            assertEquals(pid, task.pids(PidsRequest.newBuilder().setId(shim.id).build()).getProcesses(0).getPid());

            assertEquals(pid, task.start(StartRequest.newBuilder().setId(shim.id).build()).getPid());
            WaitResponse exit = task.await(WaitRequest.newBuilder().setId(shim.id).build());
            assertEquals(3, exit.getExitStatus());
            assertTrue(exit.getExitedAt().getSeconds() > 0);
            assertEquals(Status.STOPPED, task.state(StateRequest.newBuilder().setId(shim.id).build()).getStatus());

            DeleteResponse deleted = task.delete(DeleteRequest.newBuilder().setId(shim.id).build());
            assertEquals(3, deleted.getExitStatus());
            assertEquals(pid, deleted.getPid());

            assertTrue(stdoutReader.waitFor(10, TimeUnit.SECONDS), "the shim closes stdout after the exit");
            assertEquals("hello from busybox\n", Files.readString(dir.resolve("stdout.txt")));
            assertTrue(Files.readString(dir.resolve("invocations")).contains("create"),
                    "runc ran through the BinaryName of the options");
            assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + shim.bundle.resolve("rootfs") + " "),
                    "the shim unmounted the rootfs");

            Envelope create = next("/tasks/create");
            assertEquals(NAMESPACE, create.getNamespace());
            assertEquals("containerd.events.TaskCreate", create.getEvent().getTypeUrl());
            TaskCreate createEvent = TaskCreate.parseFrom(create.getEvent().getValue());
            assertEquals(shim.id, createEvent.getContainerId());
            assertEquals(pid, createEvent.getPid());
            assertEquals(pid, TaskStart.parseFrom(next("/tasks/start").getEvent().getValue()).getPid());
            TaskExit exitEvent = TaskExit.parseFrom(next("/tasks/exit").getEvent().getValue());
            assertEquals(3, exitEvent.getExitStatus());
            assertEquals(shim.id, exitEvent.getContainerId());
            assertEquals(3, TaskDelete.parseFrom(next("/tasks/delete").getEvent().getValue()).getExitStatus());

            task.shutdown(ShutdownRequest.newBuilder().setId(shim.id).build());
        }
    }

    @Test
    void deleteCleansUpAfterAShimThatDied() throws Exception {
        Path rootfs = busyboxRootfs(dir.resolve("rootfs"));
        writeSpec(shim.bundle, List.of("/bin/sleep", "600"));
        Options options = shim.options().build();

        String address = shim.start(options);
        int pid;
        long shimPid;
        try (TaskClient task = TaskClient.connect(address, NAMESPACE, TIMEOUT, () -> {})) {
            shimPid = task.connect(ConnectRequest.newBuilder().setId(shim.id).build()).getShimPid();
            shim.track(shimPid);
            pid = task.create(CreateTaskRequest.newBuilder()
                    .setId(shim.id)
                    .setBundle(shim.bundle.toString())
                    .addRootfs(Mount.newBuilder().setType("bind").setSource(rootfs.toString())
                            .addAllOptions(List.of("rbind", "rw")))
                    .setOptions(ShimFixture.pack(options))
                    .build()).getPid();
            task.start(StartRequest.newBuilder().setId(shim.id).build());
            assertEquals(pid, task.connect(ConnectRequest.newBuilder().setId(shim.id).build()).getTaskPid());
        }

        // the shim dies; the container outlives it, as it outlives a daemon crash
        ProcessHandle shimProcess = ProcessHandle.of(shimPid).orElseThrow();
        shimProcess.destroyForcibly();
        shimProcess.onExit().get(10, TimeUnit.SECONDS);
        ProcessHandle container = ProcessHandle.of(pid).orElseThrow();
        assertTrue(container.isAlive());

        DeleteResponse cleaned = DeleteResponse.parseFrom(shim.delete());
        assertEquals(pid, cleaned.getPid());
        assertEquals(128 + 9, cleaned.getExitStatus(), "reported as killed");
        container.onExit().get(10, TimeUnit.SECONDS);
        assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + shim.bundle.resolve("rootfs") + " "),
                "delete unmounted the rootfs");
        assertFalse(Files.isDirectory(shim.runcRoot.resolve(NAMESPACE).resolve(shim.id)), "runc's state is gone");
    }

    private Envelope next(String topic) throws InterruptedException, IOException {
        Envelope envelope;
        do {
            envelope = events.poll(10, TimeUnit.SECONDS);
            assertNotNull(envelope, "no " + topic + " event; shim log:\n" + shim.log());
        } while (!envelope.getTopic().equals(topic));
        return envelope;
    }

    /** A root filesystem of busybox alone: the static binary and a link per applet the tests use. */
    private static Path busyboxRootfs(Path rootfs) throws IOException {
        Path busybox = Path.of("/bin/busybox");
        Files.createDirectories(rootfs.resolve("bin"));
        for (String sub : List.of("proc", "dev", "sys", "tmp", "etc")) {
            Files.createDirectories(rootfs.resolve(sub));
        }
        Files.copy(busybox, rootfs.resolve("bin/busybox"));
        for (String applet : List.of("sh", "echo", "cat", "sleep", "true")) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        return rootfs;
    }

    /** The OCI spec runc writes as its template, with the process replaced and no terminal. */
    private static void writeSpec(Path bundle, List<String> args) throws IOException, InterruptedException {
        Files.delete(bundle.resolve("config.json"));
        ShimFixture.run(List.of("runc", "spec", "--bundle", bundle.toString()));
        String spec = Files.readString(bundle.resolve("config.json"));
        String quoted = String.join(", ", args.stream().map(a -> "\"" + a.replace("\"", "\\\"") + "\"").toList());
        spec = replaceOnce(spec, "\"terminal\":\\s*true", "\"terminal\": false");
        spec = replaceOnce(spec, "\"args\":\\s*\\[\\s*\"sh\"\\s*\\]", Matcher.quoteReplacement("\"args\": [" + quoted + "]"));
        Files.writeString(bundle.resolve("config.json"), spec);
    }

    private static String replaceOnce(String text, String regex, String replacement) {
        Matcher matcher = Pattern.compile(regex).matcher(text);
        assertTrue(matcher.find(), "runc's template has " + regex);
        return matcher.replaceFirst(replacement);
    }

    /** An OCI runtime that records its arguments and runs runc, to see which binary the shim runs. */
    private static Path recordingRuntime(Path script, Path invocations) throws IOException {
        Files.writeString(script, "#!/bin/sh\necho \"$@\" >> " + invocations + "\nexec runc \"$@\"\n", UTF_8);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }
}
