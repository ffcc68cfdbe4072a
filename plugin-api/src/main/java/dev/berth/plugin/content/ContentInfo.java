package dev.berth.plugin.content;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;

/**
 * What a store knows about one committed blob.
 *
 * @param digest    the blob's digest, which is also its address
 * @param size      its length in bytes
 * @param createdAt when it was committed
 * @param updatedAt when it or its labels last changed
 * @param labels    its labels (for instance {@code containerd.io/gc.root}); never null
 */
public record ContentInfo(Digest digest, long size, Instant createdAt, Instant updatedAt, Map<String, String> labels) {
    public ContentInfo {
        requireNonNull(digest, "digest is null");
        requireNonNull(createdAt, "createdAt is null");
        requireNonNull(updatedAt, "updatedAt is null");
        labels = Map.copyOf(requireNonNull(labels, "labels is null"));
        if (size < 0) {
            throw new IllegalArgumentException("size is negative: " + size);
        }
    }

    /** A copy with other labels, as a caller builds the argument of {@link ContentManager#update}. */
    public ContentInfo withLabels(Map<String, String> newLabels) {
        return new ContentInfo(digest, size, createdAt, updatedAt, newLabels);
    }
}
