package dev.berth.plugin.metadata;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.runtime.TypedValue;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A container's metadata, as containerd's {@code containers.Container}: what to run (spec, runtime)
 * and on what (snapshotter and snapshot key, image name). A container is a garbage collection root
 * holding its snapshot and its image's content.
 *
 * @param id          its id, a valid identifier
 * @param labels      its labels; never null
 * @param image       the image it was made from, or empty
 * @param runtime     the runtime that runs its tasks
 * @param spec        the OCI runtime spec ({@code types.containerd.io/opencontainers/runtime-spec/1/Spec}), if any
 * @param snapshotKey the key of its root file system's active snapshot, or empty
 * @param snapshotter the snapshotter that holds it, or empty
 * @param extensions  client-defined values kept with the container; never null
 * @param createdAt   set by the store
 * @param updatedAt   set by the store
 */
public record Container(
        String id,
        Map<String, String> labels,
        String image,
        Runtime runtime,
        Optional<TypedValue> spec,
        String snapshotKey,
        String snapshotter,
        Map<String, TypedValue> extensions,
        Instant createdAt,
        Instant updatedAt) {

    public Container {
        requireNonNull(id, "id is null");
        labels = Map.copyOf(requireNonNull(labels, "labels is null"));
        requireNonNull(image, "image is null");
        requireNonNull(runtime, "runtime is null");
        requireNonNull(spec, "spec is null");
        requireNonNull(snapshotKey, "snapshotKey is null");
        requireNonNull(snapshotter, "snapshotter is null");
        extensions = Map.copyOf(requireNonNull(extensions, "extensions is null"));
        requireNonNull(createdAt, "createdAt is null");
        requireNonNull(updatedAt, "updatedAt is null");
    }

    /**
     * The runtime of a container.
     *
     * @param name    e.g. {@code io.containerd.runc.v2}
     * @param options the runtime's own options (e.g. runc's {@code containerd.runc.v1.Options}), if any
     */
    public record Runtime(String name, Optional<TypedValue> options) {
        public Runtime {
            requireNonNull(name, "name is null");
            requireNonNull(options, "options is null");
        }
    }
}
