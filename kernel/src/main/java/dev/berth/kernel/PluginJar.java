package dev.berth.kernel;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import dev.berth.config.ConfigSources;
import dev.berth.plugin.PluginApi;
import dev.berth.plugin.PluginProvider;
import dev.berth.plugin.Registration;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.pf4j.ClassLoadingStrategy;
import org.pf4j.DefaultVersionManager;
import org.pf4j.ManifestPluginDescriptorFinder;
import org.pf4j.PluginClassLoader;
import org.pf4j.PluginDescriptor;
import org.pf4j.VersionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PF4J plugin jar opened in its own class loader. PF4J reads the descriptor (manifest) and
 * builds the loader; the kernel, not PF4J, owns the plugins' graph and lifecycle.
 */
final class PluginJar implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PluginJar.class);
    private static final VersionManager VERSIONS = new DefaultVersionManager();

    private final Path path;
    private final String pluginId;
    private final PluginClassLoader loader;
    private final List<Registration<?>> registrations;
    private final Config reference;

    private PluginJar(Path path, String pluginId, PluginClassLoader loader,
            List<Registration<?>> registrations, Config reference) {
        this.path = path;
        this.pluginId = pluginId;
        this.loader = loader;
        this.registrations = List.copyOf(registrations);
        this.reference = reference;
    }

    /** A jar that could not be opened: its id (from the manifest, else the file name) and why. */
    record Failure(Path path, String pluginId, String message) {}

    /** The jar, or why it cannot be used. Never throws for a bad jar. */
    static Result open(Path path, ClassLoader daemonLoader) {
        requireNonNull(path, "path is null");
        Path jar = path.toAbsolutePath().normalize();
        String fallbackId = fileId(jar);
        PluginDescriptor descriptor;
        try {
            descriptor = new ManifestPluginDescriptorFinder().find(jar);
        } catch (RuntimeException e) {
            return new Result(Optional.empty(), Optional.of(new Failure(jar, fallbackId,
                    "plugin jar " + jar + ": cannot read its manifest: " + describe(e))));
        }
        String id = descriptor.getPluginId() == null ? fallbackId : descriptor.getPluginId();
        if (!descriptor.getDependencies().isEmpty()) {
            return new Result(Optional.empty(), Optional.of(new Failure(jar, id, "plugin jar " + jar
                    + ": Plugin-Dependencies is not supported; plugins depend on each other through typed dependencies")));
        }
        String requires = descriptor.getRequires();
        String provided = PluginApi.version();
        if (requires != null && !requires.isBlank() && !requires.equals("*")) {
            boolean compatible;
            try {
                compatible = VERSIONS.checkVersionConstraint(provided, requires);
            } catch (RuntimeException e) {
                return new Result(Optional.empty(), Optional.of(new Failure(jar, id,
                        "plugin jar " + jar + ": invalid Plugin-Requires '" + requires + "': " + describe(e))));
            }
            if (!compatible) {
                return new Result(Optional.empty(), Optional.of(new Failure(jar, id,
                        "plugin jar " + jar + " is built against plugin API " + requires
                                + " but this daemon provides plugin API " + provided)));
            }
        }
        PluginClassLoader loader = new PluginClassLoader(null, descriptor, new SpiClassLoader(daemonLoader),
                ClassLoadingStrategy.APD);
        loader.addFile(jar.toFile());
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            List<Registration<?>> registrations = new ArrayList<>();
            for (PluginProvider provider : ServiceLoader.load(PluginProvider.class, loader)) {
                if (provider.getClass().getClassLoader() != loader) {
                    continue;
                }
                registrations.addAll(provider.registrations());
            }
            if (registrations.isEmpty()) {
                closeQuietly(loader);
                return new Result(Optional.empty(), Optional.of(new Failure(jar, id,
                        "plugin jar " + jar + " registers no plugins (expected META-INF/services/"
                                + PluginProvider.class.getName() + ")")));
            }
            Config reference = ConfigSources.references(loader);
            return new Result(Optional.of(new PluginJar(jar, id, loader, registrations, reference)), Optional.empty());
        } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
            closeQuietly(loader);
            return new Result(Optional.empty(), Optional.of(new Failure(jar, id,
                    "plugin jar " + jar + ": cannot load its plugins: " + describe(e))));
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    record Result(Optional<PluginJar> jar, Optional<Failure> failure) {}

    Path path() {
        return path;
    }

    String pluginId() {
        return pluginId;
    }

    ClassLoader loader() {
        return loader;
    }

    List<Registration<?>> registrations() {
        return registrations;
    }

    Config reference() {
        return reference;
    }

    @Override
    public void close() {
        closeQuietly(loader);
    }

    static String fileId(Path jar) {
        String name = jar.getFileName().toString();
        return name.endsWith(".jar") ? name.substring(0, name.length() - 4) : name;
    }

    static String describe(Throwable e) {
        Throwable cause = e;
        while (cause instanceof ServiceConfigurationError && cause.getCause() != null) {
            cause = cause.getCause();
        }
        String message = cause.getMessage();
        return message == null || message.isBlank() ? cause.getClass().getName() : message;
    }

    private static void closeQuietly(PluginClassLoader loader) {
        try {
            loader.close();
        } catch (IOException e) {
            log.warn("closing class loader of {}: {}", loader, e.toString());
        }
    }
}
