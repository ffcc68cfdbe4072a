package dev.berth.sample.graph;

import static java.util.Objects.requireNonNull;

/** A node built from another. */
record Link(String name, String after) implements Node {
    Link {
        requireNonNull(name, "name is null");
        requireNonNull(after, "after is null");
    }
}
