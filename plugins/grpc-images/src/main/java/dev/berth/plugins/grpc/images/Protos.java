package dev.berth.plugins.grpc.images;

import dev.berth.api.filters.Adaptor;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.content.Descriptor;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.mount.Mount;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Conversions the services here share. */
final class Protos {
    private Protos() {}

    /**
     * A label map's entry for a filter, as containerd's {@code checkMap}: the rest of the field path
     * joined with {@code .} is the key; an empty map has no fields at all.
     */
    static Optional<String> labels(Map<String, String> labels, List<String> keyPath) {
        return labels.isEmpty() ? Optional.empty() : Adaptor.mapEntry(labels, keyPath);
    }

    static List<Mount> mounts(List<dev.berth.api.types.Mount> mounts) {
        // the target field is the runtime's business; a snapshot's mounts never carry one
        return mounts.stream().map(m -> new Mount(m.getType(), m.getSource(), m.getOptionsList())).toList();
    }

    static List<dev.berth.api.types.Mount> toProto(List<Mount> mounts) {
        return mounts.stream().map(m -> dev.berth.api.types.Mount.newBuilder()
                .setType(m.type()).setSource(m.source()).addAllOptions(m.options()).build()).toList();
    }

    static dev.berth.api.types.Descriptor toProto(Descriptor descriptor) {
        return dev.berth.api.types.Descriptor.newBuilder()
                .setMediaType(descriptor.mediaType())
                .setDigest(descriptor.digest().toString())
                .setSize(descriptor.size())
                .putAllAnnotations(descriptor.annotations())
                .build();
    }

    /**
     * The descriptor a client sent, checked as containerd's {@code validateTarget} checks an
     * image's target; {@code field} names it in errors, e.g. {@code Target}.
     *
     * @throws dev.berth.plugin.InvalidArgumentException if the digest is malformed or the size negative
     */
    static Descriptor descriptor(dev.berth.api.types.Descriptor descriptor, String field) {
        Digest digest;
        try {
            digest = Digest.parse(descriptor.getDigest());
        } catch (BerthException e) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                    field + ".Digest \"" + descriptor.getDigest() + "\" invalid: " + e.getMessage());
        }
        if (descriptor.getSize() < 0) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                    field + ".Size must not be negative: " + descriptor.getSize());
        }
        return new Descriptor(descriptor.getMediaType(), digest, descriptor.getSize(), descriptor.getAnnotationsMap());
    }
}
