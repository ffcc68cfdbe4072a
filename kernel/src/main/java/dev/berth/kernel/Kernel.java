package dev.berth.kernel;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.berth.config.ConfigProblem;
import dev.berth.config.ConfigProblems;
import dev.berth.config.ConfigSources;
import dev.berth.config.ConfigValidationException;
import dev.berth.config.RecordBinder;
import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.Dependency;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.PluginInfo;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.PluginStatus;
import dev.berth.plugin.PluginType;
import dev.berth.plugin.Registration;
import dev.berth.plugin.SkipPluginException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plugin kernel: discovers registrations (built-ins on the class path, PF4J jars in the plugin
 * directories), binds each plugin's config section, resolves the whole dependency graph before
 * anything initialises, initialises in dependency order, and closes in reverse. It knows nothing of
 * transports, storage or the command line.
 *
 * <p>All state changes happen under one lock; introspection reads snapshots.
 */
public final class Kernel implements AutoCloseable {
    /** The type under which a jar that cannot be opened is shown, with the reason as its error. */
    public static final String JAR_TYPE = "io.berth.jar.v1";

    private static final Logger log = LoggerFactory.getLogger(Kernel.class);

    private final KernelOptions options;
    private final ReentrantLock lock = new ReentrantLock();
    private final List<PluginNode> nodes = new ArrayList<>();
    private final Set<PluginNode> duplicates = new LinkedHashSet<>();
    private final List<PluginNode> initialised = new ArrayList<>();
    private final Map<Path, PluginJar> jars = new LinkedHashMap<>();
    private final Map<String, Class<? extends Record>> sections = new LinkedHashMap<>();
    private final List<ConfigProblem> configProblems = new ArrayList<>();
    private final List<KernelListener> listeners = new CopyOnWriteArrayList<>();
    private final Config builtinReference;
    private Config reference;
    private State state = State.PREPARED;
    private PluginDirWatcher watcher;

    /** The kernel's lifecycle; transitions happen in one place, {@link #transition}. */
    private enum State { PREPARED, STARTED, CLOSED }

    private Kernel(KernelOptions options) {
        this.options = requireNonNull(options, "options is null");
        this.builtinReference = ConfigSources.references(options.builtinLoader());
        this.reference = builtinReference;
    }

    /**
     * Discovers every plugin, binds its config and resolves the graph; nothing is initialised. Bad
     * plugins and bad config never throw here: they are reported by {@link #plugins()} and
     * {@link #configProblems()}.
     */
    public static Kernel prepare(KernelOptions options) {
        Kernel kernel = new Kernel(options);
        kernel.discover();
        return kernel;
    }

    private void discover() {
        List<PluginNode> found = new ArrayList<>();
        Iterator<PluginProvider> providers = ServiceLoader.load(PluginProvider.class, options.builtinLoader()).iterator();
        while (true) {
            PluginProvider provider;
            try {
                if (!providers.hasNext()) {
                    break;
                }
                provider = providers.next();
            } catch (ServiceConfigurationError e) {
                found.add(new PluginNode("io.berth.provider.v1", "built-in", PluginInfo.BUILT_IN,
                        "cannot load a built-in plugin provider: " + PluginJar.describe(e)));
                continue;
            }
            for (Registration<?> registration : provider.registrations()) {
                found.add(new PluginNode(registration, options.builtinLoader(), PluginInfo.BUILT_IN));
            }
        }
        for (Path jar : jarsIn(options.pluginDirs())) {
            found.addAll(open(jar));
        }
        List<PluginNode> admitted = admit(found);
        bindConfig(admitted, true);
        nodes.addAll(Resolver.resolve(providersWith(admitted), admitted));
    }

    private static List<Path> jarsIn(List<Path> dirs) {
        List<Path> found = new ArrayList<>();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(PluginDirWatcher::isJar).sorted().forEach(found::add);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list plugin directory " + dir, e);
            }
        }
        return found;
    }

    /** Opens a jar; returns its plugins, or one node that says why the jar cannot be used. */
    private List<PluginNode> open(Path path) {
        PluginJar.Result result = PluginJar.open(path, options.builtinLoader());
        if (result.failure().isPresent()) {
            PluginJar.Failure failure = result.failure().get();
            log.warn("{}", failure.message());
            return List.of(new PluginNode(JAR_TYPE, failure.pluginId(), failure.path().toString(), failure.message()));
        }
        PluginJar jar = result.jar().orElseThrow();
        jars.put(jar.path(), jar);
        reference = reference.withFallback(jar.reference());
        List<PluginNode> found = new ArrayList<>();
        for (Registration<?> registration : jar.registrations()) {
            found.add(new PluginNode(registration, jar.loader(), jar.path().toString()));
        }
        return found;
    }

    /** Drops disabled plugins and fails duplicates of an existing {@code type.id}. */
    private List<PluginNode> admit(List<PluginNode> found) {
        Map<String, PluginNode> known = new LinkedHashMap<>();
        for (PluginNode node : providers()) {
            known.put(node.uri(), node);
        }
        List<PluginNode> admitted = new ArrayList<>();
        for (PluginNode node : found) {
            if (node.registration().isPresent() && options.disabledPlugins().contains(node.uri())) {
                log.info("plugin {} is disabled", node.uri());
                continue;
            }
            PluginNode existing = known.putIfAbsent(node.uri(), node);
            if (existing != null && node.registration().isPresent()) {
                node.fail("duplicate plugin " + node.uri() + ": already registered by " + existing.origin());
                duplicates.add(node);
            }
            admitted.add(node);
        }
        return admitted;
    }

    private List<PluginNode> providers() {
        return nodes.stream().filter(node -> !duplicates.contains(node)).toList();
    }

    /** The plugins that may satisfy dependencies once {@code admitted} joins the kernel. */
    private List<PluginNode> providersWith(List<PluginNode> admitted) {
        return Stream.concat(nodes.stream(), admitted.stream()).filter(node -> !duplicates.contains(node)).toList();
    }

    /** Binds each plugin's section strictly; a plugin whose config is invalid fails with the reason. */
    private void bindConfig(List<PluginNode> admitted, boolean checkSections) {
        Config effective;
        try {
            effective = ConfigSources.effective(options.userConfig(), reference);
        } catch (ConfigValidationException e) {
            configProblems.addAll(e.problems());
            for (PluginNode node : admitted) {
                node.fail("config: " + e.problems().getFirst().format());
            }
            return;
        }
        Set<String> known = new LinkedHashSet<>(options.disabledPlugins());
        for (PluginNode node : Stream.concat(nodes.stream(), admitted.stream()).toList()) {
            if (node.registration().isPresent()) {
                known.add(node.uri());
            }
        }
        if (checkSections && effective.hasPath("plugins")) {
            ConfigProblems problems = new ConfigProblems();
            RecordBinder.checkKeys(effective, "plugins", known, "plugin", problems);
            configProblems.addAll(problems.list());
        }
        for (PluginNode node : admitted) {
            Registration<?> registration = node.registration().orElse(null);
            if (registration == null || duplicates.contains(node)) {
                continue;
            }
            String path = "plugins.\"" + node.uri() + "\"";
            sections.put(path, registration.configType());
            Config source = effective.hasPath(path)
                    ? effective
                    : effective.withValue(path, ConfigValueFactory.fromMap(Map.of()));
            ConfigProblems problems = new ConfigProblems();
            Record config;
            try {
                config = RecordBinder.bind(source, path, registration.configType(), problems);
            } catch (IllegalArgumentException e) {
                // the plugin's config record itself is unusable: the author's mistake, not the user's
                node.fail("config record " + registration.configType().getName() + " cannot be bound: " + e.getMessage());
                continue;
            }
            if (!problems.isEmpty() || config == null) {
                configProblems.addAll(problems.list());
                node.fail("invalid config: " + problems.list().stream()
                        .map(ConfigProblem::format).collect(Collectors.joining("; ")));
            } else {
                node.config(config);
            }
        }
    }

    /** Every config problem found in plugin sections, with file and line. */
    public List<ConfigProblem> configProblems() {
        return locked(() -> List.copyOf(configProblems));
    }

    /** The merged defaults of every discovered plugin, unresolved. */
    public Config referenceConfig() {
        return locked(() -> reference);
    }

    /** Each plugin's section path ({@code plugins."type.id"}) and the record it binds to. */
    public Map<String, Class<? extends Record>> configSections() {
        return locked(() -> Map.copyOf(sections));
    }

    /**
     * Initialises every resolved plugin in dependency order. A plugin that throws is {@code error}
     * and its dependents carry the cause; one that asks to be skipped is {@code skip}.
     *
     * @throws RequiredPluginException when a plugin in {@code required-plugins} is not {@code ok}
     */
    public void start() throws RequiredPluginException {
        List<Runnable> events = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        lock.lock();
        try {
            transition(State.PREPARED, State.STARTED);
            for (PluginNode node : nodes) {
                initialise(node, events);
            }
            for (String uri : options.requiredPlugins()) {
                PluginNode node = nodes.stream().filter(n -> n.uri().equals(uri)).findFirst().orElse(null);
                if (node == null) {
                    failures.add("required plugin " + uri + " is not registered");
                } else if (node.status() != PluginStatus.OK) {
                    failures.add("required plugin " + uri + " is " + node.status().name().toLowerCase()
                            + ": " + node.error());
                }
            }
        } finally {
            lock.unlock();
        }
        events.forEach(Runnable::run);
        if (!failures.isEmpty()) {
            throw new RequiredPluginException(failures);
        }
    }

    private void transition(State from, State to) {
        if (state != from) {
            throw new IllegalStateException("kernel is " + state.name().toLowerCase() + ", expected "
                    + from.name().toLowerCase());
        }
        state = to;
    }

    private void initialise(PluginNode node, List<Runnable> events) {
        if (node.status() != PluginStatus.PENDING) {
            return;
        }
        Registration<?> registration = node.registration().orElseThrow();
        for (Map.Entry<Dependency<?>, List<PluginNode>> entry : node.resolved().entrySet()) {
            boolean mandatory = entry.getKey() instanceof Dependency.One<?> || entry.getKey() instanceof Dependency.Named<?>;
            for (PluginNode dependency : entry.getValue()) {
                if (mandatory && dependency.status() != PluginStatus.OK) {
                    node.fail("dependency " + dependency.uri() + " is " + dependency.status().name().toLowerCase()
                            + ": " + dependency.error());
                    log.warn("plugin {} not initialised: {}", node.uri(), node.error());
                    return;
                }
            }
        }
        NodeContext context = new NodeContext(node, options.daemon(), this::plugins);
        long started = System.nanoTime();
        Object instance;
        try {
            instance = ContextLoaders.call(node.loader(), () -> registration.init().init(context));
        } catch (SkipPluginException e) {
            node.skip(e.getMessage());
            log.info("plugin {} skipped: {}", node.uri(), e.getMessage());
            return;
        } catch (Exception | LinkageError e) {
            node.fail(PluginJar.describe(e));
            log.warn("plugin {} failed to initialise", node.uri(), e);
            return;
        }
        Class<?> contract = registration.type().contract();
        if (instance == null || !contract.isInstance(instance)) {
            node.fail("init returned " + (instance == null ? "null" : instance.getClass().getName())
                    + ", not a " + contract.getName());
            return;
        }
        Object exposed = ContextLoaders.expose(contract, instance, node.loader(), options.builtinLoader());
        node.started(instance, exposed);
        initialised.add(node);
        log.debug("plugin {} initialised in {} us", node.uri(), (System.nanoTime() - started) / 1000);
        PluginInfo info = node.info();
        for (KernelListener listener : listeners) {
            events.add(() -> notify(() -> listener.started(info, exposed), info));
        }
    }

    private static void notify(Runnable call, PluginInfo info) {
        try {
            call.run();
        } catch (RuntimeException e) {
            log.warn("kernel listener failed for {}", info.uri(), e);
        }
    }

    /** A snapshot of every plugin, in initialisation order. */
    public List<PluginInfo> plugins() {
        return locked(() -> nodes.stream().map(PluginNode::info).toList());
    }

    /** The {@code ok} instances of a type, by id. */
    public <T> Map<String, T> instances(PluginType<T> type) {
        requireNonNull(type, "type is null");
        return locked(() -> {
            Map<String, T> found = new LinkedHashMap<>();
            for (PluginNode node : nodes) {
                if (node.status() == PluginStatus.OK && node.type().equals(type.uri())
                        && type.contract().isInstance(node.exposed())) {
                    found.put(node.id(), type.contract().cast(node.exposed()));
                }
            }
            return found;
        });
    }

    public void addListener(KernelListener listener) {
        listeners.add(requireNonNull(listener, "listener is null"));
    }

    /**
     * Loads a plugin jar into the running kernel; its plugins initialise if their dependencies are
     * met. A jar that cannot be used is shown as one {@code error} entry.
     *
     * @return the jar's plugins after initialisation
     * @throws AlreadyExistsException if the jar is already loaded
     */
    public List<PluginInfo> load(Path jar) {
        Path path = jar.toAbsolutePath().normalize();
        List<Runnable> events = new ArrayList<>();
        List<PluginInfo> result;
        lock.lock();
        try {
            if (state != State.STARTED) {
                throw new IllegalStateException("plugins are loaded at run time only once the kernel started");
            }
            if (nodes.stream().anyMatch(node -> node.origin().equals(path.toString()))) {
                throw new AlreadyExistsException("plugin jar " + path + ": already loaded");
            }
            List<PluginNode> admitted = admit(open(path));
            bindConfig(admitted, false);
            List<PluginNode> ordered = Resolver.resolve(providersWith(admitted), admitted);
            nodes.addAll(ordered);
            for (PluginNode node : ordered) {
                initialise(node, events);
            }
            result = ordered.stream().map(PluginNode::info).toList();
        } finally {
            lock.unlock();
        }
        events.forEach(Runnable::run);
        log.info("loaded plugin jar {}: {}", path, result.stream()
                .map(info -> info.uri() + " " + info.status().name().toLowerCase()).toList());
        return result;
    }

    /**
     * Unloads a jar: closes its plugins in reverse order of initialisation, forgets them and closes
     * the jar's class loader.
     *
     * @throws NotFoundException           if no plugin came from that jar
     * @throws FailedPreconditionException if a running plugin outside the jar depends on one of its plugins
     */
    public void unload(Path jar) {
        Path path = jar.toAbsolutePath().normalize();
        List<Runnable> events = new ArrayList<>();
        PluginJar opened;
        lock.lock();
        try {
            List<PluginNode> owned = nodes.stream().filter(node -> node.origin().equals(path.toString())).toList();
            if (owned.isEmpty()) {
                throw new NotFoundException("plugin jar " + path + ": not loaded");
            }
            List<String> holders = new ArrayList<>();
            for (PluginNode node : nodes) {
                if (owned.contains(node) || node.status() != PluginStatus.OK) {
                    continue;
                }
                for (PluginNode dependency : node.dependencies()) {
                    if (owned.contains(dependency)) {
                        holders.add(node.uri() + " depends on " + dependency.uri());
                    }
                }
            }
            if (!holders.isEmpty()) {
                throw new FailedPreconditionException("cannot unload plugin jar " + path + ": "
                        + String.join(", ", holders));
            }
            for (PluginNode node : initialised.reversed()) {
                if (owned.contains(node)) {
                    stop(node);
                }
            }
            initialised.removeAll(owned);
            nodes.removeAll(owned);
            duplicates.removeAll(owned);
            // failed plugins may still point at the jar's plugins; drop those edges so nothing keeps its loader
            for (PluginNode node : nodes) {
                node.resolved().values().forEach(found -> found.removeAll(owned));
            }
            opened = jars.remove(path);
            reference = builtinReference;
            jars.values().forEach(other -> reference = reference.withFallback(other.reference()));
        } finally {
            lock.unlock();
        }
        events.forEach(Runnable::run);
        if (opened != null) {
            opened.close();
        }
        log.info("unloaded plugin jar {}", path);
    }

    /** Whether any plugin (or the failure entry of a jar) came from this jar. */
    boolean hasJar(Path jar) {
        String origin = jar.toAbsolutePath().normalize().toString();
        return locked(() -> nodes.stream().anyMatch(node -> node.origin().equals(origin)));
    }

    /** Watches the plugin directories: a jar copied in is loaded, a jar removed is unloaded. */
    public void watchPluginDirs() {
        lock.lock();
        try {
            if (watcher == null) {
                watcher = PluginDirWatcher.start(options.pluginDirs(), this);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Closes every plugin in reverse order of initialisation, then every jar's class loader. */
    @Override
    public void close() {
        List<Runnable> events = new ArrayList<>();
        List<PluginJar> toClose;
        PluginDirWatcher stopping;
        lock.lock();
        try {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            stopping = watcher;
            watcher = null;
            for (PluginNode node : initialised.reversed()) {
                stop(node);
            }
            initialised.clear();
            toClose = List.copyOf(jars.values());
            jars.clear();
        } finally {
            lock.unlock();
        }
        if (stopping != null) {
            stopping.close();
        }
        events.forEach(Runnable::run);
        toClose.forEach(PluginJar::close);
    }

    /** Closes one plugin; listeners hear of it (under the lock) before the instance is closed. */
    private void stop(PluginNode node) {
        PluginInfo info = node.info();
        Object exposed = node.exposed();
        for (KernelListener listener : listeners) {
            notify(() -> listener.stopping(info, exposed), info);
        }
        if (node.instance() instanceof AutoCloseable closeable) {
            try {
                ContextLoaders.call(node.loader(), () -> {
                    closeable.close();
                    return null;
                });
            } catch (Exception e) {
                log.warn("closing plugin {} failed", node.uri(), e);
            }
        }
        node.closed();
        log.debug("plugin {} closed", node.uri());
    }

    private <V> V locked(java.util.function.Supplier<V> body) {
        lock.lock();
        try {
            return body.get();
        } finally {
            lock.unlock();
        }
    }

}
