package dev.berth.bootstrap;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The user the daemon runs as and the environment it was given: what the defaults of {@code root} and
 * {@code state} depend on.
 *
 * @param uid  the effective user id
 * @param home the user's home directory
 * @param env  the environment ({@code XDG_DATA_HOME}, {@code XDG_RUNTIME_DIR})
 */
record Host(int uid, Path home, Map<String, String> env) {

    Host {
        requireNonNull(home, "home is null");
        env = Map.copyOf(env);
    }

    /** This process: the owner of /proc/self is the effective uid. */
    static Host current() {
        try {
            int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return new Host(uid, Path.of(System.getProperty("user.home")), System.getenv());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot determine the user id from /proc/self", e);
        }
    }

    /**
     * Defaults that depend on the user, layered between the user's config and reference.conf. As root the
     * documented values of reference.conf apply, so this is empty; any other user cannot write to
     * /var/lib or /run, and gets XDG directories instead. Everything derived from root and state (the
     * socket, the plugin dirs) follows through reference.conf's substitutions.
     */
    Config computedDefaults() {
        if (uid == 0) {
            return ConfigFactory.empty();
        }
        Path root = xdg("XDG_DATA_HOME").orElse(home.resolve(".local/share")).resolve("berth");
        Path state = xdg("XDG_RUNTIME_DIR").map(dir -> dir.resolve("berth")).orElse(Path.of("/tmp/berth-" + uid));
        return ConfigFactory.parseMap(
                Map.of("root", root.toString(), "state", state.toString()),
                "defaults for uid " + uid);
    }

    private Optional<Path> xdg(String variable) {
        // the XDG base directory spec: a relative or empty value is to be ignored
        return Optional.ofNullable(env.get(variable))
                .filter(value -> !value.isEmpty())
                .map(Path::of)
                .filter(Path::isAbsolute);
    }
}
