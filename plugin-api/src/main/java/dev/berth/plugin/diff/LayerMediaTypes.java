package dev.berth.plugin.diff;

import java.util.Set;

/** The media types of filesystem layers, OCI's and Docker's, that differs understand. */
public final class LayerMediaTypes {

    /** An uncompressed OCI layer; also the media type of what {@link Applier#apply} reports. */
    public static final String OCI_TAR = "application/vnd.oci.image.layer.v1.tar";
    /** A gzip-compressed OCI layer, the default of {@link Comparer#compare}. */
    public static final String OCI_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    /** A zstd-compressed OCI layer. */
    public static final String OCI_TAR_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    /** Docker's (always gzip-compressed) layer. */
    public static final String DOCKER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /** Docker's uncompressed layer, which some tools write. */
    public static final String DOCKER_TAR = "application/vnd.docker.image.rootfs.diff.tar";

    private static final Set<String> APPLICABLE = Set.of(
            OCI_TAR, OCI_TAR_GZIP, OCI_TAR_ZSTD, DOCKER_TAR_GZIP, DOCKER_TAR,
            "application/vnd.oci.image.layer.nondistributable.v1.tar",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip");

    private LayerMediaTypes() {}

    /** Whether {@code mediaType} names a tar layer, compressed or not, that an applier can unpack. */
    public static boolean isLayer(String mediaType) {
        return APPLICABLE.contains(mediaType);
    }
}
