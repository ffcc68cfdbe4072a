package dev.berth.plugins.grpc.runtime;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.berth.api.services.containers.v1.Container;
import dev.berth.api.services.containers.v1.ContainersGrpc;
import dev.berth.api.services.containers.v1.CreateContainerRequest;
import dev.berth.api.services.tasks.v1.CheckpointTaskRequest;
import dev.berth.api.services.tasks.v1.CreateTaskRequest;
import dev.berth.api.services.tasks.v1.DeleteProcessRequest;
import dev.berth.api.services.tasks.v1.DeleteResponse;
import dev.berth.api.services.tasks.v1.DeleteTaskRequest;
import dev.berth.api.services.tasks.v1.ExecProcessRequest;
import dev.berth.api.services.tasks.v1.GetRequest;
import dev.berth.api.services.tasks.v1.KillRequest;
import dev.berth.api.services.tasks.v1.ListPidsRequest;
import dev.berth.api.services.tasks.v1.ListTasksRequest;
import dev.berth.api.services.tasks.v1.MetricsRequest;
import dev.berth.api.services.tasks.v1.PauseTaskRequest;
import dev.berth.api.services.tasks.v1.ResumeTaskRequest;
import dev.berth.api.services.tasks.v1.StartRequest;
import dev.berth.api.services.tasks.v1.TasksGrpc;
import dev.berth.api.services.tasks.v1.TasksGrpc.TasksBlockingStub;
import dev.berth.api.services.tasks.v1.WaitRequest;
import dev.berth.api.types.Metric;
import dev.berth.api.types.task.Status;
import dev.berth.plugin.events.Envelope;
import dev.berth.plugin.events.Subscription;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tasks service over the real shim v2 runtime (containerd-shim-runc-v2 and runc), with a busybox
 * root filesystem prepared through the metadata store's native snapshotter.
 */
class TasksServiceTest {
    private static final String NS = "berth-tasks";
    private static final String SPEC_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
    private static final int SIGKILL = 9;

    @TempDir
    Path dir;
    Fixture fixture;
    TasksBlockingStub tasks;

    @BeforeEach
    void open() throws Exception {
        boolean present = Files.isExecutable(Path.of("/usr/bin/containerd-shim-runc-v2"))
                && Files.isExecutable(Path.of("/bin/busybox")) && "root".equals(System.getProperty("user.name"));
        if (!present && System.getenv("CI") != null) {
            fail("containerd-shim-runc-v2, /bin/busybox and root are required in CI");
        }
        assumeTrue(present, "containerd-shim-runc-v2, /bin/busybox or root missing");
        fixture = new Fixture(dir);
        fixture.commitBusybox(NS, "busybox");
        tasks = Fixture.in(TasksGrpc.newBlockingStub(fixture.channel), NS);
    }

    @AfterEach
    void close() throws Exception {
        if (fixture != null) {
            fixture.close(NS);
        }
    }

    /** A container whose root filesystem is a new active snapshot on the busybox one. */
    private void container(String id, String... args) throws Exception {
        fixture.metadata.snapshotter(NS, "native", Optional.empty()).prepare(id, "busybox", Map.of());
        Fixture.in(ContainersGrpc.newBlockingStub(fixture.channel), NS).create(CreateContainerRequest.newBuilder()
                .setContainer(Container.newBuilder().setId(id)
                        .setRuntime(Container.Runtime.newBuilder().setName(Fixture.RUNC))
                        .setSpec(Any.newBuilder().setTypeUrl(SPEC_TYPE)
                                .setValue(ByteString.copyFrom(fixture.spec(List.of(args)))))
                        .setSnapshotter("native").setSnapshotKey(id))
                .build());
    }

    /** The request creating {@code id}'s task with its output in a file (the shim opens both streams for a file). */
    private CreateTaskRequest.Builder create(String id, Path stdout) {
        return CreateTaskRequest.newBuilder().setContainerId(id).setStdout("file://" + stdout)
                .setStderr("file://" + stdout + ".err");
    }

    @Test
    void runsATaskToItsExitStatusWithItsOutput() throws Exception {
        container("echo", "/bin/echo", "hello from berth");
        Path out = dir.resolve("echo.out");
        assertTrue(tasks.create(create("echo", out).build()).getPid() > 0);
        assertEquals(Status.CREATED, tasks.get(GetRequest.newBuilder().setContainerId("echo").build())
                .getProcess().getStatus());
        tasks.start(StartRequest.newBuilder().setContainerId("echo").build());
        assertEquals(0, tasks.wait(WaitRequest.newBuilder().setContainerId("echo").build()).getExitStatus());
        assertEquals("hello from berth\n", Files.readString(out));
        assertEquals(Status.STOPPED, tasks.get(GetRequest.newBuilder().setContainerId("echo").build())
                .getProcess().getStatus());
        DeleteResponse deleted = tasks.delete(DeleteTaskRequest.newBuilder().setContainerId("echo").build());
        assertEquals(0, deleted.getExitStatus());
        assertTrue(deleted.hasExitedAt());
        assertEquals(io.grpc.Status.Code.NOT_FOUND, ContainersServiceTest.code(
                () -> tasks.get(GetRequest.newBuilder().setContainerId("echo").build())));

        container("seven", "/bin/sh", "-c", "exit 7");
        tasks.create(create("seven", dir.resolve("seven.out")).build());
        tasks.start(StartRequest.newBuilder().setContainerId("seven").build());
        assertEquals(7, tasks.wait(WaitRequest.newBuilder().setContainerId("seven").build()).getExitStatus());
        assertEquals(7, tasks.delete(DeleteTaskRequest.newBuilder().setContainerId("seven").build()).getExitStatus());
    }

    @Test
    void drivesARunningTaskThroughItsLife() throws Exception {
        container("sleeper", "/bin/sleep", "300");
        try (Subscription events = fixture.exchange.subscribe(e -> e.topic().startsWith("/tasks/"))) {
            tasks.create(create("sleeper", dir.resolve("sleeper.out")).build());
            int pid = tasks.start(StartRequest.newBuilder().setContainerId("sleeper").build()).getPid();
            assertTrue(pid > 0);
            assertEquals(List.of("sleeper"), tasks.list(ListTasksRequest.getDefaultInstance()).getTasksList().stream()
                    .filter(t -> t.getStatus() == Status.RUNNING).map(t -> t.getId()).toList());
            assertEquals("/tasks/start", next(events, "/tasks/start").topic(), "the shim's events reach the exchange");

            Path execOut = dir.resolve("exec.out");
            tasks.exec(ExecProcessRequest.newBuilder().setContainerId("sleeper").setExecId("e1")
                    .setStdout("file://" + execOut).setStderr("file://" + execOut + ".err")
                    .setSpec(Any.newBuilder().setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Process")
                            .setValue(ByteString.copyFrom(("{\"args\": [\"/bin/echo\", \"from exec\"], \"cwd\": \"/\","
                                    + " \"env\": [\"PATH=/bin\"], \"user\": {\"uid\": 0, \"gid\": 0}}").getBytes(UTF_8))))
                    .build());
            tasks.start(StartRequest.newBuilder().setContainerId("sleeper").setExecId("e1").build());
            assertEquals(0, tasks.wait(WaitRequest.newBuilder().setContainerId("sleeper").setExecId("e1").build())
                    .getExitStatus());
            assertEquals("from exec\n", Files.readString(execOut));
            assertEquals("e1", tasks.deleteProcess(DeleteProcessRequest.newBuilder().setContainerId("sleeper")
                    .setExecId("e1").build()).getId());

            assertTrue(tasks.listPids(ListPidsRequest.newBuilder().setContainerId("sleeper").build())
                    .getProcessesList().stream().anyMatch(p -> p.getPid() == pid));

            tasks.pause(PauseTaskRequest.newBuilder().setContainerId("sleeper").build());
            assertEquals(Status.PAUSED, tasks.get(GetRequest.newBuilder().setContainerId("sleeper").build())
                    .getProcess().getStatus());
            tasks.resume(ResumeTaskRequest.newBuilder().setContainerId("sleeper").build());
            assertEquals(Status.RUNNING, tasks.get(GetRequest.newBuilder().setContainerId("sleeper").build())
                    .getProcess().getStatus());

            List<Metric> metrics = tasks.metrics(MetricsRequest.newBuilder().addFilters("id==sleeper").build())
                    .getMetricsList();
            assertEquals(1, metrics.size());
            assertEquals("sleeper", metrics.getFirst().getId());
            assertFalse(metrics.getFirst().getData().getTypeUrl().isEmpty());
            assertFalse(metrics.getFirst().getData().getValue().isEmpty(), "the shim's cgroup figures");
            assertEquals(List.of(), tasks.metrics(MetricsRequest.newBuilder().addFilters("id==other").build())
                    .getMetricsList());

            // runc's shim refuses with containerd's own code for this, UNKNOWN
            assertTrue(assertThrows(StatusRuntimeException.class, () -> tasks.delete(DeleteTaskRequest.newBuilder()
                    .setContainerId("sleeper").build())).getMessage().contains("running"));
            tasks.kill(KillRequest.newBuilder().setContainerId("sleeper").setSignal(SIGKILL).build());
            assertEquals(128 + SIGKILL, tasks.wait(WaitRequest.newBuilder().setContainerId("sleeper").build())
                    .getExitStatus());
            assertEquals(Status.STOPPED, tasks.get(GetRequest.newBuilder().setContainerId("sleeper").build())
                    .getProcess().getStatus());
            next(events, "/tasks/exit");
            tasks.delete(DeleteTaskRequest.newBuilder().setContainerId("sleeper").build());
            assertEquals(List.of(), tasks.list(ListTasksRequest.getDefaultInstance()).getTasksList());
        }
    }

    @Test
    void refusesWhatContainerdRefuses() throws Exception {
        assertEquals(io.grpc.Status.Code.NOT_FOUND, ContainersServiceTest.code(
                () -> tasks.create(CreateTaskRequest.newBuilder().setContainerId("missing").build())));
        container("once", "/bin/sleep", "300");
        io.grpc.Status noTask = assertThrows(io.grpc.StatusRuntimeException.class,
                () -> tasks.start(StartRequest.newBuilder().setContainerId("once").build())).getStatus();
        assertEquals(io.grpc.Status.Code.NOT_FOUND, noTask.getCode());
        // containerd's words; its client adds ": not found"
        assertEquals("task once not found", noTask.getDescription());
        tasks.create(create("once", dir.resolve("once.out")).build());
        assertEquals(io.grpc.Status.Code.ALREADY_EXISTS, ContainersServiceTest.code(
                () -> tasks.create(create("once", dir.resolve("once.out")).build())));
        assertEquals(io.grpc.Status.Code.UNIMPLEMENTED, ContainersServiceTest.code(
                () -> tasks.checkpoint(CheckpointTaskRequest.newBuilder().setContainerId("once").build())));
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, ContainersServiceTest.code(
                () -> tasks.exec(ExecProcessRequest.newBuilder().setContainerId("once").build())));
        assertEquals(io.grpc.Status.Code.NOT_FOUND, ContainersServiceTest.code(
                () -> Fixture.in(TasksGrpc.newBlockingStub(fixture.channel), "other-ns")
                        .delete(DeleteTaskRequest.newBuilder().setContainerId("once").build())),
                "another namespace does not see the container or its task");
    }

    private static Envelope next(Subscription events, String topic) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Envelope> envelope = events.poll(Duration.ofMillis(200));
            if (envelope.isPresent() && envelope.get().topic().equals(topic)) {
                return envelope.get();
            }
        }
        throw new AssertionError("no " + topic + " event");
    }
}
