package dev.berth.plugin.metadata;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Leases per namespace, and the resources they hold. Every method takes the namespace it acts in. */
public interface LeaseManager {

    /**
     * Creates a lease with {@code createdAt} set to now. An expiring lease carries the label
     * {@link Labels#GC_EXPIRE} with an RFC 3339 time; an unparsable value is ignored by the collector.
     *
     * @throws dev.berth.plugin.InvalidArgumentException if the namespace is invalid, the id empty or
     *         containing NUL, or a label too large
     * @throws dev.berth.plugin.AlreadyExistsException   if the namespace has a lease with this id
     */
    Lease create(String namespace, String id, Map<String, String> labels);

    /**
     * Deletes a lease; what only it held becomes garbage. With {@code sync}, returns only after a
     * garbage collection that began after the delete has finished.
     *
     * @throws dev.berth.plugin.NotFoundException if there is no such lease
     */
    void delete(String namespace, String id, boolean sync);

    /** The namespace's leases that match {@code filter}, sorted by id. */
    List<Lease> list(String namespace, Predicate<? super Lease> filter);

    /**
     * Makes the lease hold a resource. Adding one twice is harmless. The resource need not exist yet.
     *
     * @throws dev.berth.plugin.NotFoundException        if there is no such lease
     * @throws dev.berth.plugin.InvalidArgumentException if the type is malformed or a content id is not a digest
     * @throws dev.berth.plugin.UnimplementedException   if the type is none of {@code content},
     *         {@code ingests}, {@code snapshots/<snapshotter>}
     */
    void addResource(String namespace, String leaseId, Resource resource);

    /**
     * Releases a resource; releasing one not held is harmless.
     *
     * @throws dev.berth.plugin.NotFoundException if there is no such lease
     */
    void deleteResource(String namespace, String leaseId, Resource resource);

    /**
     * The resources the lease holds: content first, then ingests, then snapshots.
     *
     * @throws dev.berth.plugin.NotFoundException if there is no such lease
     */
    List<Resource> listResources(String namespace, String leaseId);
}
