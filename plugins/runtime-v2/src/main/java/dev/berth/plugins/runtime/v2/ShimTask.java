package dev.berth.plugins.runtime.v2;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.berth.api.runtime.task.v2.CloseIORequest;
import dev.berth.api.runtime.task.v2.ConnectRequest;
import dev.berth.api.runtime.task.v2.DeleteRequest;
import dev.berth.api.runtime.task.v2.DeleteResponse;
import dev.berth.api.runtime.task.v2.ExecProcessRequest;
import dev.berth.api.runtime.task.v2.KillRequest;
import dev.berth.api.runtime.task.v2.PauseRequest;
import dev.berth.api.runtime.task.v2.PidsRequest;
import dev.berth.api.runtime.task.v2.ResizePtyRequest;
import dev.berth.api.runtime.task.v2.ResumeRequest;
import dev.berth.api.runtime.task.v2.StartRequest;
import dev.berth.api.runtime.task.v2.StateRequest;
import dev.berth.api.runtime.task.v2.StatsRequest;
import dev.berth.api.runtime.task.v2.UpdateTaskRequest;
import dev.berth.api.runtime.task.v2.WaitRequest;
import dev.berth.api.runtime.task.v2.WaitResponse;
import dev.berth.plugin.metadata.Identifiers;
import dev.berth.plugin.runtime.ExecProcess;
import dev.berth.plugin.runtime.Exit;
import dev.berth.plugin.runtime.IO;
import dev.berth.plugin.runtime.ProcessInfo;
import dev.berth.plugin.runtime.ProcessState;
import dev.berth.plugin.runtime.Task;
import dev.berth.plugin.runtime.TypedValue;
import dev.berth.ttrpc.TtrpcClient;
import dev.berth.ttrpc.shim.TaskClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A task served by its own shim, as containerd's {@code shimTask}: every call goes over the shim's ttrpc
 * connection. The manager owns the shim's lifecycle (start, delete, cleanup after it dies).
 */
final class ShimTask implements Task {
    /** The type URL the shim decodes an exec's process spec by: containerd's typeurl name of {@code specs.Process}. */
    static final String PROCESS_SPEC_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/Process";

    private final Bundle bundle;
    private final ShimBinary binary;
    private final TtrpcClient connection;
    private final TaskClient client;
    private final ShimLog log;
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile int pid;

    ShimTask(Bundle bundle, ShimBinary binary, TtrpcClient connection, ShimLog log) {
        this.bundle = requireNonNull(bundle, "bundle is null");
        this.binary = requireNonNull(binary, "binary is null");
        this.connection = requireNonNull(connection, "connection is null");
        // calls last as long as the shim takes, as containerd's (a request's own deadline is the caller's)
        this.client = new TaskClient(connection, bundle.namespace(), null);
        this.log = requireNonNull(log, "log is null");
    }

    Bundle bundle() {
        return bundle;
    }

    ShimBinary binary() {
        return binary;
    }

    TaskClient client() {
        return client;
    }

    /** A client of the same connection whose calls fail after {@code timeout}. */
    TaskClient client(Duration timeout) {
        return new TaskClient(connection, bundle.namespace(), timeout);
    }

    void pid(int pid) {
        this.pid = pid;
    }

    /**
     * Marks the shim as let go by the manager (deleted, or left running at shutdown), so that the end of its
     * connection is not taken for its death; true for the first caller only.
     */
    boolean release() {
        return released.compareAndSet(false, true);
    }

    /** Closes the connection and the log copy; the shim itself keeps running. */
    void disconnect() {
        client.close();
        log.close();
    }

    /** The task's pid as the shim knows it, within {@code timeout}; the first call after a restart. */
    int connect(Duration timeout) {
        return client(timeout).connect(ConnectRequest.newBuilder().setId(bundle.id()).build()).getTaskPid();
    }

    /** True once the connection to the shim has ended. */
    boolean isClosed() {
        return connection.isClosed();
    }

    @Override
    public String id() {
        return bundle.id();
    }

    @Override
    public String namespace() {
        return bundle.namespace();
    }

    @Override
    public int pid() {
        return pid;
    }

    @Override
    public ProcessState state() {
        return Protos.state(client.state(StateRequest.newBuilder().setId(id()).build()));
    }

    @Override
    public int start() {
        int started = client.start(StartRequest.newBuilder().setId(id()).build()).getPid();
        pid = started;
        return started;
    }

    @Override
    public void kill(int signal, boolean all) {
        client.kill(KillRequest.newBuilder().setId(id()).setSignal(signal).setAll(all).build());
    }

    @Override
    public void resizePty(int width, int height) {
        client.resizePty(ResizePtyRequest.newBuilder().setId(id()).setWidth(width).setHeight(height).build());
    }

    @Override
    public void closeIO() {
        client.closeIO(CloseIORequest.newBuilder().setId(id()).setStdin(true).build());
    }

    @Override
    public Exit await() {
        WaitResponse exit = client.await(WaitRequest.newBuilder().setId(id()).build());
        return new Exit(pid, exit.getExitStatus(), Protos.instant(exit.getExitedAt()));
    }

    @Override
    public void pause() {
        client.pause(PauseRequest.newBuilder().setId(id()).build());
    }

    @Override
    public void resume() {
        client.resume(ResumeRequest.newBuilder().setId(id()).build());
    }

    @Override
    public ExecProcess exec(String execId, byte[] processSpec, IO io) {
        Identifiers.validate(execId);
        requireNonNull(processSpec, "processSpec is null");
        requireNonNull(io, "io is null");
        client.exec(ExecProcessRequest.newBuilder()
                .setId(id())
                .setExecId(execId)
                .setStdin(io.stdin())
                .setStdout(io.stdout())
                .setStderr(io.stderr())
                .setTerminal(io.terminal())
                .setSpec(Any.newBuilder().setTypeUrl(PROCESS_SPEC_TYPE).setValue(ByteString.copyFrom(processSpec)))
                .build());
        return new Exec(execId);
    }

    @Override
    public ExecProcess process(String execId) {
        Exec process = new Exec(requireNonNull(execId, "execId is null"));
        // as containerd: the shim says whether the process exists
        process.state();
        return process;
    }

    @Override
    public List<ProcessInfo> pids() {
        return client.pids(PidsRequest.newBuilder().setId(id()).build()).getProcessesList().stream()
                .map(p -> new ProcessInfo(p.getPid(), p.hasInfo() ? Optional.of(Protos.typed(p.getInfo())) : Optional.empty()))
                .toList();
    }

    @Override
    public void update(TypedValue resources, Map<String, String> annotations) {
        client.update(UpdateTaskRequest.newBuilder()
                .setId(id())
                .setResources(Protos.any(requireNonNull(resources, "resources is null")))
                .putAllAnnotations(requireNonNull(annotations, "annotations is null"))
                .build());
    }

    @Override
    public TypedValue stats() {
        return Protos.typed(client.stats(StatsRequest.newBuilder().setId(id()).build()).getStats());
    }

    @Override
    public String toString() {
        return "task " + namespace() + "/" + id();
    }

    /** An exec process of this task, as containerd's {@code process}: each call names it by its exec id. */
    private final class Exec implements ExecProcess {
        private final String execId;

        Exec(String execId) {
            this.execId = execId;
        }

        @Override
        public String id() {
            return execId;
        }

        @Override
        public ProcessState state() {
            return Protos.state(client.state(StateRequest.newBuilder().setId(ShimTask.this.id()).setExecId(execId).build()));
        }

        @Override
        public int start() {
            return client.start(StartRequest.newBuilder().setId(ShimTask.this.id()).setExecId(execId).build()).getPid();
        }

        @Override
        public void kill(int signal, boolean all) {
            client.kill(KillRequest.newBuilder().setId(ShimTask.this.id()).setExecId(execId).setSignal(signal)
                    .setAll(all).build());
        }

        @Override
        public void resizePty(int width, int height) {
            client.resizePty(ResizePtyRequest.newBuilder().setId(ShimTask.this.id()).setExecId(execId)
                    .setWidth(width).setHeight(height).build());
        }

        @Override
        public void closeIO() {
            client.closeIO(CloseIORequest.newBuilder().setId(ShimTask.this.id()).setExecId(execId).setStdin(true).build());
        }

        @Override
        public Exit await() {
            int execPid = state().pid();
            WaitResponse exit = client.await(WaitRequest.newBuilder().setId(ShimTask.this.id()).setExecId(execId).build());
            return new Exit(execPid, exit.getExitStatus(), Protos.instant(exit.getExitedAt()));
        }

        @Override
        public Exit delete() {
            DeleteResponse deleted = client.delete(DeleteRequest.newBuilder().setId(ShimTask.this.id()).setExecId(execId).build());
            return new Exit(deleted.getPid(), deleted.getExitStatus(), Protos.instant(deleted.getExitedAt()));
        }

        @Override
        public String toString() {
            return "exec " + execId + " of " + ShimTask.this;
        }
    }
}
