package dev.berth.plugin.metadata;

import java.util.List;
import java.util.function.Predicate;

/**
 * The containers of each namespace, as containerd's metadata container store. Every method takes
 * the namespace it acts in; errors carry containerd's wording, e.g. {@code container "x": not found}.
 */
public interface ContainerStore {

    /**
     * The container with this id.
     *
     * @throws dev.berth.plugin.NotFoundException        if there is none
     * @throws dev.berth.plugin.InvalidArgumentException if the namespace is invalid
     */
    Container get(String namespace, String id);

    /** The namespace's containers that match {@code filter}, sorted by id. */
    List<Container> list(String namespace, Predicate<? super Container> filter);

    /**
     * Creates a container; its timestamps are set to now.
     *
     * @throws dev.berth.plugin.AlreadyExistsException   if the namespace has a container with this id
     * @throws dev.berth.plugin.InvalidArgumentException if the id is not a valid identifier, the runtime
     *         name is empty, a snapshot key is given without a snapshotter, or a label is too large
     */
    Container create(String namespace, Container container);

    /**
     * Updates container {@code container.id()}: {@code fieldPaths} as containerd's ({@code labels},
     * {@code labels.<key>}, {@code spec}, {@code extensions}, {@code extensions.<key>}, {@code image},
     * {@code snapshotkey}); an empty list updates labels, spec, extensions and image. The runtime and
     * snapshotter cannot change. Returns the stored container with {@code updatedAt} set to now.
     *
     * @throws dev.berth.plugin.NotFoundException        if there is no such container
     * @throws dev.berth.plugin.InvalidArgumentException if a path is unknown or names an immutable field
     */
    Container update(String namespace, Container container, List<String> fieldPaths);

    /**
     * Deletes a container; its snapshot becomes garbage unless something else holds it.
     *
     * @throws dev.berth.plugin.NotFoundException if there is no such container
     */
    void delete(String namespace, String id);
}
