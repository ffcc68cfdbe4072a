package dev.berth.plugins.metadata;

import dev.berth.plugin.runtime.TypedValue;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The values stored in the schema's tables, with their encodings. */
final class Records {
    private Records() {}

    /** A namespace and its labels. */
    record NamespaceRecord(String name, Map<String, String> labels) {
        byte[] encode() {
            return Codec.value(out -> {
                Codec.writeString(out, name);
                Codec.writeLabels(out, labels);
            });
        }

        static NamespaceRecord decode(byte[] value) {
            return Codec.read(value, in -> new NamespaceRecord(Codec.readString(in), Codec.readLabels(in)));
        }
    }

    /** A blob as one namespace sees it. */
    record BlobRecord(String namespace, String digest, long size, Instant createdAt, Instant updatedAt,
            Map<String, String> labels) {
        byte[] encode() {
            return Codec.value(out -> {
                Codec.writeString(out, namespace);
                Codec.writeString(out, digest);
                out.writeLong(size);
                Codec.writeInstant(out, createdAt);
                Codec.writeInstant(out, updatedAt);
                Codec.writeLabels(out, labels);
            });
        }

        static BlobRecord decode(byte[] value) {
            return Codec.read(value, in -> new BlobRecord(Codec.readString(in), Codec.readString(in), in.readLong(),
                    Codec.readInstant(in), Codec.readInstant(in), Codec.readLabels(in)));
        }
    }

    /**
     * An ingest of one namespace: the client's ref, the ref used in the backing store, when an
     * ingest no lease holds expires, and the digest of shared content it resolves to, if any.
     */
    record IngestRecord(String namespace, String ref, String backendRef, Optional<Instant> expireAt,
            Optional<String> expected) {
        byte[] encode() {
            return Codec.value(out -> {
                Codec.writeString(out, namespace);
                Codec.writeString(out, ref);
                Codec.writeString(out, backendRef);
                out.writeBoolean(expireAt.isPresent());
                if (expireAt.isPresent()) {
                    Codec.writeInstant(out, expireAt.get());
                }
                Codec.writeOptional(out, expected);
            });
        }

        static IngestRecord decode(byte[] value) {
            return Codec.read(value, in -> new IngestRecord(Codec.readString(in), Codec.readString(in),
                    Codec.readString(in), in.readBoolean() ? Optional.of(Codec.readInstant(in)) : Optional.empty(),
                    Codec.readOptional(in)));
        }
    }

    /** A lease. */
    record LeaseRecord(String namespace, String id, Instant createdAt, Map<String, String> labels) {
        byte[] encode() {
            return Codec.value(out -> {
                Codec.writeString(out, namespace);
                Codec.writeString(out, id);
                Codec.writeInstant(out, createdAt);
                Codec.writeLabels(out, labels);
            });
        }

        static LeaseRecord decode(byte[] value) {
            return Codec.read(value, in -> new LeaseRecord(Codec.readString(in), Codec.readString(in),
                    Codec.readInstant(in), Codec.readLabels(in)));
        }
    }

    /** A resource a lease holds. */
    record ResourceRecord(String namespace, String lease, String type, String id) {
        byte[] encode() {
            return Codec.value(out -> {
                Codec.writeString(out, namespace);
                Codec.writeString(out, lease);
                Codec.writeString(out, type);
                Codec.writeString(out, id);
            });
        }

        static ResourceRecord decode(byte[] value) {
            return Codec.read(value, in -> new ResourceRecord(Codec.readString(in), Codec.readString(in),
                    Codec.readString(in), Codec.readString(in)));
        }
    }

    /**
     * A snapshot as one namespace sees it: its key there, the key of the snapshot in the backend
     * snapshotter, its parent's key in the namespace (empty for none), and its labels.
     */
    record SnapshotRecord(String namespace, String snapshotter, String key, String backendKey, String parent,
            Map<String, String> labels, Instant createdAt, Instant updatedAt) {
        byte[] encode() {
            return Codec.value(out -> {
                Codec.writeString(out, namespace);
                Codec.writeString(out, snapshotter);
                Codec.writeString(out, key);
                Codec.writeString(out, backendKey);
                Codec.writeString(out, parent);
                Codec.writeLabels(out, labels);
                Codec.writeInstant(out, createdAt);
                Codec.writeInstant(out, updatedAt);
            });
        }

        static SnapshotRecord decode(byte[] value) {
            return Codec.read(value, in -> new SnapshotRecord(Codec.readString(in), Codec.readString(in),
                    Codec.readString(in), Codec.readString(in), Codec.readString(in), Codec.readLabels(in),
                    Codec.readInstant(in), Codec.readInstant(in)));
        }
    }

    /** An image: its name, labels and target descriptor. */
    record ImageRecord(String namespace, String name, Map<String, String> labels, String mediaType, String digest,
            long size, Map<String, String> annotations, Instant createdAt, Instant updatedAt) {
        byte[] encode() {
            return Codec.value(out -> {
                Codec.writeString(out, namespace);
                Codec.writeString(out, name);
                Codec.writeLabels(out, labels);
                Codec.writeString(out, mediaType);
                Codec.writeString(out, digest);
                out.writeLong(size);
                Codec.writeLabels(out, annotations);
                Codec.writeInstant(out, createdAt);
                Codec.writeInstant(out, updatedAt);
            });
        }

        static ImageRecord decode(byte[] value) {
            return Codec.read(value, in -> new ImageRecord(Codec.readString(in), Codec.readString(in),
                    Codec.readLabels(in), Codec.readString(in), Codec.readString(in), in.readLong(),
                    Codec.readLabels(in), Codec.readInstant(in), Codec.readInstant(in)));
        }
    }
    /**
     * A container: its runtime (name and options), spec, root filesystem's snapshot and extensions;
     * typed values keep their type URL and bytes as given.
     */
    record ContainerRecord(String namespace, String id, Map<String, String> labels, String image, String runtimeName,
            Optional<TypedValue> runtimeOptions, Optional<TypedValue> spec, String snapshotKey, String snapshotter,
            Map<String, TypedValue> extensions, Instant createdAt, Instant updatedAt) {
        byte[] encode() {
            return Codec.value(out -> {
                Codec.writeString(out, namespace);
                Codec.writeString(out, id);
                Codec.writeLabels(out, labels);
                Codec.writeString(out, image);
                Codec.writeString(out, runtimeName);
                writeTyped(out, runtimeOptions);
                writeTyped(out, spec);
                Codec.writeString(out, snapshotKey);
                Codec.writeString(out, snapshotter);
                out.writeInt(extensions.size());
                for (var entry : new TreeMap<>(extensions).entrySet()) {
                    Codec.writeString(out, entry.getKey());
                    writeTyped(out, Optional.of(entry.getValue()));
                }
                Codec.writeInstant(out, createdAt);
                Codec.writeInstant(out, updatedAt);
            });
        }

        static ContainerRecord decode(byte[] value) {
            return Codec.read(value, in -> {
                String namespace = Codec.readString(in);
                String id = Codec.readString(in);
                Map<String, String> labels = Codec.readLabels(in);
                String image = Codec.readString(in);
                String runtimeName = Codec.readString(in);
                Optional<TypedValue> runtimeOptions = readTyped(in);
                Optional<TypedValue> spec = readTyped(in);
                String snapshotKey = Codec.readString(in);
                String snapshotter = Codec.readString(in);
                int count = in.readInt();
                Map<String, TypedValue> extensions = new TreeMap<>();
                for (int i = 0; i < count; i++) {
                    extensions.put(Codec.readString(in), readTyped(in).orElseThrow());
                }
                return new ContainerRecord(namespace, id, labels, image, runtimeName, runtimeOptions, spec,
                        snapshotKey, snapshotter, extensions, Codec.readInstant(in), Codec.readInstant(in));
            });
        }

        private static void writeTyped(DataOutputStream out, Optional<TypedValue> typed) throws IOException {
            out.writeBoolean(typed.isPresent());
            if (typed.isPresent()) {
                Codec.writeString(out, typed.get().typeUrl());
                byte[] bytes = typed.get().value();
                out.writeInt(bytes.length);
                out.write(bytes);
            }
        }

        private static Optional<TypedValue> readTyped(DataInputStream in) throws IOException {
            if (!in.readBoolean()) {
                return Optional.empty();
            }
            String typeUrl = Codec.readString(in);
            return Optional.of(new TypedValue(typeUrl, in.readNBytes(in.readInt())));
        }
    }
}
