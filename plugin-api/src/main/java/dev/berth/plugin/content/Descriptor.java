package dev.berth.plugin.content;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * Points at content, as an OCI descriptor does: what kind of content, its digest and its size.
 *
 * @param mediaType   the content's media type, e.g. {@code application/vnd.oci.image.layer.v1.tar+gzip}
 * @param digest      the content's digest
 * @param size        its length in bytes
 * @param annotations arbitrary metadata; never null
 */
public record Descriptor(String mediaType, Digest digest, long size, Map<String, String> annotations) {
    public Descriptor {
        requireNonNull(mediaType, "mediaType is null");
        requireNonNull(digest, "digest is null");
        annotations = Map.copyOf(requireNonNull(annotations, "annotations is null"));
        if (size < 0) {
            throw new IllegalArgumentException("size is negative: " + size);
        }
    }

    /** A descriptor without annotations. */
    public static Descriptor of(String mediaType, Digest digest, long size) {
        return new Descriptor(mediaType, digest, size, Map.of());
    }
}
