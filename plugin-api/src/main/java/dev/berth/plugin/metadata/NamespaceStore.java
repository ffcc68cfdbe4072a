package dev.berth.plugin.metadata;

import java.util.List;
import java.util.Map;

/**
 * Namespaces and their labels. A namespace also comes into being implicitly, as in containerd,
 * when anything (a lease, content) is first written in it.
 */
public interface NamespaceStore {

    /**
     * Creates a namespace.
     *
     * @throws dev.berth.plugin.InvalidArgumentException if the name is not a valid identifier or a label is too large
     * @throws dev.berth.plugin.AlreadyExistsException   if it exists
     */
    void create(String name, Map<String, String> labels);

    /** The labels of {@code name}; empty, not an error, if the namespace does not exist (as containerd). */
    Map<String, String> labels(String name);

    /** Every namespace's name, sorted. */
    List<String> list();

    /**
     * Sets one label, or removes it when {@code value} is empty. Like containerd, this creates the
     * namespace if it does not exist.
     *
     * @throws dev.berth.plugin.InvalidArgumentException if the name is invalid or the label too large
     */
    void setLabel(String name, String key, String value);

    /**
     * Deletes an empty namespace.
     *
     * @throws dev.berth.plugin.NotFoundException           if it does not exist
     * @throws dev.berth.plugin.FailedPreconditionException if it still holds objects; the message
     *         names them, e.g. {@code namespace "a" must be empty, but it still has blobs, leases}
     */
    void delete(String name);
}
