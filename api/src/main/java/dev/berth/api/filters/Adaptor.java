package dev.berth.api.filters;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Exposes the fields of one object to a {@link Filter}, as containerd's {@code filters.Adaptor}.
 * Each object type decides which field paths it knows, e.g. {@code name}, {@code target.digest} or
 * {@code labels.<key>}.
 */
@FunctionalInterface
public interface Adaptor {

    /**
     * The value at {@code fieldPath} (never empty itself), or empty when the object has no such field.
     * Presence matters: {@code ==} and the bare presence test require it, {@code !=} and {@code ~=}
     * compare an absent field as the empty string.
     */
    Optional<String> field(List<String> fieldPath);

    /** A string field that counts as present only when not empty, as most of containerd's adaptors do. */
    static Optional<String> nonEmpty(String value) {
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }

    /**
     * The entry of a label-like map named by the rest of a field path: the parts are joined with
     * {@code .} again, so {@code labels.a.b} finds the key {@code a.b}, as containerd does.
     */
    static Optional<String> mapEntry(Map<String, String> map, List<String> keyPath) {
        return Optional.ofNullable(map.get(String.join(".", keyPath)));
    }
}
