package dev.berth.sample.graph;

/** The contract of the type {@code io.berth.sample.graph.v1}: a named node of a graph. */
public interface Node {

    /** The node's name. */
    String name();

    /** The name of the node this one was built from. */
    String after();
}
