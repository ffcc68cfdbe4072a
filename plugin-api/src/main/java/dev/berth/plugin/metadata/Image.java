package dev.berth.plugin.metadata;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.content.Descriptor;
import java.time.Instant;
import java.util.Map;

/**
 * A named reference to image content in a namespace, as containerd's {@code images.Image}: the
 * image is a garbage collection root holding its target and, through the target's
 * {@code containerd.io/gc.ref.*} labels, everything the target refers to.
 *
 * @param name      the image's name, e.g. {@code docker.io/library/busybox:latest}
 * @param labels    its labels; never null
 * @param target    the root descriptor (index or manifest)
 * @param createdAt when it was created (set by the store)
 * @param updatedAt when it last changed (set by the store)
 */
public record Image(String name, Map<String, String> labels, Descriptor target, Instant createdAt, Instant updatedAt) {
    public Image {
        requireNonNull(name, "name is null");
        labels = Map.copyOf(requireNonNull(labels, "labels is null"));
        requireNonNull(target, "target is null");
        requireNonNull(createdAt, "createdAt is null");
        requireNonNull(updatedAt, "updatedAt is null");
    }
}
