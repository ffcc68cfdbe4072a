package dev.berth.plugin.metadata;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * What one garbage collection did.
 *
 * @param metadata how long the metadata was locked (mark and sweep), the pause writers saw
 * @param content  how long removing unreferenced blobs and ingests from the backing store took
 * @param removed  how many metadata objects (blobs, ingests, leases, snapshots) were removed
 */
public record GcStats(Duration metadata, Duration content, int removed) {
    public GcStats {
        requireNonNull(metadata, "metadata is null");
        requireNonNull(content, "content is null");
    }
}
