package dev.berth.plugin.metadata;

import static java.util.Objects.requireNonNull;

/**
 * A resource a lease holds, as containerd names them: type {@code content} with a digest as id,
 * type {@code ingests} with an ingest ref, or type {@code snapshots/<snapshotter>} with a snapshot key.
 *
 * @param id   the resource's key within its type
 * @param type the resource's type
 */
public record Resource(String id, String type) {
    /** Type of content blobs; the id is a digest. */
    public static final String CONTENT = "content";
    /** Type of content ingests; the id is the client's ref. */
    public static final String INGESTS = "ingests";
    /** Prefix of snapshot types, {@code snapshots/<snapshotter>}. */
    public static final String SNAPSHOTS_PREFIX = "snapshots/";

    public Resource {
        requireNonNull(id, "id is null");
        requireNonNull(type, "type is null");
    }
}
