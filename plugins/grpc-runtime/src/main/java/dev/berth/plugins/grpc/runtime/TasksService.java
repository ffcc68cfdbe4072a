package dev.berth.plugins.grpc.runtime;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Empty;
import dev.berth.api.Calls;
import dev.berth.api.Errors;
import dev.berth.api.Headers;
import dev.berth.api.NonBlockingService;
import dev.berth.api.Timestamps;
import dev.berth.api.filters.Adaptor;
import dev.berth.api.filters.Filter;
import dev.berth.api.services.tasks.v1.CheckpointTaskRequest;
import dev.berth.api.services.tasks.v1.CheckpointTaskResponse;
import dev.berth.api.services.tasks.v1.CloseIORequest;
import dev.berth.api.services.tasks.v1.CreateTaskRequest;
import dev.berth.api.services.tasks.v1.CreateTaskResponse;
import dev.berth.api.services.tasks.v1.DeleteProcessRequest;
import dev.berth.api.services.tasks.v1.DeleteResponse;
import dev.berth.api.services.tasks.v1.DeleteTaskRequest;
import dev.berth.api.services.tasks.v1.ExecProcessRequest;
import dev.berth.api.services.tasks.v1.GetRequest;
import dev.berth.api.services.tasks.v1.GetResponse;
import dev.berth.api.services.tasks.v1.KillRequest;
import dev.berth.api.services.tasks.v1.ListPidsRequest;
import dev.berth.api.services.tasks.v1.ListPidsResponse;
import dev.berth.api.services.tasks.v1.ListTasksRequest;
import dev.berth.api.services.tasks.v1.ListTasksResponse;
import dev.berth.api.services.tasks.v1.MetricsRequest;
import dev.berth.api.services.tasks.v1.MetricsResponse;
import dev.berth.api.services.tasks.v1.PauseTaskRequest;
import dev.berth.api.services.tasks.v1.ResizePtyRequest;
import dev.berth.api.services.tasks.v1.ResumeTaskRequest;
import dev.berth.api.services.tasks.v1.StartRequest;
import dev.berth.api.services.tasks.v1.StartResponse;
import dev.berth.api.services.tasks.v1.TasksGrpc;
import dev.berth.api.services.tasks.v1.UpdateTaskRequest;
import dev.berth.api.services.tasks.v1.WaitRequest;
import dev.berth.api.services.tasks.v1.WaitResponse;
import dev.berth.api.types.Metric;
import dev.berth.api.types.task.ProcessInfo;
import dev.berth.api.types.task.Status;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.metadata.Container;
import dev.berth.plugin.metadata.MetadataStore;
import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.runtime.CreateOptions;
import dev.berth.plugin.runtime.Exit;
import dev.berth.plugin.runtime.IO;
import dev.berth.plugin.runtime.PlatformRuntime;
import dev.berth.plugin.runtime.Process;
import dev.berth.plugin.runtime.ProcessState;
import dev.berth.plugin.runtime.Task;
import dev.berth.plugin.runtime.TaskState;
import dev.berth.plugin.runtime.TypedValue;
import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * {@code containerd.services.tasks.v1.Tasks} as containerd's local tasks service: a task is made
 * from a container of the metadata store (its spec, root filesystem snapshot and runtime) by the
 * runtime its runtime name selects; every other call goes to that task or one of its processes, in
 * the namespace of the {@code containerd-namespace} header. The shims publish the task events.
 */
final class TasksService implements TasksGrpc.AsyncService, BindableService, NonBlockingService {
    /** Get starts on the transport's thread: it looks the task up there, and asks for its state on a thread of its own. */
    private static final Set<String> NON_BLOCKING = Set.of(TasksGrpc.getGetMethod().getFullMethodName());
    /** Runs what Get must wait for. */
    private static final Executor BLOCKING = task -> Thread.ofVirtual().name("task-get").start(task);

    private final MetadataStore metadata;
    private final Runtimes runtimes;

    TasksService(MetadataStore metadata, Runtimes runtimes) {
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.runtimes = requireNonNull(runtimes, "runtimes is null");
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerInterceptors.intercept(TasksGrpc.bindService(this), Headers.INSTANCE);
    }

    @Override
    public Set<String> nonBlockingMethods() {
        return NON_BLOCKING;
    }

    /**
     * Creates the task of a container with the stdio the request names. The root filesystem is the
     * request's mounts when it has some (containerd's client sends its snapshot's), else the mounts of
     * the container's snapshot; the request's options replace the container's runtime options.
     */
    @Override
    public void create(CreateTaskRequest request, StreamObserver<CreateTaskResponse> observer) {
        Calls.reply(observer, () -> {
            String namespace = Headers.namespace();
            if (request.hasCheckpoint()) {
                throw BerthException.of(BerthException.Kind.UNIMPLEMENTED,
                        "task " + request.getContainerId() + ": restoring from a checkpoint is not supported");
            }
            Container container = metadata.containers().get(namespace, request.getContainerId());
            TypedValue spec = container.spec().orElseThrow(() -> BerthException.of(
                    BerthException.Kind.FAILED_PRECONDITION, "container \"" + container.id() + "\" has no spec"));
            List<Mount> rootfs = request.getRootfsCount() > 0 ? mounts(request.getRootfsList())
                    : rootfs(namespace, container);
            PlatformRuntime runtime = runtimes.forName(container.runtime().name());
            if (exists(runtime, namespace, container.id())) {
                throw BerthException.of(BerthException.Kind.ALREADY_EXISTS, "task " + container.id());
            }
            String runtimeName = request.getRuntimePath().isEmpty() ? container.runtime().name()
                    : request.getRuntimePath();
            Optional<TypedValue> taskOptions = request.hasOptions()
                    ? Optional.of(ContainersService.typed(request.getOptions())) : Optional.empty();
            Task task = runtime.create(namespace, container.id(), new CreateOptions(spec.value(), rootfs,
                    new IO(request.getStdin(), request.getStdout(), request.getStderr(), request.getTerminal()),
                    runtimeName, container.runtime().options(), taskOptions));
            return CreateTaskResponse.newBuilder().setContainerId(container.id()).setPid(task.pid()).build();
        });
    }

    private List<Mount> rootfs(String namespace, Container container) {
        if (container.snapshotKey().isEmpty()) {
            return List.of();
        }
        return metadata.snapshotter(namespace, container.snapshotter(), Headers.lease())
                .mounts(container.snapshotKey());
    }

    private static boolean exists(PlatformRuntime runtime, String namespace, String id) {
        try {
            runtime.get(namespace, id);
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    @Override
    public void start(StartRequest request, StreamObserver<StartResponse> observer) {
        Calls.reply(observer, () -> StartResponse.newBuilder()
                .setPid(process(request.getContainerId(), request.getExecId()).start()).build());
    }

    /** Deletes a stopped task: its runtime releases what it held and reports how it exited. */
    @Override
    public void delete(DeleteTaskRequest request, StreamObserver<DeleteResponse> observer) {
        Calls.reply(observer, () -> {
            String namespace = Headers.namespace();
            Container container = metadata.containers().get(namespace, request.getContainerId());
            PlatformRuntime runtime = runtimes.forName(container.runtime().name());
            if (!exists(runtime, namespace, container.id())) {
                throw notFound(container.id());
            }
            Exit exit = runtime.delete(namespace, container.id());
            return DeleteResponse.newBuilder().setPid(exit.pid()).setExitStatus(exit.status())
                    .setExitedAt(Timestamps.timestamp(exit.exitedAt())).build();
        });
    }

    @Override
    public void deleteProcess(DeleteProcessRequest request, StreamObserver<DeleteResponse> observer) {
        Calls.reply(observer, () -> {
            Exit exit = task(request.getContainerId()).process(request.getExecId()).delete();
            return DeleteResponse.newBuilder().setId(request.getExecId()).setPid(exit.pid())
                    .setExitStatus(exit.status()).setExitedAt(Timestamps.timestamp(exit.exitedAt())).build();
        });
    }

    @Override
    public void get(GetRequest request, StreamObserver<GetResponse> observer) {
        // on the transport's thread (see nonBlockingMethods) as far as the runtime allows
        Task task;
        try {
            String namespace = Headers.namespace();
            Container container = metadata.containers().get(namespace, request.getContainerId());
            PlatformRuntime runtime = runtimes.forName(container.runtime().name());
            if (!runtime.nonBlockingGet()) {
                BLOCKING.execute(() -> Calls.reply(observer, () -> state(task(runtime, namespace, container), request)));
                return;
            }
            task = task(runtime, namespace, container);
        } catch (RuntimeException e) {
            observer.onError(Errors.toStatus(e));
            return;
        }
        BLOCKING.execute(() -> Calls.reply(observer, () -> state(task, request)));
    }

    /** Asks the task's supervisor for the state of the process the request names. */
    private static GetResponse state(Task task, GetRequest request) {
        Process process = request.getExecId().isEmpty() ? task : task.process(request.getExecId());
        return GetResponse.newBuilder().setProcess(toProto(task.id(), process.id(), process.state())).build();
    }

    /** The tasks of the namespace in every runtime; one deleted meanwhile is left out. */
    @Override
    public void list(ListTasksRequest request, StreamObserver<ListTasksResponse> observer) {
        Calls.reply(observer, () -> {
            String namespace = Headers.namespace();
            ListTasksResponse.Builder response = ListTasksResponse.newBuilder();
            for (PlatformRuntime runtime : runtimes.all()) {
                for (Task task : runtime.tasks(namespace)) {
                    try {
                        response.addTasks(toProto(task.id(), task.id(), task.state()));
                    } catch (NotFoundException e) {
                        // deleted while listing
                    }
                }
            }
            return response.build();
        });
    }

    @Override
    public void kill(KillRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            process(request.getContainerId(), request.getExecId()).kill(request.getSignal(), request.getAll());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void exec(ExecProcessRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            if (request.getExecId().isEmpty()) {
                throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "exec id cannot be empty");
            }
            if (!request.hasSpec()) {
                throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                        "exec " + request.getExecId() + ": process spec is required");
            }
            task(request.getContainerId()).exec(request.getExecId(), request.getSpec().getValue().toByteArray(),
                    new IO(request.getStdin(), request.getStdout(), request.getStderr(), request.getTerminal()));
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void resizePty(ResizePtyRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            process(request.getContainerId(), request.getExecId()).resizePty(request.getWidth(), request.getHeight());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void closeIO(CloseIORequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            Process process = process(request.getContainerId(), request.getExecId());
            if (request.getStdin()) {
                process.closeIO();
            }
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void pause(PauseTaskRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            task(request.getContainerId()).pause();
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void resume(ResumeTaskRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            task(request.getContainerId()).resume();
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void listPids(ListPidsRequest request, StreamObserver<ListPidsResponse> observer) {
        Calls.reply(observer, () -> {
            ListPidsResponse.Builder response = ListPidsResponse.newBuilder();
            for (var info : task(request.getContainerId()).pids()) {
                ProcessInfo.Builder process = ProcessInfo.newBuilder().setPid(info.pid());
                info.info().ifPresent(value -> process.setInfo(ContainersService.toAny(value)));
                response.addProcesses(process);
            }
            return response.build();
        });
    }

    /** Checkpoints need CRIU and content the runtime does not produce; the call says so rather than pretend. */
    @Override
    public void checkpoint(CheckpointTaskRequest request, StreamObserver<CheckpointTaskResponse> observer) {
        Calls.reply(observer, () -> {
            throw BerthException.of(BerthException.Kind.UNIMPLEMENTED,
                    "task " + request.getContainerId() + ": checkpoint is not supported by this daemon");
        });
    }

    @Override
    public void update(UpdateTaskRequest request, StreamObserver<Empty> observer) {
        Calls.reply(observer, () -> {
            if (!request.hasResources()) {
                throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                        "task " + request.getContainerId() + ": resources are required");
            }
            task(request.getContainerId()).update(ContainersService.typed(request.getResources()),
                    request.getAnnotationsMap());
            return Empty.getDefaultInstance();
        });
    }

    /**
     * The metrics of the namespace's tasks matching any of the filters ({@code id},
     * {@code namespace}), each as its shim reports them; a task gone meanwhile is left out.
     */
    @Override
    public void metrics(MetricsRequest request, StreamObserver<MetricsResponse> observer) {
        Calls.reply(observer, () -> {
            Filter filter = Filter.parseAll(request.getFiltersList());
            String namespace = Headers.namespace();
            MetricsResponse.Builder response = MetricsResponse.newBuilder();
            for (PlatformRuntime runtime : runtimes.all()) {
                for (Task task : runtime.tasks(namespace)) {
                    Adaptor adaptor = path -> switch (path.getFirst()) {
                        case "id" -> Adaptor.nonEmpty(task.id());
                        case "namespace" -> Adaptor.nonEmpty(task.namespace());
                        default -> Optional.empty();
                    };
                    if (!filter.matches(adaptor)) {
                        continue;
                    }
                    Instant collected = Instant.now();
                    try {
                        TypedValue stats = task.stats();
                        response.addMetrics(Metric.newBuilder().setTimestamp(Timestamps.timestamp(collected))
                                .setId(task.id()).setData(ContainersService.toAny(stats)));
                    } catch (NotFoundException e) {
                        // deleted while collecting
                    }
                }
            }
            return response.build();
        });
    }

    /** Waits until the process exits; a client that gives up cancels the wait. */
    @Override
    public void wait(WaitRequest request, StreamObserver<WaitResponse> observer) {
        Calls.reply(observer, () -> {
            Process process = process(request.getContainerId(), request.getExecId());
            Thread waiter = Thread.currentThread();
            Context.CancellationListener cancel = context -> waiter.interrupt();
            Context.current().addListener(cancel, Runnable::run);
            Exit exit;
            try {
                exit = process.await();
            } finally {
                Context.current().removeListener(cancel);
                // an interrupt that came too late to cancel must not leak into the next call on this thread
                Thread.interrupted();
            }
            return WaitResponse.newBuilder().setExitStatus(exit.status())
                    .setExitedAt(Timestamps.timestamp(exit.exitedAt())).build();
        });
    }

    private Process process(String containerId, String execId) {
        Task task = task(containerId);
        return execId.isEmpty() ? task : task.process(execId);
    }

    /** The task of a container of the call's namespace, as containerd's {@code getTask}. */
    private Task task(String containerId) {
        String namespace = Headers.namespace();
        Container container = metadata.containers().get(namespace, containerId);
        return task(runtimes.forName(container.runtime().name()), namespace, container);
    }

    private static Task task(PlatformRuntime runtime, String namespace, Container container) {
        try {
            return runtime.get(namespace, container.id());
        } catch (NotFoundException e) {
            throw notFound(container.id());
        }
    }

    /** containerd's words, which clients complete with ": not found" as for any such error. */
    private static BerthException notFound(String id) {
        return new NotFoundException("task " + id + " not found");
    }

    private static List<Mount> mounts(List<dev.berth.api.types.Mount> mounts) {
        // a root filesystem mount's target is the runtime's business: it mounts them on the bundle's rootfs
        return mounts.stream().map(m -> new Mount(m.getType(), m.getSource(), m.getOptionsList())).toList();
    }

    private static dev.berth.api.types.task.Process toProto(String containerId, String id, ProcessState state) {
        var builder = dev.berth.api.types.task.Process.newBuilder()
                .setContainerId(containerId)
                .setId(id)
                .setPid(state.pid())
                .setStatus(status(state.status()))
                .setStdin(state.io().stdin())
                .setStdout(state.io().stdout())
                .setStderr(state.io().stderr())
                .setTerminal(state.io().terminal())
                .setExitStatus(state.exitStatus());
        state.exitedAt().ifPresent(at -> builder.setExitedAt(Timestamps.timestamp(at)));
        return builder.build();
    }

    private static Status status(TaskState state) {
        return switch (state) {
            case CREATED -> Status.CREATED;
            case RUNNING -> Status.RUNNING;
            case STOPPED -> Status.STOPPED;
            case PAUSED -> Status.PAUSED;
            case PAUSING -> Status.PAUSING;
            case DELETED, UNKNOWN -> Status.UNKNOWN;
        };
    }
}
