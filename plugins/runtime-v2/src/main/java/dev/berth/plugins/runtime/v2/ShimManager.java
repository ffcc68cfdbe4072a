package dev.berth.plugins.runtime.v2;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.api.events.TaskDelete;
import dev.berth.api.events.TaskExit;
import dev.berth.api.runtime.runc.options.Options;
import dev.berth.api.runtime.task.v2.CreateTaskRequest;
import dev.berth.api.runtime.task.v2.DeleteRequest;
import dev.berth.api.runtime.task.v2.DeleteResponse;
import dev.berth.api.runtime.task.v2.ShutdownRequest;
import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.UnavailableException;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.Publisher;
import dev.berth.plugin.metadata.Identifiers;
import dev.berth.plugin.runtime.CreateOptions;
import dev.berth.plugin.runtime.Exit;
import dev.berth.plugin.runtime.PlatformRuntime;
import dev.berth.plugin.runtime.RuntimeTypes;
import dev.berth.plugin.runtime.Task;
import dev.berth.plugin.runtime.TypedValue;
import dev.berth.ttrpc.TtrpcClient;
import dev.berth.ttrpc.TtrpcException;
import dev.berth.ttrpc.shim.TaskClient;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shim v2 runtime, after containerd's {@code runtime/v2} task manager: one shim process per task, started from
 * the binary its runtime name resolves to, driven over ttrpc, with the bundle of each task under the state
 * directory. The shims are the parents of the containers and outlive this object: {@link #close()} only lets go of
 * them, and a new instance on the same state directory reconnects to those alive and cleans up after those dead.
 * When a shim's connection drops while its task is listed, the shim's {@code delete} command cleans up and the
 * task's exit is published, as containerd does.
 */
final class ShimManager implements PlatformRuntime, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShimManager.class);
    /** The type URL of runc's options as containerd's clients send them, without any prefix. */
    static final String RUNC_OPTIONS_TYPE = "containerd.runc.v1.Options";
    /**
     * runc's state directory when the config names none, in the runtime's state directory: not
     * containerd's {@code /run/containerd/runc}, where a containerd on the same host keeps its own
     * containers' state, so that neither daemon's runc acts on the other's container of the same
     * namespace and id. A namespace cannot start with a dot, so no bundle directory takes the name.
     */
    static final String RUNC_ROOT = ".runc";
    private static final int UNKNOWN_EXIT_STATUS = 255;

    private record Key(String namespace, String id) {}

    private final Path state;
    private final RuntimeConfig config;
    private final Publisher events;
    private final String address;
    private final String ttrpcAddress;
    private final ConcurrentHashMap<Key, ShimTask> tasks = new ConcurrentHashMap<>();
    /** Ids being created, so that two creates of one id cannot both start a shim. */
    private final Set<Key> creating = ConcurrentHashMap.newKeySet();

    /**
     * Opens the runtime on {@code state}, reconnecting to the shims of the bundles found there.
     *
     * @param address      the daemon's gRPC socket, passed to shims as {@code -address}
     * @param ttrpcAddress the daemon's ttrpc socket, where shims forward their events
     */
    ShimManager(Path state, RuntimeConfig config, Publisher events, String address, String ttrpcAddress)
            throws IOException {
        this.state = Files.createDirectories(requireNonNull(state, "state is null"));
        this.config = requireNonNull(config, "config is null");
        this.events = requireNonNull(events, "events is null");
        this.address = requireNonNull(address, "address is null");
        this.ttrpcAddress = requireNonNull(ttrpcAddress, "ttrpcAddress is null");
        loadExistingTasks();
    }

    @Override
    public String id() {
        return RuntimeTypes.RUNTIME.uri() + ".task";
    }

    @Override
    public Task create(String namespace, String taskId, CreateOptions options) {
        Key key = new Key(Identifiers.validate(namespace), Identifiers.validate(taskId));
        requireNonNull(options, "options is null");
        if (tasks.containsKey(key) || !creating.add(key)) {
            throw new AlreadyExistsException("task " + namespace + "/" + taskId + " already exists");
        }
        try {
            if (tasks.containsKey(key)) {
                throw new AlreadyExistsException("task " + namespace + "/" + taskId + " already exists");
            }
            ShimTask task = start(key, options);
            tasks.put(key, task);
            return task;
        } finally {
            creating.remove(key);
        }
    }

    private ShimTask start(Key key, CreateOptions options) {
        ResolvedRuntime runtime = resolve(options.runtimeName());
        Optional<Any> shimOptions = runtime.options(options.effectiveOptions());
        Bundle bundle;
        try {
            bundle = Bundle.create(state, key.namespace(), key.id(), options.spec());
        } catch (IOException e) {
            throw new UncheckedIOException("create bundle of " + key.namespace() + "/" + key.id(), e);
        }
        ShimBinary binary = binary(runtime.shim(), bundle);
        ShimLog shimLog = null;
        ShimTask task = null;
        try {
            shimLog = ShimLog.open(bundle.log(), key.namespace() + "/" + key.id());
            String shimAddress = binary.start(shimOptions, log.isDebugEnabled());
            Files.writeString(bundle.binaryFile(), runtime.shim().toString());
            task = connect(bundle, binary, shimAddress, shimLog);
            CreateTaskRequest.Builder request = CreateTaskRequest.newBuilder()
                    .setId(key.id())
                    .setBundle(bundle.path().toString())
                    .setStdin(options.io().stdin())
                    .setStdout(options.io().stdout())
                    .setStderr(options.io().stderr())
                    .setTerminal(options.io().terminal());
            options.rootfs().forEach(mount -> request.addRootfs(Protos.mount(mount)));
            shimOptions.ifPresent(request::setOptions);
            try {
                task.pid(task.client().create(request.build()).getPid());
            } catch (TtrpcException e) {
                // containerd's words; a Berth class (not found, …) passes as it is
                TtrpcException failed = new TtrpcException(e.code(), "failed to create shim task: " + e.statusMessage());
                failed.initCause(e);
                throw failed;
            }
            return task;
        } catch (IOException | RuntimeException e) {
            abandon(bundle, task, shimLog, e);
            if (e instanceof IOException io) {
                throw new UncheckedIOException("start shim for " + key.namespace() + "/" + key.id(), io);
            }
            throw (RuntimeException) e;
        }
    }

    /** Undoes a create that failed half-way: the shim (asked to delete and shut down) and the bundle. */
    private void abandon(Bundle bundle, ShimTask task, ShimLog shimLog, Exception failure) {
        try {
            if (task != null) {
                task.release();
                try {
                    task.client().delete(DeleteRequest.newBuilder().setId(bundle.id()).build());
                } catch (RuntimeException e) {
                    log.debug("delete of the failed task {}/{}", bundle.namespace(), bundle.id(), e);
                }
                shutdown(task);
                task.disconnect();
            } else if (shimLog != null) {
                shimLog.close();
            }
            bundle.delete();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    @Override
    public Task get(String namespace, String taskId) {
        ShimTask task = tasks.get(new Key(namespace, taskId));
        if (task == null) {
            throw new NotFoundException("task " + namespace + "/" + taskId + ": not found");
        }
        return task;
    }

    /** A lookup in the map of live tasks. */
    @Override
    public boolean nonBlockingGet() {
        return true;
    }

    @Override
    public List<Task> tasks(String namespace) {
        requireNonNull(namespace, "namespace is null");
        List<Task> list = new ArrayList<>();
        tasks.forEach((key, task) -> {
            if (key.namespace().equals(namespace)) {
                list.add(task);
            }
        });
        return List.copyOf(list);
    }

    /**
     * Deletes the task through its shim, then shuts the shim down and removes the bundle, as containerd's
     * {@code shimTask.delete}. A shim that is already gone or no longer knows the task does not stop the cleanup;
     * any other refusal (e.g. a running task) leaves everything in place.
     */
    @Override
    public Exit delete(String namespace, String taskId) {
        Key key = new Key(namespace, taskId);
        ShimTask task = (ShimTask) get(namespace, taskId);
        DeleteResponse response = null;
        BerthException shimError = null;
        try {
            response = task.client().delete(DeleteRequest.newBuilder().setId(taskId).build());
        } catch (UnavailableException | NotFoundException e) {
            shimError = e;
        }
        if (!tasks.remove(key, task) || !task.release()) {
            // the shim died meanwhile and its cleanup has taken the task
            throw shimError != null ? shimError : new NotFoundException("task " + namespace + "/" + taskId + ": not found");
        }
        shutdown(task);
        task.disconnect();
        try {
            task.bundle().delete();
        } catch (RuntimeException e) {
            log.error("delete bundle of {}", task, e);
        }
        if (shimError != null) {
            throw shimError;
        }
        return new Exit(response.getPid(), response.getExitStatus(), Protos.instant(response.getExitedAt()));
    }

    private void shutdown(ShimTask task) {
        try {
            task.client(config.shutdownTimeout()).shutdown(ShutdownRequest.newBuilder().setId(task.id()).build());
        } catch (UnavailableException e) {
            // the shim exits as it answers, which may close the connection first
        } catch (RuntimeException e) {
            log.warn("shut down the shim of {}", task, e);
        }
    }

    /** Lets go of every shim without stopping it: the containers keep running for the next instance. */
    @Override
    public void close() {
        for (ShimTask task : tasks.values()) {
            if (task.release()) {
                task.disconnect();
            }
        }
        tasks.clear();
    }

    // ---- shims and their connections

    private ShimBinary binary(Path shim, Bundle bundle) {
        return new ShimBinary(shim, bundle, address, ttrpcAddress, config.publishBinary(), config.schedCore());
    }

    /**
     * Connects to the shim at {@code shimAddress}. A drop of the connection that the manager did not cause (by
     * deleting the task or closing) is the shim's death, cleaned up after at once.
     */
    private ShimTask connect(Bundle bundle, ShimBinary binary, String shimAddress, ShimLog shimLog) throws IOException {
        AtomicReference<ShimTask> connected = new AtomicReference<>();
        TtrpcClient client = TtrpcClient.connect(TaskClient.socketPath(shimAddress), () -> {
            ShimTask task = connected.get();
            if (task != null) {
                disconnected(task);
            }
        });
        ShimTask task = new ShimTask(bundle, binary, client, shimLog);
        connected.set(task);
        if (client.isClosed()) {
            // dropped before the callback could see the task
            disconnected(task);
        }
        return task;
    }

    private void disconnected(ShimTask task) {
        if (!task.release()) {
            return;
        }
        log.warn("shim of {} disconnected; cleaning up", task);
        task.disconnect();
        cleanupAfterDeadShim(task.bundle(), task.binary(), tasks.remove(new Key(task.namespace(), task.id()), task));
    }

    /**
     * containerd's {@code cleanupAfterDeadShim}: the shim's {@code delete} command kills what is left of the
     * container, then the bundle and the shim's socket go; if the task was listed, its exit is published as {@code /tasks/exit} and
     * {@code /tasks/delete} (status 255 when the command could not tell).
     */
    private void cleanupAfterDeadShim(Bundle bundle, ShimBinary binary, boolean publish) {
        Exit exit;
        try {
            DeleteResponse response = binary.delete(config.cleanupTimeout());
            exit = new Exit(response.getPid(), response.getExitStatus(), Protos.instant(response.getExitedAt()));
        } catch (IOException | RuntimeException e) {
            log.warn("clean up after the shim of {}/{}", bundle.namespace(), bundle.id(), e);
            exit = new Exit(0, UNKNOWN_EXIT_STATUS, Instant.now());
        }
        Optional<Path> socket = socketOf(bundle);
        try {
            bundle.delete();
        } catch (RuntimeException e) {
            log.error("delete bundle {}", bundle.path(), e);
        }
        // a killed shim leaves its socket behind; nothing will listen on it again
        socket.ifPresent(path -> {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                log.debug("remove socket {} of a dead shim", path, e);
            }
        });
        if (publish) {
            publishExit(bundle, exit);
        }
    }

    private static Optional<Path> socketOf(Bundle bundle) {
        try {
            return Optional.of(TaskClient.socketPath(Files.readString(bundle.addressFile())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private void publishExit(Bundle bundle, Exit exit) {
        TaskExit taskExit = TaskExit.newBuilder()
                .setContainerId(bundle.id())
                .setId(bundle.id())
                .setPid(exit.pid())
                .setExitStatus(exit.status())
                .setExitedAt(Protos.timestamp(exit.exitedAt()))
                .build();
        TaskDelete taskDelete = TaskDelete.newBuilder()
                .setContainerId(bundle.id())
                .setPid(exit.pid())
                .setExitStatus(exit.status())
                .setExitedAt(Protos.timestamp(exit.exitedAt()))
                .build();
        // the payloads go out as containerd encodes them; the exchange passes them through as they are
        events.publish(bundle.namespace(), RuntimeTypes.TASK_EXIT,
                new Event.Opaque("containerd.events.TaskExit", taskExit.toByteArray()));
        events.publish(bundle.namespace(), RuntimeTypes.TASK_DELETE,
                new Event.Opaque("containerd.events.TaskDelete", taskDelete.toByteArray()));
    }

    // ---- restart

    /**
     * containerd's {@code loadExistingTasks}: every bundle under {@code <state>/<namespace>/} belongs to a shim
     * started before; a live one is reconnected and its task listed again, a dead one cleaned up after with its
     * exit published. Names starting with a dot are bundles being deleted.
     */
    private void loadExistingTasks() throws IOException {
        for (Path namespaceDir : directories(state)) {
            for (Path bundleDir : directories(namespaceDir)) {
                Bundle bundle = new Bundle(namespaceDir.getFileName().toString(), bundleDir.getFileName().toString(), bundleDir);
                try {
                    load(bundle);
                } catch (RuntimeException | IOException e) {
                    log.error("load task {}/{}", bundle.namespace(), bundle.id(), e);
                }
            }
        }
    }

    private void load(Bundle bundle) throws IOException {
        String shim;
        try {
            shim = Files.readString(bundle.binaryFile()).strip();
        } catch (NoSuchFileException e) {
            // the daemon stopped before the shim started: nothing runs, nothing to report
            log.info("removing bundle {} of a task that never started", bundle.path());
            bundle.delete();
            return;
        }
        ShimBinary binary = binary(Path.of(shim), bundle);
        ShimLog shimLog = null;
        ShimTask task = null;
        try {
            String shimAddress = Files.readString(bundle.addressFile()).strip();
            shimLog = ShimLog.open(bundle.log(), bundle.namespace() + "/" + bundle.id());
            task = connect(bundle, binary, shimAddress, shimLog);
            int pid = task.connect(config.loadTimeout());
            task.pid(pid);
            tasks.put(new Key(bundle.namespace(), bundle.id()), task);
            log.info("reconnected to the shim of {} (pid {})", task, pid);
        } catch (IOException | RuntimeException e) {
            log.warn("shim of {}/{} is gone ({}); cleaning up", bundle.namespace(), bundle.id(), e.toString());
            if (task != null) {
                if (!task.release()) {
                    return; // the connection dropped and its callback cleans up
                }
                task.disconnect();
            } else if (shimLog != null) {
                shimLog.close();
            }
            cleanupAfterDeadShim(bundle, binary, true);
        }
    }

    private static List<Path> directories(Path parent) throws IOException {
        try (Stream<Path> children = Files.list(parent)) {
            return children.filter(Files::isDirectory)
                    .filter(path -> !path.getFileName().toString().startsWith("."))
                    .sorted()
                    .toList();
        }
    }

    // ---- runtime names

    /** A runtime name resolved: the shim to start and the options its tasks start from. */
    record ResolvedRuntime(Path shim, Optional<Options> defaults) {
        /**
         * The options the shim gets: the given ones, with runc options laid over the configured defaults (fields
         * they set win), or the defaults alone when none are given.
         */
        Optional<Any> options(Optional<TypedValue> given) {
            if (given.isEmpty()) {
                return defaults.map(options -> Any.newBuilder().setTypeUrl(RUNC_OPTIONS_TYPE)
                        .setValue(options.toByteString()).build());
            }
            TypedValue value = given.get();
            if (defaults.isEmpty() || !isRuncOptions(value.typeUrl())) {
                return Optional.of(Protos.any(value));
            }
            try {
                Options merged = defaults.get().toBuilder().mergeFrom(value.value()).build();
                return Optional.of(Any.newBuilder().setTypeUrl(value.typeUrl()).setValue(merged.toByteString()).build());
            } catch (InvalidProtocolBufferException e) {
                throw new InvalidArgumentException("runtime options of type " + value.typeUrl() + ": " + e.getMessage());
            }
        }

        private static boolean isRuncOptions(String typeUrl) {
            return typeUrl.equals(RUNC_OPTIONS_TYPE) || typeUrl.endsWith("/" + RUNC_OPTIONS_TYPE);
        }
    }

    /**
     * containerd's {@code resolveRuntimePath}: an absolute path is the shim itself; a configured name runs its
     * configured shim; any other {@code a.b.<name>.<version>} runs {@code containerd-shim-<name>-<version>} from
     * {@code PATH}.
     */
    ResolvedRuntime resolve(String runtimeName) {
        if (runtimeName == null || runtimeName.isEmpty()) {
            throw new InvalidArgumentException("no runtime name");
        }
        RuntimeConfig.ShimConfig configured = config.runtimes().get(runtimeName);
        Optional<Options> defaults = Optional.ofNullable(configured)
                .flatMap(RuntimeConfig.ShimConfig::runcOptions)
                .map(RuntimeConfig.RuncOptions::toProto)
                .map(options -> options.getRoot().isEmpty()
                        ? options.toBuilder().setRoot(state.resolve(RUNC_ROOT).toString()).build()
                        : options);
        String shim;
        if (runtimeName.startsWith("/")) {
            shim = runtimeName;
        } else if (configured != null && configured.shim().isPresent()) {
            shim = configured.shim().get();
        } else {
            String[] parts = runtimeName.split("\\.");
            if (parts.length < 2) {
                throw new InvalidArgumentException("invalid runtime name " + runtimeName
                        + ", correct runtime name should be either format like `io.containerd.runc.v1` or a full path to the binary");
            }
            shim = "containerd-shim-" + parts[parts.length - 2] + "-" + parts[parts.length - 1];
        }
        return new ResolvedRuntime(lookPath(runtimeName, shim), defaults);
    }

    private static Path lookPath(String runtimeName, String shim) {
        if (shim.contains("/")) {
            Path path = Path.of(shim).toAbsolutePath();
            if (!Files.isExecutable(path)) {
                throw new NotFoundException("runtime " + runtimeName + ": shim " + path + " is not an executable file");
            }
            return path;
        }
        String pathVariable = Optional.ofNullable(System.getenv("PATH")).orElse("/usr/local/bin:/usr/bin:/bin");
        for (String dir : pathVariable.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, shim);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toAbsolutePath();
            }
        }
        throw new NotFoundException("runtime \"" + runtimeName + "\" binary not installed \"" + shim + "\"");
    }
}
