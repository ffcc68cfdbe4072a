package dev.berth.plugins.grpc.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.berth.api.services.containers.v1.Container;
import dev.berth.api.services.containers.v1.ContainersGrpc;
import dev.berth.api.services.containers.v1.CreateContainerRequest;
import dev.berth.api.services.tasks.v1.GetRequest;
import dev.berth.api.services.tasks.v1.TasksGrpc;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.runtime.CreateOptions;
import dev.berth.plugin.runtime.Exit;
import dev.berth.plugin.runtime.PlatformRuntime;
import dev.berth.plugin.runtime.Task;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where {@code Tasks.Get} runs: the runtime's lookup on the call's thread only if the runtime says it never waits. */
class TasksGetTest {
    private static final String NS = "ns";

    @TempDir
    Path dir;
    Fixture fixture;

    @BeforeEach
    void open() throws Exception {
        fixture = new Fixture(dir);
        Fixture.in(ContainersGrpc.newBlockingStub(fixture.channel), NS).create(CreateContainerRequest.newBuilder()
                .setContainer(Container.newBuilder().setId("idle")
                        .setRuntime(Container.Runtime.newBuilder().setName(Fixture.RUNC))
                        .setSpec(Any.newBuilder().setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Spec")
                                .setValue(ByteString.copyFrom("{}", StandardCharsets.UTF_8))))
                .build());
    }

    @AfterEach
    void close() throws Exception {
        fixture.close();
    }

    @Test
    void declaresGetNonBlocking() {
        assertEquals(Set.of("containerd.services.tasks.v1.Tasks/Get"),
                new TasksService(fixture.metadata, new Runtimes(List.of(fixture.runtime))).nonBlockingMethods());
    }

    @Test
    void looksTheTaskUpOnTheCallsThreadOnlyForARuntimeWhoseGetNeverWaits() throws Exception {
        for (boolean declared : List.of(true, false)) {
            Lookups runtime = new Lookups(declared);
            ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
            String name = InProcessServerBuilder.generateName();
            Server server = InProcessServerBuilder.forName(name).executor(calls)
                    .addService(new TasksService(fixture.metadata, new Runtimes(List.of(runtime))))
                    .build().start();
            ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
            try {
                var tasks = Fixture.in(TasksGrpc.newBlockingStub(channel), NS);
                Status status = assertThrows(StatusRuntimeException.class,
                        () -> tasks.get(GetRequest.newBuilder().setContainerId("idle").build())).getStatus();
                assertEquals(Status.Code.NOT_FOUND, status.getCode());
                assertEquals("task idle not found", status.getDescription());
                assertEquals(1, runtime.threads.size());
                if (declared) {
                    assertNotEquals("task-get", runtime.threads.getFirst());
                } else {
                    assertEquals("task-get", runtime.threads.getFirst());
                }
            } finally {
                channel.shutdownNow();
                server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                calls.shutdownNow();
            }
        }
    }

    /** A runtime without tasks that records the threads its lookups ran on. */
    private static final class Lookups implements PlatformRuntime {
        final List<String> threads = new CopyOnWriteArrayList<>();
        private final boolean nonBlocking;

        Lookups(boolean nonBlocking) {
            this.nonBlocking = nonBlocking;
        }

        @Override
        public String id() {
            return Runtimes.SHIM_V2;
        }

        @Override
        public Task get(String namespace, String taskId) {
            threads.add(Thread.currentThread().getName());
            throw new NotFoundException("task " + namespace + "/" + taskId + ": not found");
        }

        @Override
        public boolean nonBlockingGet() {
            return nonBlocking;
        }

        @Override
        public Task create(String namespace, String taskId, CreateOptions options) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<Task> tasks(String namespace) {
            return List.of();
        }

        @Override
        public Exit delete(String namespace, String taskId) {
            throw new UnsupportedOperationException();
        }
    }
}
