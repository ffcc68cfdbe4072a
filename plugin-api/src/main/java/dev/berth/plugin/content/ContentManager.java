package dev.berth.plugin.content;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** Inspects, labels, lists and removes committed content. */
public interface ContentManager {

    /**
     * The current information on a committed blob.
     *
     * @throws dev.berth.plugin.NotFoundException if no such blob is committed
     */
    ContentInfo info(Digest digest);

    /**
     * Updates the mutable fields of {@code info.digest()}, which are only its labels, and returns
     * the result with {@code updatedAt} set to now. {@code fieldPaths} says what changes, as in
     * containerd: {@code labels} replaces every label with {@code info.labels()};
     * {@code labels.<key>} sets that one label to its value in {@code info.labels()}, or removes it
     * if absent there or empty; an empty list replaces every label. The other fields of
     * {@code info} are ignored.
     *
     * @throws dev.berth.plugin.NotFoundException        if no such blob is committed
     * @throws dev.berth.plugin.InvalidArgumentException if a path names anything but labels
     */
    ContentInfo update(ContentInfo info, List<String> fieldPaths);

    /**
     * Calls {@code consumer} once for each committed blob whose info matches {@code filter}, in no
     * particular order. Blobs committed or deleted during the walk may or may not be seen. An
     * exception thrown by {@code consumer} stops the walk and propagates.
     */
    void walk(Predicate<? super ContentInfo> filter, Consumer<? super ContentInfo> consumer);

    /**
     * Removes a committed blob. Readers already open keep working.
     *
     * @throws dev.berth.plugin.NotFoundException if no such blob is committed
     */
    void delete(Digest digest);
}
