package dev.berth.kernel;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.Dependency;
import dev.berth.plugin.PluginInfo;
import dev.berth.plugin.PluginStatus;
import dev.berth.plugin.Registration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One plugin as the kernel tracks it. Mutable, guarded by the kernel's lock; introspection reads
 * immutable {@link PluginInfo} snapshots of it.
 */
final class PluginNode {
    private final String type;
    private final String id;
    private final Registration<?> registration; // null for a jar that could not be opened
    private final ClassLoader loader;
    private final String origin;
    private final Map<Dependency<?>, List<PluginNode>> resolved = new LinkedHashMap<>();
    private final Map<String, String> exports = new LinkedHashMap<>();
    private final Set<String> capabilities = new LinkedHashSet<>();
    private final Set<String> platforms = new LinkedHashSet<>();
    private PluginStatus status = PluginStatus.PENDING;
    private String error;
    private Record config;
    private Object instance;
    private Object exposed;

    PluginNode(Registration<?> registration, ClassLoader loader, String origin) {
        this.registration = requireNonNull(registration, "registration is null");
        this.type = registration.type().uri();
        this.id = registration.id();
        this.loader = requireNonNull(loader, "loader is null");
        this.origin = requireNonNull(origin, "origin is null");
    }

    /** A jar that could not be opened, shown so that introspection tells why. */
    PluginNode(String type, String id, String origin, String error) {
        this.registration = null;
        this.type = requireNonNull(type, "type is null");
        this.id = requireNonNull(id, "id is null");
        this.loader = null;
        this.origin = requireNonNull(origin, "origin is null");
        fail(error);
    }

    String type() {
        return type;
    }

    String id() {
        return id;
    }

    String uri() {
        return type + "." + id;
    }

    Optional<Registration<?>> registration() {
        return Optional.ofNullable(registration);
    }

    ClassLoader loader() {
        return loader;
    }

    String origin() {
        return origin;
    }

    PluginStatus status() {
        return status;
    }

    String error() {
        return error;
    }

    /** Each declared dependency and the plugins it was resolved to. */
    Map<Dependency<?>, List<PluginNode>> resolved() {
        return resolved;
    }

    /** Every plugin this one was resolved to depend on. */
    Set<PluginNode> dependencies() {
        Set<PluginNode> all = new LinkedHashSet<>();
        resolved.values().forEach(all::addAll);
        return all;
    }

    boolean dependsOn(PluginNode other) {
        return dependencies().contains(other);
    }

    void fail(String message) {
        if (status == PluginStatus.ERROR) {
            return; // the first cause is the one that matters
        }
        status = PluginStatus.ERROR;
        error = message;
    }

    void skip(String reason) {
        status = PluginStatus.SKIP;
        error = reason;
    }

    void started(Object instance, Object exposed) {
        this.instance = instance;
        this.exposed = exposed;
        status = PluginStatus.OK;
    }

    void closed() {
        instance = null;
        exposed = null;
        status = PluginStatus.CLOSED;
    }

    /** The raw instance (for closing). */
    Object instance() {
        return instance;
    }

    /** The instance as other plugins and the daemon see it (calls run with this plugin's loader). */
    Object exposed() {
        return exposed;
    }

    Record config() {
        return config;
    }

    void config(Record config) {
        this.config = config;
    }

    Map<String, String> exports() {
        return exports;
    }

    Set<String> capabilities() {
        return capabilities;
    }

    Set<String> platforms() {
        return platforms;
    }

    PluginInfo info() {
        List<String> requires = new ArrayList<>();
        if (registration != null) {
            for (Dependency<?> dependency : registration.requires()) {
                String uri = dependency.type().uri();
                if (!requires.contains(uri)) {
                    requires.add(uri);
                }
            }
        }
        return new PluginInfo(type, id, requires, status, Optional.ofNullable(error), exports,
                List.copyOf(capabilities), List.copyOf(platforms), origin);
    }

    @Override
    public String toString() {
        return uri();
    }
}
