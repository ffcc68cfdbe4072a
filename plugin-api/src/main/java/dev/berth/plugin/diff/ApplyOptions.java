package dev.berth.plugin.diff;

import static java.util.Objects.requireNonNull;

/**
 * How to apply a layer.
 *
 * @param namespace the namespace whose content store holds the layer: a differ reads blobs as that
 *                  namespace sees them, as containerd's does through its request's context
 */
public record ApplyOptions(String namespace) {
    public ApplyOptions {
        requireNonNull(namespace, "namespace is null");
    }
}
