package dev.berth.bootstrap;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;
import dev.berth.config.ConfigProblems;
import dev.berth.config.ConfigSources;
import dev.berth.config.ConfigValidationException;
import dev.berth.config.RecordBinder;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The daemon's configuration as loaded from its three layers: the user's file and command-line
 * overrides, then defaults that depend on the user running the daemon, then every reference.conf on
 * the class path.
 *
 * @param user      the user's file and overrides only: what the kernel is given
 * @param reference the class path's reference.conf files, with the user-dependent defaults on top
 * @param effective all layers merged and resolved
 * @param daemon    the top level, bound strictly
 */
record Settings(Config user, Config reference, Config effective, DaemonConfig daemon) {

    Settings {
        requireNonNull(user, "user is null");
        requireNonNull(reference, "reference is null");
        requireNonNull(effective, "effective is null");
        requireNonNull(daemon, "daemon is null");
    }

    /**
     * Loads and binds the configuration.
     *
     * @throws ConfigValidationException carrying every problem found, each with file and line
     */
    static Settings load(Optional<Path> file, Map<String, String> overrides, Host host, ClassLoader loader) {
        return load(ConfigSources.user(file, overrides), host, loader);
    }

    /**
     * Binds an already parsed user config on top of the defaults.
     *
     * @throws ConfigValidationException carrying every problem found, each with file and line
     */
    static Settings load(Config user, Host host, ClassLoader loader) {
        Config reference = host.computedDefaults().withFallback(ConfigSources.references(loader));
        Config effective = ConfigSources.effective(user, reference);
        ConfigProblems problems = new ConfigProblems();
        DaemonConfig daemon = RecordBinder.bind(effective, "", DaemonConfig.class, problems);
        if (daemon != null) {
            check(effective, daemon, problems);
        }
        problems.throwIfAny();
        return new Settings(user, reference, effective, daemon);
    }

    /** What the record's types cannot say. */
    private static void check(Config effective, DaemonConfig daemon, ConfigProblems problems) {
        requireAbsolute(effective, "root", daemon.root(), problems);
        requireAbsolute(effective, "state", daemon.state(), problems);
        requireAbsolute(effective, "grpc.address", Path.of(daemon.grpc().address()), problems);
        requireMessageSize(effective, "grpc.max-recv-message-size", daemon.grpc().maxRecvMessageSize(), problems);
        requireMessageSize(effective, "grpc.max-send-message-size", daemon.grpc().maxSendMessageSize(), problems);
        if (daemon.grpc().warmUpConnections() < 0) {
            problems.add(origin(effective, "grpc.warm-up-connections"), "grpc.warm-up-connections",
                    daemon.grpc().warmUpConnections() + " is out of range: expected 0 or more");
        }
        for (Path dir : daemon.pluginDirs()) {
            requireAbsolute(effective, "plugin-dirs", dir, problems);
        }
    }

    /** gRPC counts message sizes in an int. */
    private static void requireMessageSize(Config effective, String key, long size, ConfigProblems problems) {
        if (size < 1 || size > Integer.MAX_VALUE) {
            problems.add(origin(effective, key), key, size + " is out of range: expected 1 byte to 2 GiB - 1");
        }
    }

    private static void requireAbsolute(Config effective, String key, Path path, ConfigProblems problems) {
        if (!path.isAbsolute()) {
            problems.add(origin(effective, key), key, "'" + path + "' is not an absolute path");
        }
    }

    private static ConfigOrigin origin(Config config, String key) {
        try {
            return config.getValue(key).origin();
        } catch (ConfigException e) {
            return config.origin();
        }
    }
}
