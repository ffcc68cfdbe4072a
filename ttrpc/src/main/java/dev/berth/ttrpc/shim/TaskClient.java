package dev.berth.ttrpc.shim;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Empty;
import dev.berth.api.runtime.task.v2.CheckpointTaskRequest;
import dev.berth.api.runtime.task.v2.CloseIORequest;
import dev.berth.api.runtime.task.v2.ConnectRequest;
import dev.berth.api.runtime.task.v2.ConnectResponse;
import dev.berth.api.runtime.task.v2.CreateTaskRequest;
import dev.berth.api.runtime.task.v2.CreateTaskResponse;
import dev.berth.api.runtime.task.v2.DeleteRequest;
import dev.berth.api.runtime.task.v2.DeleteResponse;
import dev.berth.api.runtime.task.v2.ExecProcessRequest;
import dev.berth.api.runtime.task.v2.KillRequest;
import dev.berth.api.runtime.task.v2.PauseRequest;
import dev.berth.api.runtime.task.v2.PidsRequest;
import dev.berth.api.runtime.task.v2.PidsResponse;
import dev.berth.api.runtime.task.v2.ResizePtyRequest;
import dev.berth.api.runtime.task.v2.ResumeRequest;
import dev.berth.api.runtime.task.v2.ShutdownRequest;
import dev.berth.api.runtime.task.v2.StartRequest;
import dev.berth.api.runtime.task.v2.StartResponse;
import dev.berth.api.runtime.task.v2.StateRequest;
import dev.berth.api.runtime.task.v2.StateResponse;
import dev.berth.api.runtime.task.v2.StatsRequest;
import dev.berth.api.runtime.task.v2.StatsResponse;
import dev.berth.api.runtime.task.v2.UpdateTaskRequest;
import dev.berth.api.runtime.task.v2.WaitRequest;
import dev.berth.api.runtime.task.v2.WaitResponse;
import dev.berth.ttrpc.TtrpcClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A typed client of a shim's task service ({@code containerd.task.v2.Task}) over ttrpc. Every call carries the
 * namespace in the {@code containerd-namespace-ttrpc} metadata, as containerd's calls do, and is bounded by the
 * client's timeout, except {@link #await}, which lasts until the process exits. Failures are those of
 * {@link TtrpcClient#call}: the shim's errors arrive as Berth's error classes (e.g. {@code NotFoundException}
 * for an unknown exec id).
 */
public final class TaskClient implements AutoCloseable {

    /** The ttrpc service name of the shim v2 task API. */
    public static final String SERVICE = "containerd.task.v2.Task";
    /** The metadata key carrying the namespace over ttrpc. */
    public static final String NAMESPACE_KEY = "containerd-namespace-ttrpc";

    private final TtrpcClient client;
    private final Map<String, List<String>> metadata;
    private final Duration timeout;

    /**
     * @param client the connection to the shim, closed with this client
     * @param namespace the namespace of the shim's tasks
     * @param timeout the limit of each call but {@link #await}; null for none
     */
    public TaskClient(TtrpcClient client, String namespace, Duration timeout) {
        this.client = requireNonNull(client, "client is null");
        this.metadata = Map.of(NAMESPACE_KEY, List.of(requireNonNull(namespace, "namespace is null")));
        this.timeout = timeout;
    }

    /**
     * Connects to the shim at {@code address}, as a shim prints it on {@code start} and writes it to the
     * bundle's {@code address} file ({@code unix:///run/containerd/s/<hash>} or a bare path).
     */
    public static TaskClient connect(String address, String namespace, Duration timeout, Runnable onClose)
            throws IOException {
        return new TaskClient(TtrpcClient.connect(socketPath(address), onClose), namespace, timeout);
    }

    /** The socket path of a shim address: {@code unix://} stripped, as containerd's dialer does. */
    public static Path socketPath(String address) {
        requireNonNull(address, "address is null");
        String trimmed = address.strip();
        return Path.of(trimmed.startsWith("unix://") ? trimmed.substring("unix://".length()) : trimmed);
    }

    /** The state of the task or of one of its exec processes. */
    public StateResponse state(StateRequest request) {
        return client.call(SERVICE, "State", request, StateResponse.parser(), timeout, metadata);
    }

    /** Creates the task (the container's init process, not yet started) from the bundle. */
    public CreateTaskResponse create(CreateTaskRequest request) {
        return client.call(SERVICE, "Create", request, CreateTaskResponse.parser(), timeout, metadata);
    }

    /** Starts the task or one of its exec processes. */
    public StartResponse start(StartRequest request) {
        return client.call(SERVICE, "Start", request, StartResponse.parser(), timeout, metadata);
    }

    /** Deletes the stopped task or exec process and returns its exit. */
    public DeleteResponse delete(DeleteRequest request) {
        return client.call(SERVICE, "Delete", request, DeleteResponse.parser(), timeout, metadata);
    }

    /** The processes in the task's container. */
    public PidsResponse pids(PidsRequest request) {
        return client.call(SERVICE, "Pids", request, PidsResponse.parser(), timeout, metadata);
    }

    /** Freezes every process of the task. */
    public Empty pause(PauseRequest request) {
        return client.call(SERVICE, "Pause", request, Empty.parser(), timeout, metadata);
    }

    /** Thaws a paused task. */
    public Empty resume(ResumeRequest request) {
        return client.call(SERVICE, "Resume", request, Empty.parser(), timeout, metadata);
    }

    /** Checkpoints the task (with CRIU, for runc). */
    public Empty checkpoint(CheckpointTaskRequest request) {
        return client.call(SERVICE, "Checkpoint", request, Empty.parser(), timeout, metadata);
    }

    /** Signals the task or one of its exec processes. */
    public Empty kill(KillRequest request) {
        return client.call(SERVICE, "Kill", request, Empty.parser(), timeout, metadata);
    }

    /** Adds an exec process to the task; {@link #start} starts it. */
    public Empty exec(ExecProcessRequest request) {
        return client.call(SERVICE, "Exec", request, Empty.parser(), timeout, metadata);
    }

    /** Resizes the terminal of the task or of an exec process. */
    public Empty resizePty(ResizePtyRequest request) {
        return client.call(SERVICE, "ResizePty", request, Empty.parser(), timeout, metadata);
    }

    /** Closes the stdin of the task or of an exec process. */
    public Empty closeIO(CloseIORequest request) {
        return client.call(SERVICE, "CloseIO", request, Empty.parser(), timeout, metadata);
    }

    /** Updates the task's resources. */
    public Empty update(UpdateTaskRequest request) {
        return client.call(SERVICE, "Update", request, Empty.parser(), timeout, metadata);
    }

    /** Waits, without time limit, for the task or one of its exec processes to exit, and returns its exit. */
    public WaitResponse await(WaitRequest request) {
        return client.call(SERVICE, "Wait", request, WaitResponse.parser(), null, metadata);
    }

    /** The task's metrics (a cgroups metrics message in an Any). */
    public StatsResponse stats(StatsRequest request) {
        return client.call(SERVICE, "Stats", request, StatsResponse.parser(), timeout, metadata);
    }

    /** The shim's pid and the task's pid; the first call after (re)connecting to a shim. */
    public ConnectResponse connect(ConnectRequest request) {
        return client.call(SERVICE, "Connect", request, ConnectResponse.parser(), timeout, metadata);
    }

    /** Asks the shim to exit once it serves no task any more ({@code now} to exit at once); the connection then closes. */
    public Empty shutdown(ShutdownRequest request) {
        return client.call(SERVICE, "Shutdown", request, Empty.parser(), timeout, metadata);
    }

    /** True once the connection to the shim has ended. */
    public boolean isClosed() {
        return client.isClosed();
    }

    /** Closes the connection to the shim; the shim and its tasks keep running. */
    @Override
    public void close() {
        client.close();
    }
}
