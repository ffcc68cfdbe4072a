package dev.berth.plugin.metadata;

import java.util.List;
import java.util.function.Predicate;

/**
 * The images of each namespace, as containerd's {@code metadata} image store. Every method takes the
 * namespace it acts in; errors carry containerd's wording, e.g. {@code image "x": not found}.
 */
public interface ImageStore {

    /**
     * The image with this name.
     *
     * @throws dev.berth.plugin.NotFoundException        if there is none
     * @throws dev.berth.plugin.InvalidArgumentException if the namespace is invalid
     */
    Image get(String namespace, String name);

    /** The namespace's images that match {@code filter}, sorted by name. */
    List<Image> list(String namespace, Predicate<? super Image> filter);

    /**
     * Creates an image; {@code createdAt} and {@code updatedAt} of the argument are ignored and set
     * to now.
     *
     * @throws dev.berth.plugin.AlreadyExistsException   if the namespace has an image of that name
     * @throws dev.berth.plugin.InvalidArgumentException if the name is empty, the target has no media
     *         type or a size that is not positive, or a label is too large
     */
    Image create(String namespace, Image image);

    /**
     * Updates image {@code image.name()}: {@code fieldPaths} as containerd ({@code labels},
     * {@code labels.<key>}, {@code target}, and the target's {@code annotations} and
     * {@code annotations.<key>}; a key absent or empty in the argument is removed); an empty list
     * replaces labels and target. Returns the stored image with {@code updatedAt} set to now.
     *
     * @throws dev.berth.plugin.NotFoundException        if there is no such image
     * @throws dev.berth.plugin.InvalidArgumentException if a path is not one of those, or the result
     *         is not a valid image (as for {@link #create})
     */
    Image update(String namespace, Image image, List<String> fieldPaths);

    /**
     * Deletes an image; what only it held becomes garbage. With {@code sync}, returns only after a
     * garbage collection that began after the delete has finished.
     *
     * @throws dev.berth.plugin.NotFoundException if there is no such image
     */
    void delete(String namespace, String name, boolean sync);
}
