package dev.berth.plugins.metadata;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.content.ContentInfo;
import dev.berth.plugin.content.ContentReader;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.content.IngestStatus;
import dev.berth.plugin.content.Refs;
import dev.berth.plugin.metadata.Labels;
import dev.berth.plugin.metadata.Resource;
import dev.berth.plugins.metadata.Records.BlobRecord;
import dev.berth.plugins.metadata.Records.IngestRecord;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.Lock;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * One namespace's view of the backing content store. The metadata records which blobs the
 * namespace has committed and their labels; the backing store only holds bytes. Content already in
 * the backing store (committed by another namespace) is shared: a writer announcing its digest
 * needs no bytes, and its commit records the blob here, as containerd's default "shared" policy.
 */
final class NamespacedContent implements ContentStore {
    /** How long an ingest no lease holds is kept, as containerd. */
    static final Duration INGEST_EXPIRY = Duration.ofHours(24);
    /** Blobs read per transaction of a walk. */
    static final int WALK_PAGE = 256;

    private final Db db;
    private final ContentStore backend;
    private final Clock clock;
    private final Lock contentLock;
    private final String namespace;
    private final Optional<String> lease;

    NamespacedContent(Db db, ContentStore backend, Clock clock, Lock contentLock, String namespace, Optional<String> lease) {
        this.db = db;
        this.backend = backend;
        this.clock = clock;
        this.contentLock = contentLock;
        this.namespace = namespace;
        this.lease = lease;
    }

    @Override
    public ContentInfo info(Digest digest) {
        return db.read(tx -> toInfo(requireBlob(tx, digest)));
    }

    @Override
    public ContentInfo update(ContentInfo info, List<String> fieldPaths) {
        return db.write(tx -> {
            BlobRecord current = requireBlob(tx, info.digest());
            Map<String, String> labels = new TreeMap<>(current.labels());
            if (fieldPaths.isEmpty()) {
                labels = new TreeMap<>(info.labels());
            }
            for (String path : fieldPaths) {
                if (path.startsWith("labels.")) {
                    String key = path.substring("labels.".length());
                    String value = info.labels().get(key);
                    if (value == null || value.isEmpty()) {
                        labels.remove(key);
                    } else {
                        labels.put(key, value);
                    }
                } else if (path.equals("labels")) {
                    labels = new TreeMap<>(info.labels());
                } else {
                    throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                            "cannot update \"" + path + "\" field on content info \"" + info.digest() + "\"");
                }
            }
            labels.values().removeIf(String::isEmpty);
            Labels.validate("info.Labels", labels);
            BlobRecord updated = new BlobRecord(namespace, current.digest(), current.size(), current.createdAt(),
                    clock.instant(), labels);
            tx.put(db.blobs, Codec.key(namespace, current.digest()), updated.encode());
            return toInfo(updated);
        });
    }

    @Override
    public void walk(Predicate<? super ContentInfo> filter, Consumer<? super ContentInfo> consumer) {
        // a page at a time, each read in a transaction of its own and called back after it: a
        // consumer may take long or write, and must not hold a reader; and a long walk holds one
        // page, not every blob of the namespace
        byte[] prefix = Codec.prefix(namespace);
        byte[] after = null;
        while (true) {
            byte[] from = after;
            List<Map.Entry<byte[], byte[]>> page = db.read(tx -> tx.page(db.blobs, prefix, from, WALK_PAGE));
            for (Map.Entry<byte[], byte[]> entry : page) {
                ContentInfo info = toInfo(BlobRecord.decode(entry.getValue()));
                if (filter.test(info)) {
                    consumer.accept(info);
                }
            }
            if (page.size() < WALK_PAGE) {
                return;
            }
            after = page.getLast().getKey();
        }
    }

    @Override
    public void delete(Digest digest) {
        withContentLock(() -> db.write(tx -> {
            requireBlob(tx, digest);
            tx.delete(db.blobs, Codec.key(namespace, digest.toString()));
            lease.ifPresent(id -> LmdbLeases.remove(db, tx, namespace, id, new Resource(digest.toString(), Resource.CONTENT)));
            db.markDirty();
            return null;
        }));
    }

    @Override
    public ContentReader readerAt(Digest digest) {
        db.read(tx -> requireBlob(tx, digest));
        return backend.readerAt(digest);
    }

    @Override
    public IngestStatus status(String ref) {
        Refs.validate(ref);
        IngestRecord ingest = db.read(tx -> ingest(tx, ref));
        if (ingest == null) {
            throw BerthException.of(BerthException.Kind.NOT_FOUND, "reference " + ref);
        }
        return renamed(backend.status(ingest.backendRef()), ref);
    }

    @Override
    public List<IngestStatus> listStatuses(Predicate<? super IngestStatus> filter) {
        List<IngestRecord> records = db.read(tx -> tx.scan(db.ingests, Codec.prefix(namespace)).stream()
                .map(IngestRecord::decode).toList());
        List<IngestStatus> statuses = new ArrayList<>();
        for (IngestRecord record : records) {
            IngestStatus status;
            try {
                status = renamed(backend.status(record.backendRef()), record.ref());
            } catch (NotFoundException e) {
                continue;
            }
            if (filter.test(status)) {
                statuses.add(status);
            }
        }
        return statuses;
    }

    @Override
    public void abort(String ref) {
        Refs.validate(ref);
        withContentLock(() -> db.write(tx -> {
            IngestRecord ingest = ingest(tx, ref);
            if (ingest == null) {
                throw BerthException.of(BerthException.Kind.NOT_FOUND, "reference " + ref);
            }
            tx.delete(db.ingests, Codec.key(namespace, ref));
            lease.ifPresent(id -> LmdbLeases.remove(db, tx, namespace, id, new Resource(ref, Resource.INGESTS)));
            if (ingest.expected().isEmpty()) {
                // inside the transaction: if the backing store refuses (a writer is open), nothing changes
                try {
                    backend.abort(ingest.backendRef());
                } catch (NotFoundException e) {
                    // no bytes were ever written under this ingest
                }
            }
            return null;
        }));
    }

    @Override
    public ContentWriter writer(String ref, long total, Optional<Digest> expected) {
        Refs.validate(ref);
        return withContentLock(() -> {
            record Opened(boolean exists, IngestRecord ingest, long total) {}
            Opened opened = db.write(tx -> {
                if (expected.isPresent() && blob(tx, expected.get()) != null) {
                    // keep what the client found under its lease, as containerd does before saying it exists
                    lease.ifPresent(id -> leaseResource(tx, id, new Resource(expected.get().toString(), Resource.CONTENT)));
                    return new Opened(true, null, total);
                }
                Optional<String> shared = Optional.empty();
                long size = total;
                if (expected.isPresent()) {
                    try {
                        ContentInfo existing = backend.info(expected.get());
                        if (total <= 0 || total == existing.size()) {
                            shared = Optional.of(expected.get().toString());
                            size = existing.size();
                        }
                    } catch (NotFoundException e) {
                        // not in the backing store: the client must provide the bytes
                    }
                }
                LmdbNamespaces.ensure(db, tx, namespace);
                IngestRecord previous = ingest(tx, ref);
                String backendRef = previous != null ? previous.backendRef()
                        : namespace + "/" + db.nextSequence(tx, "ingest-seq") + "/" + ref;
                lease.ifPresent(id -> leaseResource(tx, id, new Resource(ref, Resource.INGESTS)));
                // an ingest no lease holds is kept for a day; one a lease holds goes with the lease
                Optional<Instant> expireAt = lease.isPresent() ? Optional.empty()
                        : Optional.of(clock.instant().plus(INGEST_EXPIRY));
                IngestRecord ingest = new IngestRecord(namespace, ref, backendRef, expireAt, shared);
                tx.put(db.ingests, Codec.key(namespace, ref), ingest.encode());
                return new Opened(false, ingest, size);
            });
            if (opened.exists()) {
                throw BerthException.of(BerthException.Kind.ALREADY_EXISTS, "content " + expected.get());
            }
            if (opened.ingest().expected().isPresent()) {
                return new NamespacedWriter(this, ref, opened.ingest().backendRef(), null, expected.get(),
                        opened.total(), clock.instant());
            }
            ContentWriter inner = backend.writer(opened.ingest().backendRef(), total, Optional.empty());
            return new NamespacedWriter(this, ref, opened.ingest().backendRef(), inner, null, total, clock.instant());
        });
    }

    /** Opens a backing writer for a shared ingest and copies the first {@code size} bytes of the shared blob into it. */
    ContentWriter unshare(String backendRef, Digest shared, long total, long size) {
        ContentWriter inner = backend.writer(backendRef, total, Optional.empty());
        try (ContentReader reader = backend.readerAt(shared)) {
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
            long offset = inner.status().offset();
            if (offset > size) {
                inner.truncate(size);
                offset = size;
            }
            while (offset < size) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), size - offset));
                int read = reader.read(buffer, offset);
                if (read < 0) {
                    throw BerthException.of(BerthException.Kind.FAILED_PRECONDITION,
                            "content " + shared + " is shorter than " + size);
                }
                inner.write(buffer.flip());
                offset += read;
            }
        } catch (RuntimeException e) {
            inner.close();
            throw e;
        }
        return inner;
    }

    /**
     * Records the committed blob in this namespace, drops the ingest and moves the lease from the
     * ingest to the blob.
     *
     * @throws AlreadyExistsException if the namespace already had the blob (the ingest is still dropped)
     */
    void recordCommit(String ref, Digest digest, long size, Map<String, String> labels) {
        boolean existed = db.write(tx -> {
            tx.delete(db.ingests, Codec.key(namespace, ref));
            lease.ifPresent(id -> LmdbLeases.remove(db, tx, namespace, id, new Resource(ref, Resource.INGESTS)));
            boolean present = blob(tx, digest) != null;
            if (!present) {
                LmdbNamespaces.ensure(db, tx, namespace);
                Instant now = clock.instant();
                Map<String, String> kept = new TreeMap<>(labels);
                kept.values().removeIf(String::isEmpty);
                tx.put(db.blobs, Codec.key(namespace, digest.toString()),
                        new BlobRecord(namespace, digest.toString(), size, now, now, kept).encode());
            }
            lease.ifPresent(id -> leaseResource(tx, id, new Resource(digest.toString(), Resource.CONTENT)));
            return present;
        });
        if (existed) {
            throw BerthException.of(BerthException.Kind.ALREADY_EXISTS, "content " + digest);
        }
    }

    <T> T withContentLock(Supplier<T> work) {
        contentLock.lock();
        try {
            return work.get();
        } finally {
            contentLock.unlock();
        }
    }

    private void leaseResource(Db.Tx tx, String id, Resource resource) {
        if (!LmdbLeases.exists(db, tx, namespace, id)) {
            throw BerthException.of(BerthException.Kind.NOT_FOUND, "lease does not exist");
        }
        LmdbLeases.put(db, tx, namespace, id, resource);
    }

    private IngestRecord ingest(Db.Tx tx, String ref) {
        byte[] value = tx.get(db.ingests, Codec.key(namespace, ref));
        return value == null ? null : IngestRecord.decode(value);
    }

    private BlobRecord blob(Db.Tx tx, Digest digest) {
        byte[] value = tx.get(db.blobs, Codec.key(namespace, digest.toString()));
        return value == null ? null : BlobRecord.decode(value);
    }

    private BlobRecord requireBlob(Db.Tx tx, Digest digest) {
        BlobRecord blob = blob(tx, digest);
        if (blob == null) {
            throw BerthException.of(BerthException.Kind.NOT_FOUND, "content digest " + digest);
        }
        return blob;
    }

    private static IngestStatus renamed(IngestStatus status, String ref) {
        return new IngestStatus(ref, status.offset(), status.total(), status.expected(), status.startedAt(),
                status.updatedAt());
    }

    private static ContentInfo toInfo(BlobRecord record) {
        return new ContentInfo(Digest.parse(record.digest()), record.size(), record.createdAt(), record.updatedAt(),
                record.labels());
    }
}
