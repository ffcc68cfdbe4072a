package dev.berth.plugins.grpc.storage;

import dev.berth.api.filters.Adaptor;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Conversions every service here shares. */
final class Protos {
    private Protos() {}

    /**
     * A label map's entry for a filter, as containerd's {@code checkMap}: the rest of the field path
     * joined with {@code .} is the key; an empty map has no fields at all.
     */
    static Optional<String> labels(Map<String, String> labels, List<String> keyPath) {
        return labels.isEmpty() ? Optional.empty() : Adaptor.mapEntry(labels, keyPath);
    }
}
