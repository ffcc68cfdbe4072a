package dev.berth.plugin.diff;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Optional;

/**
 * How to compute and store a layer.
 *
 * @param namespace the namespace whose content store receives the new layer
 * @param lease     the lease the new blob is added to ({@code containerd-lease}), if any
 * @param mediaType the layer's media type: {@link LayerMediaTypes#OCI_TAR} or
 *                  {@link LayerMediaTypes#OCI_TAR_GZIP}; empty means the latter, as in containerd
 * @param ref       the ingest ref to write through; empty means a fresh unique one
 * @param labels    labels for the new blob; never null
 */
public record CompareOptions(String namespace, Optional<String> lease, Optional<String> mediaType,
                             Optional<String> ref, Map<String, String> labels) {
    public CompareOptions {
        requireNonNull(namespace, "namespace is null");
        requireNonNull(lease, "lease is null");
        requireNonNull(mediaType, "mediaType is null");
        requireNonNull(ref, "ref is null");
        labels = Map.copyOf(requireNonNull(labels, "labels is null"));
    }

    /** A gzip layer under a fresh ref, without lease or labels. */
    public static CompareOptions of(String namespace) {
        return new CompareOptions(namespace, Optional.empty(), Optional.empty(), Optional.empty(), Map.of());
    }
}
