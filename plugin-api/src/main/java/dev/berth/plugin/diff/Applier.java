package dev.berth.plugin.diff;

import dev.berth.plugin.content.Descriptor;
import dev.berth.plugin.mount.Mount;
import java.util.List;

/** Unpacks layers onto mounted filesystems, as containerd's {@code diff.Applier}. */
public interface Applier {

    /**
     * Applies the layer {@code layer}, read from the content store of {@code options.namespace()},
     * onto the filesystem {@code mounts} form: its files are added, replaced or (through OCI
     * whiteouts) removed, with their ownership, permissions, extended attributes and times.
     * The compression is recognised from the content (gzip, zstd or none).
     *
     * <p>Nothing is ever written outside the mounted root. After a failure the mounts may hold part
     * of the layer; the caller discards them.
     *
     * @return the uncompressed layer: media type {@link LayerMediaTypes#OCI_TAR}, the digest of
     *         the uncompressed tar (the layer's diff ID) and its size
     * @throws dev.berth.plugin.NotFoundException           if the blob is not in the store
     * @throws dev.berth.plugin.UnimplementedException      if the media type is not a layer's
     * @throws dev.berth.plugin.InvalidArgumentException    if the archive is malformed or an entry
     *                                                      would land outside the root
     * @throws dev.berth.plugin.FailedPreconditionException if the blob's digest or size is not the
     *                                                      descriptor's, or an entry needs a
     *                                                      privilege the daemon lacks
     * @throws java.io.UncheckedIOException                 if the file system fails
     */
    Descriptor apply(Descriptor layer, List<Mount> mounts, ApplyOptions options);
}
