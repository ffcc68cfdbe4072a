package dev.berth.plugins.runtime.v2;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.Any;
import dev.berth.api.events.TaskExit;
import dev.berth.api.events.TaskStart;
import dev.berth.api.runtime.runc.options.Options;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.events.Envelope;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.Exchange;
import dev.berth.plugin.events.Subscription;
import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.runtime.CreateOptions;
import dev.berth.plugin.runtime.ExecProcess;
import dev.berth.plugin.runtime.Exit;
import dev.berth.plugin.runtime.IO;
import dev.berth.plugin.runtime.PlatformRuntime;
import dev.berth.plugin.runtime.ProcessInfo;
import dev.berth.plugin.runtime.RuntimeTypes;
import dev.berth.plugin.runtime.Task;
import dev.berth.plugin.runtime.TaskState;
import dev.berth.plugin.runtime.TypedValue;
import dev.berth.plugins.events.EventPlugins;
import dev.berth.plugins.runtime.v2.RuntimeConfig.RuncOptions;
import dev.berth.plugins.runtime.v2.RuntimeConfig.ShimConfig;
import dev.berth.ttrpc.TtrpcServer;
import dev.berth.ttrpc.shim.TtrpcEvents;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runtime plugin against the real containerd-shim-runc-v2 and runc, through its registration. */
class ShimManagerTest {
    private static final Path SHIM = Path.of("/usr/bin/containerd-shim-runc-v2");
    private static final String NS = "berth-rt";
    private static final String RUNC = "io.containerd.runc.v2";
    private static final int SIGKILL = 9;

    @TempDir
    Path dir;

    private Path state;
    private Path runcRoot;
    private Path rootfs;
    private Exchange exchange;
    private TtrpcServer daemonEvents;
    private Subscription subscription;
    private final List<ShimManager> runtimes = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        boolean present = Files.isExecutable(SHIM) && Files.isExecutable(Path.of("/bin/busybox"))
                && "root".equals(System.getProperty("user.name"));
        if (!present && System.getenv("CI") != null) {
            fail(SHIM + ", /bin/busybox and root are required in CI");
        }
        assumeTrue(present, SHIM + ", /bin/busybox or root missing");
        state = dir.resolve("state");
        runcRoot = Files.createDirectories(dir.resolve("runc"));
        rootfs = busyboxRootfs(dir.resolve("busybox"));
        exchange = (Exchange) new EventPlugins().registrations().getFirst().init()
                .init(new TestContext(dir, state, new dev.berth.plugin.Registration.NoConfig(), null));
        subscription = exchange.subscribe(envelope -> envelope.topic().startsWith("/tasks/"));
        // the daemon's ttrpc events endpoint, as bootstrap serves it
        daemonEvents = TtrpcEvents.register(new TtrpcServer(), envelope -> exchange.forward(new Envelope(
                Instant.ofEpochSecond(envelope.getTimestamp().getSeconds(), envelope.getTimestamp().getNanos()),
                envelope.getNamespace(), envelope.getTopic(),
                new Event.Opaque(envelope.getEvent().getTypeUrl(), envelope.getEvent().getValue().toByteArray()))))
                .serve(dir.resolve("berthd.sock.ttrpc"));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (ShimManager runtime : runtimes) {
            for (Task task : runtime.tasks(NS)) {
                try {
                    task.kill(SIGKILL, true);
                    task.await();
                    runtime.delete(NS, task.id());
                } catch (RuntimeException e) {
                    // cleaned up below
                }
            }
            runtime.close();
        }
        if (state != null && Files.isDirectory(state.resolve(NS))) {
            try (Stream<Path> bundles = Files.list(state.resolve(NS))) {
                for (Path bundle : bundles.toList()) {
                    killShim(bundle);
                    run(List.of("sh", "-c", "umount " + bundle.resolve("rootfs") + " 2>/dev/null; true"));
                }
            }
        }
        if (runcRoot != null && Files.isDirectory(runcRoot.resolve(NS))) {
            try (Stream<Path> containers = Files.list(runcRoot.resolve(NS))) {
                for (Path container : containers.toList()) {
                    run(List.of("runc", "--root", runcRoot.resolve(NS).toString(), "delete", "--force",
                            container.getFileName().toString()));
                }
            }
        }
        if (subscription != null) {
            subscription.close();
        }
        if (daemonEvents != null) {
            daemonEvents.close();
        }
        if (exchange instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    @Test
    void runsTasksToTheirExitStatusAndDeletesThem() throws Exception {
        ShimManager runtime = open(config(Optional.empty()));
        assertEquals("io.containerd.runtime.v2.task", runtime.id());

        Task task = runtime.create(NS, "true", options(List.of("/bin/true")));
        assertEquals(TaskState.CREATED, task.state().status());
        assertTrue(task.pid() > 0);
        assertEquals(List.of(task), runtime.tasks(NS));
        assertEquals(task.pid(), task.start());
        Exit exit = task.await();
        assertEquals(0, exit.status());
        assertEquals(task.pid(), exit.pid());
        assertEquals(TaskState.STOPPED, task.state().status());
        Exit deleted = runtime.delete(NS, "true");
        assertEquals(0, deleted.status());
        assertEquals(task.pid(), deleted.pid());
        assertFalse(Files.exists(state.resolve(NS).resolve("true")), "the bundle is removed");
        assertThrows(NotFoundException.class, () -> runtime.get(NS, "true"));

        Task seven = runtime.create(NS, "seven", options(List.of("/bin/sh", "-c", "exit 7")));
        seven.start();
        assertEquals(7, seven.await().status());
        assertEquals(7, runtime.delete(NS, "seven").status());
        assertFalse(mounted(state.resolve(NS).resolve("seven").resolve("rootfs")), "the rootfs is unmounted");

        // the shim forwards its events to the daemon's endpoint, and they reach the exchange
        Envelope started = next(RuntimeTypes.TASK_START, "seven");
        assertEquals(NS, started.namespace());
        assertEquals(seven.pid(), TaskStart.parseFrom(((Event.Opaque) started.event()).value()).getPid());
        assertEquals(7, TaskExit.parseFrom(((Event.Opaque) next(RuntimeTypes.TASK_EXIT, "seven").event()).value())
                .getExitStatus());
    }

    @Test
    void execsPausesResumesReportsAndKills() throws Exception {
        ShimManager runtime = open(config(Optional.empty()));
        Task task = runtime.create(NS, "sleeper", options(List.of("/bin/sleep", "600")));
        task.start();
        assertEquals(TaskState.RUNNING, runtime.get(NS, "sleeper").state().status());

        ExecProcess exec = task.exec("e1", processSpec("/bin/sh", "-c", "exit 3"), IO.NONE);
        assertEquals("e1", exec.id());
        assertEquals(TaskState.CREATED, exec.state().status());
        int execPid = exec.start();
        assertTrue(execPid > 0);
        assertEquals(3, exec.await().status());
        assertEquals(3, task.process("e1").delete().status());
        assertThrows(NotFoundException.class, () -> task.process("e1"));
        assertThrows(InvalidArgumentException.class, () -> task.exec("not valid!", processSpec("/bin/true"), IO.NONE));

        List<Integer> pids = task.pids().stream().map(ProcessInfo::pid).toList();
        assertTrue(pids.contains(task.pid()), pids.toString());

        task.pause();
        assertEquals(TaskState.PAUSED, task.state().status());
        task.resume();
        assertEquals(TaskState.RUNNING, task.state().status());

        TypedValue stats = task.stats();
        assertTrue(stats.typeUrl().contains("Metrics"), stats.typeUrl());
        assertTrue(stats.value().length > 0, "metrics carry figures");

        task.kill(SIGKILL, false);
        Exit exit = task.await();
        assertEquals(128 + SIGKILL, exit.status());
        assertEquals(TaskState.STOPPED, task.state().status());
        assertEquals(128 + SIGKILL, runtime.delete(NS, "sleeper").status());
        assertTrue(runtime.tasks(NS).isEmpty());
    }

    @Test
    void runsTheOciRuntimeNamedInConfigOrPerContainer() throws Exception {
        Path configured = recordingRuntime("configured");
        ShimManager runtime = open(config(Optional.of(configured.toString())));
        Task viaConfig = runtime.create(NS, "via-config", options(List.of("/bin/true")));
        viaConfig.start();
        viaConfig.await();
        runtime.delete(NS, "via-config");
        assertTrue(Files.readString(dir.resolve("configured.log")).contains("create"),
                "runc ran through the configured binary");

        Path perContainer = recordingRuntime("per-container");
        Options own = Options.newBuilder().setBinaryName(perContainer.toString()).build();
        CreateOptions options = new CreateOptions(spec(List.of("/bin/true")), rootfsMounts(), IO.NONE, RUNC,
                Optional.of(new TypedValue(ShimManager.RUNC_OPTIONS_TYPE, own.toByteArray())), Optional.empty());
        long before = Files.readString(dir.resolve("configured.log")).lines().count();
        Task viaOptions = runtime.create(NS, "via-options", options);
        viaOptions.start();
        viaOptions.await();
        runtime.delete(NS, "via-options");
        assertTrue(Files.readString(dir.resolve("per-container.log")).contains("create"),
                "the container's runtime options win over the config");
        assertEquals(before, Files.readString(dir.resolve("configured.log")).lines().count());
        assertFalse(Files.exists(runcRoot.resolve(NS).resolve("via-options")),
                "the configured root still applies: the container options left it unset");
    }

    @Test
    void resolvesRuntimeNamesAsContainerd() throws Exception {
        ShimManager runtime = open(config(Optional.empty()));
        assertEquals(SHIM, runtime.resolve(RUNC).shim());
        assertEquals(SHIM, runtime.resolve("io.containerd.runc.v2").shim());
        assertEquals(SHIM, runtime.resolve(SHIM.toString()).shim());
        NotFoundException missing = assertThrows(NotFoundException.class, () -> runtime.resolve("io.containerd.nosuch.v9"));
        assertTrue(missing.getMessage().contains("containerd-shim-nosuch-v9"), missing.getMessage());
        assertThrows(InvalidArgumentException.class, () -> runtime.resolve("runc"));
        assertThrows(InvalidArgumentException.class, () -> runtime.create(NS, "x", options(List.of("/bin/true"), "")));
        assertFalse(Files.exists(state.resolve(NS).resolve("x")), "nothing is left of a refused create");
    }

    @Test
    void runcKeepsItsStateInTheRuntimesStateDirectoryUnlessTheConfigNamesARoot() throws Exception {
        RuncOptions noRoot = new RuncOptions(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty());
        ShimManager runtime = open(new RuntimeConfig(List.of(), false, "/bin/false", Duration.ofSeconds(5),
                Duration.ofSeconds(10), Duration.ofSeconds(3), Map.of(RUNC, new ShimConfig(Optional.empty(), Optional.of(noRoot)))));
        String own = state.resolve(ShimManager.RUNC_ROOT).toString();
        assertEquals(own, runtime.resolve(RUNC).defaults().orElseThrow().getRoot());
        // a container's runc options keep that root unless they name one
        byte[] binaryOnly = Options.newBuilder().setBinaryName("/usr/local/bin/crun").build().toByteArray();
        Options merged = Options.parseFrom(runtime.resolve(RUNC)
                .options(Optional.of(new TypedValue(ShimManager.RUNC_OPTIONS_TYPE, binaryOnly))).orElseThrow().getValue());
        assertEquals(own, merged.getRoot());
        assertEquals("/usr/local/bin/crun", merged.getBinaryName());
        runtime.close();
        runtimes.remove(runtime);

        assertEquals(runcRoot.toString(), open(config(Optional.empty())).resolve(RUNC).defaults().orElseThrow().getRoot());
    }

    @Test
    void aNewInstanceReconnectsToRunningTasks() throws Exception {
        ShimManager first = open(config(Optional.empty()));
        Task task = first.create(NS, "survivor", options(List.of("/bin/sleep", "600")));
        int pid = task.start();
        // the daemon dies: its connections go, its shims and their containers stay
        first.close();
        runtimes.remove(first);
        assertTrue(ProcessHandle.of(pid).orElseThrow().isAlive());

        ShimManager second = open(config(Optional.empty()));
        Task restored = second.get(NS, "survivor");
        assertEquals(pid, restored.pid());
        assertEquals(TaskState.RUNNING, restored.state().status());
        restored.kill(SIGKILL, false);
        assertEquals(128 + SIGKILL, restored.await().status());
        assertEquals(128 + SIGKILL, second.delete(NS, "survivor").status());
        assertFalse(Files.exists(state.resolve(NS).resolve("survivor")));
    }

    @Test
    void aShimThatDiesIsCleanedUpAndItsExitPublished() throws Exception {
        ShimManager runtime = open(config(Optional.empty()));
        Task task = runtime.create(NS, "orphan", options(List.of("/bin/sleep", "600")));
        int pid = task.start();
        Path bundle = state.resolve(NS).resolve("orphan");
        Path socket = Path.of(Files.readString(bundle.resolve("address")).strip().replaceFirst("^unix://", ""));
        killShimOrFail(bundle);

        TaskExit exit = TaskExit.parseFrom(((Event.Opaque) next(RuntimeTypes.TASK_EXIT, "orphan").event()).value());
        assertEquals(pid, exit.getPid());
        assertEquals(128 + SIGKILL, exit.getExitStatus(), "the shim's delete killed the container");
        assertNotNull(next(RuntimeTypes.TASK_DELETE, "orphan"));
        assertThrows(NotFoundException.class, () -> runtime.get(NS, "orphan"));
        ProcessHandle.of(pid).ifPresent(container -> container.onExit().orTimeout(10, TimeUnit.SECONDS).join());
        assertFalse(Files.exists(bundle), "the bundle is removed");
        assertFalse(Files.exists(socket), "the dead shim's socket is removed");
        assertFalse(Files.isDirectory(runcRoot.resolve(NS).resolve("orphan")), "runc's state is gone");
    }

    @Test
    void aShimFoundDeadAtStartIsCleanedUpAndItsExitPublished() throws Exception {
        ShimManager first = open(config(Optional.empty()));
        int pid = first.create(NS, "lost", options(List.of("/bin/sleep", "600"))).start();
        first.close();
        runtimes.remove(first);
        Path bundle = state.resolve(NS).resolve("lost");
        killShimOrFail(bundle);

        ShimManager second = open(config(Optional.empty()));
        assertThrows(NotFoundException.class, () -> second.get(NS, "lost"));
        TaskExit exit = TaskExit.parseFrom(((Event.Opaque) next(RuntimeTypes.TASK_EXIT, "lost").event()).value());
        assertEquals(pid, exit.getPid());
        assertFalse(Files.exists(bundle));
        // the shim's delete killed the container; it is reaped by whoever inherited it
        ProcessHandle.of(pid).ifPresent(container -> container.onExit().orTimeout(10, TimeUnit.SECONDS).join());
        assertEquals(128 + SIGKILL, exit.getExitStatus());
    }

    // ---- fixtures

    private ShimManager open(RuntimeConfig config) throws Exception {
        TestContext context = new TestContext(dir, state, config, exchange);
        PlatformRuntime runtime = (PlatformRuntime) new RuntimePlugins().registrations().getFirst().init().init(context);
        assertEquals(List.of(RuntimePlugins.hostPlatform()), context.platforms);
        ShimManager manager = (ShimManager) runtime;
        runtimes.add(manager);
        return manager;
    }

    private RuntimeConfig config(Optional<String> binaryName) {
        RuncOptions runc = new RuncOptions(binaryName, Optional.of(runcRoot.toString()), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
        return new RuntimeConfig(List.of(), false, "/bin/false", Duration.ofSeconds(5), Duration.ofSeconds(10),
                Duration.ofSeconds(3), Map.of(RUNC, new ShimConfig(Optional.empty(), Optional.of(runc))));
    }

    private CreateOptions options(List<String> args) throws Exception {
        return options(args, RUNC);
    }

    private CreateOptions options(List<String> args, String runtimeName) throws Exception {
        return new CreateOptions(spec(args), rootfsMounts(), IO.NONE, runtimeName);
    }

    private List<Mount> rootfsMounts() {
        return List.of(new Mount("bind", rootfs.toString(), List.of("rbind", "rw")));
    }

    private Envelope next(String topic, String containerId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            Optional<Envelope> envelope = subscription.poll(Duration.ofMillis(200));
            if (envelope.isPresent() && envelope.get().topic().equals(topic)
                    && new String(((Event.Opaque) envelope.get().event()).value(), UTF_8).contains(containerId)) {
                return envelope.get();
            }
        }
        throw new AssertionError("no " + topic + " event for " + containerId);
    }

    /** SIGKILLs the shim serving {@code bundle}, found by its arguments (this test's daemon address and the id). */
    private void killShim(Path bundle) {
        shims(bundle).forEach(shim -> {
            shim.destroyForcibly();
            shim.onExit().orTimeout(10, TimeUnit.SECONDS).join();
        });
    }

    private void killShimOrFail(Path bundle) {
        assertFalse(shims(bundle).isEmpty(), "a shim serves " + bundle);
        killShim(bundle);
    }

    private List<ProcessHandle> shims(Path bundle) {
        String id = bundle.getFileName().toString();
        String daemonAddress = dir.resolve("berthd.sock").toString();
        return ProcessHandle.allProcesses().filter(process -> {
            List<String> args = List.of(process.info().arguments().orElse(new String[0]));
            return process.info().command().map(SHIM.toString()::equals).orElse(false)
                    && follows(args, "-id", id) && follows(args, "-address", daemonAddress);
        }).toList();
    }

    private static boolean follows(List<String> args, String flag, String value) {
        int at = args.indexOf(flag);
        return at >= 0 && at + 1 < args.size() && args.get(at + 1).equals(value);
    }

    private static boolean mounted(Path path) throws IOException {
        return Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + path + " ");
    }

    /** A root filesystem of busybox alone: the static binary and a link per applet the tests use. */
    private static Path busyboxRootfs(Path rootfs) throws IOException {
        Files.createDirectories(rootfs.resolve("bin"));
        for (String sub : List.of("proc", "dev", "sys", "tmp", "etc")) {
            Files.createDirectories(rootfs.resolve(sub));
        }
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
        for (String applet : List.of("sh", "echo", "cat", "sleep", "true")) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        return rootfs;
    }

    /** The OCI spec runc writes as its template, with the process replaced and no terminal. */
    private byte[] spec(List<String> args) throws Exception {
        Path template = dir.resolve("template");
        if (!Files.exists(template.resolve("config.json"))) {
            Files.createDirectories(template);
            run(List.of("runc", "spec", "--bundle", template.toString()));
        }
        String spec = Files.readString(template.resolve("config.json"));
        spec = replaceOnce(spec, "\"terminal\":\\s*true", "\"terminal\": false");
        spec = replaceOnce(spec, "\"args\":\\s*\\[\\s*\"sh\"\\s*\\]", Matcher.quoteReplacement("\"args\": " + json(args)));
        return spec.getBytes(UTF_8);
    }

    private static byte[] processSpec(String... args) {
        return ("{\"args\": " + json(List.of(args)) + ", \"cwd\": \"/\", \"env\": [\"PATH=/bin\"],"
                + " \"user\": {\"uid\": 0, \"gid\": 0}}").getBytes(UTF_8);
    }

    private static String json(List<String> args) {
        return "[" + String.join(", ", args.stream().map(a -> "\"" + a.replace("\"", "\\\"") + "\"").toList()) + "]";
    }

    private static String replaceOnce(String text, String regex, String replacement) {
        Matcher matcher = Pattern.compile(regex).matcher(text);
        assertTrue(matcher.find(), "runc's template has " + regex);
        return matcher.replaceFirst(replacement);
    }

    /** An OCI runtime that records its arguments in {@code <name>.log} and runs runc. */
    private Path recordingRuntime(String name) throws IOException {
        Path script = dir.resolve(name + "-runtime");
        Files.writeString(script, "#!/bin/sh\necho \"$@\" >> " + dir.resolve(name + ".log") + "\nexec runc \"$@\"\n", UTF_8);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), UTF_8);
        assertEquals(0, process.waitFor(), command + ": " + out);
    }
}
