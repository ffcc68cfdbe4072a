package dev.berth.plugin.metadata;

import dev.berth.plugin.content.ContentStore;
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

    /**
     * Registers a listener told after every committed write; its argument is true when writes
     * since the last collection removed something, i.e. a collection may free space.
     */
    void onMutation(Consumer<Boolean> listener);

    /**
     * Runs one garbage collection now, serialised with any other: marks from the roots, removes
     * unreachable metadata, then removes from the backing content store what no namespace references.
     */
    GcStats collectGarbage();
}
