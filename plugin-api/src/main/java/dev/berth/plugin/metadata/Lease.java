package dev.berth.plugin.metadata;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;

/**
 * A lease: while it exists and has not expired (label {@link Labels#GC_EXPIRE}), the resources it
 * holds are roots for the garbage collector.
 *
 * @param id        the lease's id, unique in its namespace
 * @param createdAt when it was created
 * @param labels    its labels; never null
 */
public record Lease(String id, Instant createdAt, Map<String, String> labels) {
    public Lease {
        requireNonNull(id, "id is null");
        requireNonNull(createdAt, "createdAt is null");
        labels = Map.copyOf(requireNonNull(labels, "labels is null"));
    }
}
