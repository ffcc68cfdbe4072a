package dev.berth.plugins.grpc.storage;

import com.google.protobuf.Timestamp;
import dev.berth.api.filters.Adaptor;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Conversions every service here shares. */
final class Protos {
    private Protos() {}

    static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    static Instant instant(Timestamp timestamp) {
        return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
    }

    /**
     * A label map's entry for a filter, as containerd's {@code checkMap}: the rest of the field path
     * joined with {@code .} is the key; an empty map has no fields at all.
     */
    static Optional<String> labels(Map<String, String> labels, List<String> keyPath) {
        return labels.isEmpty() ? Optional.empty() : Adaptor.mapEntry(labels, keyPath);
    }
}
