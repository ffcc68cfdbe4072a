package dev.berth.plugins.grpc.images;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The diff service's settings, containerd's {@code diff-service} config.
 *
 * @param order the ids of the differs ({@code io.containerd.differ.v1}) to try, in order of preference
 */
public record DiffConfig(List<String> order) {
    public DiffConfig {
        order = List.copyOf(requireNonNull(order, "order is null"));
    }
}
