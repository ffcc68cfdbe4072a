package dev.berth.plugin.diff;

import dev.berth.plugin.content.Descriptor;
import dev.berth.plugin.mount.Mount;
import java.util.List;

/** Computes layers from two mounted filesystems, as containerd's {@code diff.Comparer}. */
public interface Comparer {

    /**
     * Writes the layer that turns the filesystem {@code lower} forms into the one {@code upper}
     * forms into the content store of {@code options.namespace()}, and returns its descriptor.
     * Both are mounted read-only. For a gzip layer the blob gets the label
     * {@code containerd.io/uncompressed} with the digest of the uncompressed tar, as in containerd.
     * An existing blob with the same digest is reused.
     *
     * @throws dev.berth.plugin.UnimplementedException if the media type is neither
     *                                                 {@link LayerMediaTypes#OCI_TAR} nor
     *                                                 {@link LayerMediaTypes#OCI_TAR_GZIP}
     * @throws dev.berth.plugin.UnavailableException   if the ingest ref is in use
     * @throws java.io.UncheckedIOException            if the file system fails
     */
    Descriptor compare(List<Mount> lower, List<Mount> upper, CompareOptions options);
}
