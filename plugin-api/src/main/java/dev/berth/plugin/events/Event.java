package dev.berth.plugin.events;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.content.Digest;
import java.util.Arrays;
import java.util.Map;

/**
 * What the daemon tells subscribers happened. Each event has containerd's payload type of the same
 * name ({@code containerd.events.<Name>}), under the topic given with it when published.
 */
public sealed interface Event {

    /** A namespace was created (topic {@code /namespaces/create}). */
    record NamespaceCreate(String name, Map<String, String> labels) implements Event {
        public NamespaceCreate {
            requireNonNull(name, "name is null");
            labels = Map.copyOf(requireNonNull(labels, "labels is null"));
        }
    }

    /** A namespace's labels changed (topic {@code /namespaces/update}); {@code labels} are those the client sent. */
    record NamespaceUpdate(String name, Map<String, String> labels) implements Event {
        public NamespaceUpdate {
            requireNonNull(name, "name is null");
            labels = Map.copyOf(requireNonNull(labels, "labels is null"));
        }
    }

    /** A namespace was deleted (topic {@code /namespaces/delete}). */
    record NamespaceDelete(String name) implements Event {
        public NamespaceDelete {
            requireNonNull(name, "name is null");
        }
    }

    /** A blob was deleted from a namespace (topic {@code /content/delete}). */
    record ContentDelete(Digest digest) implements Event {
        public ContentDelete {
            requireNonNull(digest, "digest is null");
        }
    }

    /** An image was created (topic {@code /images/create}). */
    record ImageCreate(String name, Map<String, String> labels) implements Event {
        public ImageCreate {
            requireNonNull(name, "name is null");
            labels = Map.copyOf(requireNonNull(labels, "labels is null"));
        }
    }

    /** An image changed (topic {@code /images/update}); {@code labels} are those it has now. */
    record ImageUpdate(String name, Map<String, String> labels) implements Event {
        public ImageUpdate {
            requireNonNull(name, "name is null");
            labels = Map.copyOf(requireNonNull(labels, "labels is null"));
        }
    }

    /** An image was deleted (topic {@code /images/delete}). */
    record ImageDelete(String name) implements Event {
        public ImageDelete {
            requireNonNull(name, "name is null");
        }
    }

    /** An active snapshot was prepared (topic {@code /snapshot/prepare}); {@code parent} is empty for none. */
    record SnapshotPrepare(String key, String parent) implements Event {
        public SnapshotPrepare {
            requireNonNull(key, "key is null");
            requireNonNull(parent, "parent is null");
        }
    }

    /** Active snapshot {@code key} was committed as {@code name} (topic {@code /snapshot/commit}). */
    record SnapshotCommit(String key, String name) implements Event {
        public SnapshotCommit {
            requireNonNull(key, "key is null");
            requireNonNull(name, "name is null");
        }
    }

    /** A snapshot was removed (topic {@code /snapshot/remove}). */
    record SnapshotRemove(String key) implements Event {
        public SnapshotRemove {
            requireNonNull(key, "key is null");
        }
    }

    /**
     * An event the daemon does not interpret: one a client published or forwarded, or one from a
     * component with its own payload types, kept as the type URL and encoded bytes it came with.
     *
     * @param typeUrl the payload's type, e.g. {@code containerd.events.TaskOOM}
     * @param value   the encoded payload
     */
    record Opaque(String typeUrl, byte[] value) implements Event {
        public Opaque {
            requireNonNull(typeUrl, "typeUrl is null");
            value = requireNonNull(value, "value is null").clone();
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Opaque that && typeUrl.equals(that.typeUrl) && Arrays.equals(value, that.value);
        }

        @Override
        public int hashCode() {
            return 31 * typeUrl.hashCode() + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "Opaque[typeUrl=" + typeUrl + ", " + value.length + " bytes]";
        }
    }
}
