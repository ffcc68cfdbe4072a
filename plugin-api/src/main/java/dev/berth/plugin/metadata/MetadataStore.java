package dev.berth.plugin.metadata;

import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.snapshots.Snapshotter;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The metadata store ({@code io.containerd.metadata.v1}): every object recorded per namespace, so
 * that services only see a namespace's view and the garbage collector can find what nothing
 * references any more.
 */
public interface MetadataStore {

    /** The namespaces. */
    NamespaceStore namespaces();

    /** The leases. */
    LeaseManager leases();

    /**
     * The content store as {@code namespace} sees it: only blobs committed in that namespace, with
     * that namespace's labels. When {@code lease} is given (the {@code containerd-lease} header),
     * ingests and committed blobs are added to that lease, and deletes release them from it.
     *
     * @throws dev.berth.plugin.InvalidArgumentException if the namespace is not a valid identifier
     */
    ContentStore content(String namespace, Optional<String> lease);

    /** The images. */
    ImageStore images();

    /** The containers. */
    ContainerStore containers();

    /**
     * The snapshotter {@code snapshotter} as {@code namespace} sees it, as containerd's metadata
     * snapshotter: keys are the namespace's own (mapped to backend keys the namespace never sees),
     * labels are kept per namespace, and when {@code lease} is given (the {@code containerd-lease}
     * header) every snapshot created is added to that lease as a {@code snapshots/<snapshotter>}
     * resource. Snapshots referenced by {@code containerd.io/gc.ref.snapshot.<snapshotter>} labels,
     * leases and roots are kept by the collector; others are removed from the backend.
     *
     * @throws dev.berth.plugin.NotFoundException        if there is no such snapshotter
     * @throws dev.berth.plugin.InvalidArgumentException if the namespace is not a valid identifier
     */
    Snapshotter snapshotter(String namespace, String snapshotter, Optional<String> lease);

    /** The ids of the snapshotters this store wraps, sorted. */
    List<String> snapshotters();

    /**
     * Registers a listener told after every committed write; its argument is true when writes
     * since the last collection removed something, i.e. a collection may free space.
     */
    void onMutation(Consumer<Boolean> listener);

    /**
     * Runs one garbage collection now, serialised with any other: marks from the roots, removes
     * unreachable metadata, then removes from the backing content store and from the backend
     * snapshotters (children before parents) what no namespace references.
     */
    GcStats collectGarbage();
}
