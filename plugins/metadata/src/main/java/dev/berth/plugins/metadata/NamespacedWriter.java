package dev.berth.plugins.metadata;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.content.IngestStatus;
import dev.berth.plugin.metadata.Labels;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A namespace's writer. It wraps a backing writer, or, for content the backing store already holds
 * (shared), none until the client writes or truncates, when the shared bytes are copied into a
 * fresh backing ingest. Its commit records the blob in the namespace, also when the backing store
 * says the blob already exists.
 */
final class NamespacedWriter implements ContentWriter {
    private final NamespacedContent content;
    private final String ref;
    private final String backendRef;
    private final Digest shared;
    private final long total;
    private final Instant started;
    private ContentWriter inner;

    NamespacedWriter(NamespacedContent content, String ref, String backendRef, ContentWriter inner, Digest shared,
            long total, Instant started) {
        this.content = content;
        this.ref = ref;
        this.backendRef = backendRef;
        this.inner = inner;
        this.shared = shared;
        this.total = total;
        this.started = started;
    }

    @Override
    public Digest digest() {
        return inner != null ? inner.digest() : shared;
    }

    @Override
    public IngestStatus status() {
        if (inner == null) {
            return new IngestStatus(ref, total, total, Optional.of(shared), started, started);
        }
        IngestStatus status = inner.status();
        return new IngestStatus(ref, status.offset(), status.total(), status.expected(), status.startedAt(),
                status.updatedAt());
    }

    @Override
    public void write(ByteBuffer src) {
        if (inner == null) {
            if (!src.hasRemaining()) {
                return;
            }
            inner = content.unshare(backendRef, shared, total, total);
        }
        inner.write(src);
    }

    @Override
    public void truncate(long size) {
        if (inner == null) {
            if (size < 0 || size > total) {
                throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "cannot truncate " + ref + " to " + size);
            }
            inner = content.unshare(backendRef, shared, total, size);
            return;
        }
        inner.truncate(size);
    }

    @Override
    public void commit(long size, Optional<Digest> expected, Map<String, String> labels) {
        try {
            Labels.validate("info.Labels", labels);
        } catch (BerthException e) {
            close();
            throw e;
        }
        content.withContentLock(() -> {
            Digest actual;
            long committed;
            if (inner == null) {
                if (size > 0 && size != total) {
                    throw BerthException.of(BerthException.Kind.FAILED_PRECONDITION,
                            "\"" + ref + "\" failed size validation: " + total + " != " + size);
                }
                if (expected.isPresent() && !expected.get().equals(shared)) {
                    throw BerthException.of(BerthException.Kind.FAILED_PRECONDITION, "\"" + ref + "\" unexpected digest");
                }
                actual = shared;
                committed = total;
            } else {
                IngestStatus status = inner.status();
                if (size > 0 && size != status.offset()) {
                    inner.close();
                    throw BerthException.of(BerthException.Kind.FAILED_PRECONDITION,
                            "\"" + ref + "\" failed size validation: " + status.offset() + " != " + size);
                }
                committed = status.offset();
                actual = inner.digest();
                try {
                    // the metadata owns labels; the backing store keeps none
                    inner.commit(committed, expected, Map.of());
                } catch (AlreadyExistsException e) {
                    // committed by another namespace: still recorded in this one, as containerd does
                }
            }
            content.recordCommit(ref, actual, committed, labels);
            return null;
        });
    }

    @Override
    public void close() {
        if (inner != null) {
            inner.close();
        }
    }
}
