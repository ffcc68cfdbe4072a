package dev.berth.plugin;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A snapshot of one plugin as the kernel sees it.
 *
 * @param type         its type URI
 * @param id           its id
 * @param requires     the type URIs it requires (containerd reports types, not instances)
 * @param status       ok, skip, error, …
 * @param error        why it is skipped or failed, if it is
 * @param exports      key/values it exported
 * @param capabilities capabilities it declared
 * @param platforms    platforms it declared
 * @param origin       {@code built-in} or the path of its jar
 */
public record PluginInfo(
        String type,
        String id,
        List<String> requires,
        PluginStatus status,
        Optional<String> error,
        Map<String, String> exports,
        List<String> capabilities,
        List<String> platforms,
        String origin) {

    public static final String BUILT_IN = "built-in";

    public PluginInfo {
        requireNonNull(type, "type is null");
        requireNonNull(id, "id is null");
        requireNonNull(status, "status is null");
        requireNonNull(error, "error is null");
        requireNonNull(origin, "origin is null");
        requires = List.copyOf(requires);
        exports = Map.copyOf(exports);
        capabilities = List.copyOf(capabilities);
        platforms = List.copyOf(platforms);
    }

    public String uri() {
        return type + "." + id;
    }
}
