package dev.berth.plugin;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * Facts about the hosting daemon.
 *
 * @param version       the daemon's version, e.g. {@code 0.1.0}
 * @param revision      the source revision it was built from
 * @param root          the daemon's persistent root
 * @param state         the daemon's runtime state directory
 * @param address       the gRPC socket path
 * @param ttrpcAddress  the ttrpc socket path shims publish to
 */
public record DaemonInfo(String version, String revision, Path root, Path state, String address, String ttrpcAddress) {
    public DaemonInfo {
        requireNonNull(version, "version is null");
        requireNonNull(revision, "revision is null");
        requireNonNull(root, "root is null");
        requireNonNull(state, "state is null");
        requireNonNull(address, "address is null");
        requireNonNull(ttrpcAddress, "ttrpcAddress is null");
    }
}
