package dev.berth.plugins.metadata;

import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.UnavailableException;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.content.IngestStatus;
import dev.berth.plugin.metadata.GcStats;
import dev.berth.plugin.metadata.Labels;
import dev.berth.plugin.metadata.Resource;
import dev.berth.plugin.snapshots.Cleaner;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugins.metadata.Records.BlobRecord;
import dev.berth.plugins.metadata.Records.ContainerRecord;
import dev.berth.plugins.metadata.Records.ImageRecord;
import dev.berth.plugins.metadata.Records.IngestRecord;
import dev.berth.plugins.metadata.Records.LeaseRecord;
import dev.berth.plugins.metadata.Records.ResourceRecord;
import dev.berth.plugins.metadata.Records.SnapshotRecord;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tricolour mark and sweep over the metadata, with containerd's semantics. Roots: leases that have
 * not expired and what they hold, ingests that have not expired, images (their target and what
 * their labels reference), containers (their snapshot and what their labels reference), blobs and
 * snapshots labelled {@code containerd.io/gc.root}. Edges:
 * {@code containerd.io/gc.ref.content*} and {@code containerd.io/gc.ref.snapshot.<snapshotter>*}
 * labels, a snapshot's parent, and an ingest's shared digest. Unreachable blobs, ingests, leases
 * and snapshots are removed from the metadata; then whatever no namespace still references is
 * removed from the backing content store and from the backend snapshotters.
 */
final class GarbageCollector {
    private static final Logger log = LoggerFactory.getLogger(GarbageCollector.class);
    /** The prefix of every key: a whole table. */
    private static final byte[] ALL = new byte[0];

    enum Kind { CONTENT, SNAPSHOT, LEASE, INGEST }

    /** One object: its kind, namespace and key (a digest, ref, lease id, or {@code <snapshotter>/<key>}). */
    record Node(Kind kind, String namespace, String key) {}

    /** A node to visit; a flat one is kept but its own references are not followed. */
    private record Gray(Node node, boolean flat) {}

    private final Db db;
    private final ContentStore backend;
    private final Map<String, SnapshotBackend> snapshotters;
    private final Clock clock;
    private final Lock contentLock;
    private final Lock serial = new ReentrantLock();
    /** Until the first collection: a crash may have left blobs and ingests the metadata never recorded. */
    private final AtomicBoolean contentUnchecked = new AtomicBoolean(true);

    GarbageCollector(Db db, ContentStore backend, Map<String, SnapshotBackend> snapshotters, Clock clock,
            Lock contentLock) {
        this.db = db;
        this.backend = backend;
        this.snapshotters = snapshotters;
        this.clock = clock;
        this.contentLock = contentLock;
        // a crash may have left backend snapshots the metadata never recorded, or no longer records
        snapshotters.keySet().forEach(db::markSnapshotsDirty);
    }

    GcStats collect() {
        serial.lock();
        try {
            long start = System.nanoTime();
            // Most collections find nothing to sweep: a read transaction tells, without holding up the writes
            // (a write transaction is exclusive) for the length of a mark.
            int seen = db.dirtyCount();
            boolean garbage = db.read(tx -> !unreachable(tx, mark(tx, clock.instant())).isEmpty());
            Swept swept = Swept.NOTHING;
            if (garbage) {
                // mark and sweep in one write transaction: no write can slip in between and be swept unmarked
                swept = db.write(tx -> {
                    Set<Node> reachable = mark(tx, clock.instant());
                    Swept done = sweep(tx, reachable);
                    db.clearDirty();
                    return done;
                });
            } else {
                db.clearDirty(seen);
            }
            int removed = swept.count();
            Duration metadata = Duration.ofNanos(System.nanoTime() - start);
            Duration content = Duration.ZERO;
            // as containerd, the backing store is walked only when a blob or an ingest left the metadata:
            // a collection that swept only leases or snapshots leaves it alone
            // each flag is taken (reset) whatever the others say
            boolean blobsRemoved = db.takeBlobsRemoved();
            boolean unchecked = contentUnchecked.getAndSet(false);
            if (swept.content() || unchecked || blobsRemoved) {
                long contentStart = System.nanoTime();
                cleanupContent();
                content = Duration.ofNanos(System.nanoTime() - contentStart);
            }
            for (String name : db.takeDirtySnapshotters()) {
                SnapshotBackend snapshotter = snapshotters.get(name);
                if (snapshotter != null) {
                    long snapshotsStart = System.nanoTime();
                    cleanupSnapshotter(snapshotter);
                    log.debug("snapshotter {} cleaned up in {}", name, Duration.ofNanos(System.nanoTime() - snapshotsStart));
                }
            }
            log.debug("garbage collected {} objects in {} (content {})", removed, metadata, content);
            return new GcStats(metadata, content, removed);
        } finally {
            serial.unlock();
        }
    }

    private Set<Node> mark(Db.Tx tx, Instant now) {
        // each table is read as its cursor goes: a large store's values are never all in a list at once
        List<Gray> roots = new ArrayList<>();
        tx.each(db.leases, ALL, value -> {
            LeaseRecord lease = LeaseRecord.decode(value);
            if (expired(lease, now)) {
                return;
            }
            boolean flat = lease.labels().containsKey(Labels.GC_FLAT);
            roots.add(new Gray(new Node(Kind.LEASE, lease.namespace(), lease.id()), false));
            tx.each(db.resources, Codec.prefix(lease.namespace(), lease.id()), held -> {
                ResourceRecord resource = ResourceRecord.decode(held);
                Node node = switch (resource.type()) {
                    case Resource.CONTENT -> new Node(Kind.CONTENT, lease.namespace(), resource.id());
                    case Resource.INGESTS -> new Node(Kind.INGEST, lease.namespace(), resource.id());
                    default -> new Node(Kind.SNAPSHOT, lease.namespace(),
                            resource.type().substring(Resource.SNAPSHOTS_PREFIX.length()) + "/" + resource.id());
                };
                roots.add(new Gray(node, flat && node.kind() != Kind.INGEST));
            });
        });
        tx.each(db.ingests, ALL, value -> {
            IngestRecord ingest = IngestRecord.decode(value);
            if (ingest.expireAt().isPresent() && ingest.expireAt().get().isAfter(now)) {
                roots.add(new Gray(new Node(Kind.INGEST, ingest.namespace(), ingest.ref()), false));
            }
        });
        tx.each(db.images, ALL, value -> {
            ImageRecord image = ImageRecord.decode(value);
            roots.add(new Gray(new Node(Kind.CONTENT, image.namespace(), image.digest()), false));
            labelReferences(image.namespace(), image.labels(), roots);
        });
        tx.each(db.containers, ALL, value -> {
            ContainerRecord container = ContainerRecord.decode(value);
            if (!container.snapshotter().isEmpty() && !container.snapshotKey().isEmpty()) {
                roots.add(new Gray(new Node(Kind.SNAPSHOT, container.namespace(),
                        container.snapshotter() + "/" + container.snapshotKey()), false));
            }
            labelReferences(container.namespace(), container.labels(), roots);
        });
        tx.each(db.blobs, ALL, value -> {
            BlobRecord blob = BlobRecord.decode(value);
            if (blob.labels().containsKey(Labels.GC_ROOT)) {
                roots.add(new Gray(new Node(Kind.CONTENT, blob.namespace(), blob.digest()), false));
            }
        });
        tx.each(db.snapshots, ALL, value -> {
            SnapshotRecord snapshot = SnapshotRecord.decode(value);
            if (snapshot.labels().containsKey(Labels.GC_ROOT)) {
                roots.add(new Gray(snapshotNode(snapshot), false));
            }
        });
        return tricolour(tx, roots);
    }

    /** Depth-first marking: grays on a stack, each visited once, black when its references are gray. */
    private Set<Node> tricolour(Db.Tx tx, List<Gray> roots) {
        Deque<Gray> grays = new ArrayDeque<>(roots);
        Set<Gray> seen = new HashSet<>();
        Set<Node> reachable = new HashSet<>();
        while (!grays.isEmpty()) {
            Gray gray = grays.pop();
            if (!seen.add(gray)) {
                continue;
            }
            for (Gray next : references(tx, gray)) {
                if (!seen.contains(next)) {
                    grays.push(next);
                }
            }
            reachable.add(gray.node());
        }
        return reachable;
    }

    private List<Gray> references(Db.Tx tx, Gray gray) {
        Node node = gray.node();
        List<Gray> targets = new ArrayList<>();
        switch (node.kind()) {
            case CONTENT -> {
                if (gray.flat()) {
                    break;
                }
                byte[] value = tx.get(db.blobs, Codec.key(node.namespace(), node.key()));
                if (value != null) {
                    labelReferences(node.namespace(), BlobRecord.decode(value).labels(), targets);
                }
            }
            case SNAPSHOT -> {
                int slash = node.key().indexOf('/');
                byte[] value = tx.get(db.snapshots, Codec.key(node.namespace(), node.key().substring(0, slash),
                        node.key().substring(slash + 1)));
                if (value == null) {
                    // a reference to a snapshot that does not exist (yet)
                    break;
                }
                SnapshotRecord snapshot = SnapshotRecord.decode(value);
                if (!snapshot.parent().isEmpty()) {
                    // a flat lease keeps the whole chain: without its parents a snapshot is unusable
                    targets.add(new Gray(new Node(Kind.SNAPSHOT, node.namespace(),
                            snapshot.snapshotter() + "/" + snapshot.parent()), gray.flat()));
                }
                if (!gray.flat()) {
                    labelReferences(node.namespace(), snapshot.labels(), targets);
                }
            }
            case INGEST -> {
                byte[] value = tx.get(db.ingests, Codec.key(node.namespace(), node.key()));
                if (value != null) {
                    IngestRecord ingest = IngestRecord.decode(value);
                    ingest.expected().ifPresent(d -> targets.add(
                            new Gray(new Node(Kind.CONTENT, node.namespace(), d), false)));
                }
            }
            case LEASE -> { }
        }
        return targets;
    }

    /** The references a labelled object makes, by containerd's label conventions. */
    private static void labelReferences(String namespace, Map<String, String> labels, List<Gray> targets) {
        String content = Labels.GC_REF_CONTENT;
        for (var label : labels.entrySet()) {
            String key = label.getKey();
            if (key.startsWith(content) && (key.length() == content.length()
                    || key.charAt(content.length()) == '.' || key.charAt(content.length()) == '/')) {
                targets.add(new Gray(new Node(Kind.CONTENT, namespace, label.getValue()), false));
            } else if (key.startsWith(Labels.GC_REF_SNAPSHOT)) {
                String snapshotter = key.substring(Labels.GC_REF_SNAPSHOT.length());
                int slash = snapshotter.indexOf('/');
                if (slash >= 0) {
                    snapshotter = snapshotter.substring(0, slash);
                }
                targets.add(new Gray(new Node(Kind.SNAPSHOT, namespace, snapshotter + "/" + label.getValue()), false));
            }
        }
    }

    /** The leases, ingests, blobs and snapshots that {@code reachable} leaves out. */
    private List<Node> unreachable(Db.Tx tx, Set<Node> reachable) {
        List<Node> found = new ArrayList<>();
        Consumer<Node> unlessReachable = node -> {
            if (!reachable.contains(node)) {
                found.add(node);
            }
        };
        tx.each(db.leases, ALL, value -> {
            LeaseRecord lease = LeaseRecord.decode(value);
            unlessReachable.accept(new Node(Kind.LEASE, lease.namespace(), lease.id()));
        });
        tx.each(db.ingests, ALL, value -> {
            IngestRecord ingest = IngestRecord.decode(value);
            unlessReachable.accept(new Node(Kind.INGEST, ingest.namespace(), ingest.ref()));
        });
        tx.each(db.blobs, ALL, value -> {
            BlobRecord blob = BlobRecord.decode(value);
            unlessReachable.accept(new Node(Kind.CONTENT, blob.namespace(), blob.digest()));
        });
        tx.each(db.snapshots, ALL, value -> unlessReachable.accept(snapshotNode(SnapshotRecord.decode(value))));
        return found;
    }

    /** What a sweep removed: how many objects, and whether blobs or ingests were among them. */
    private record Swept(int count, boolean content) {
        static final Swept NOTHING = new Swept(0, false);
    }

    private Swept sweep(Db.Tx tx, Set<Node> reachable) {
        List<Node> garbage = unreachable(tx, reachable);
        boolean content = false;
        for (Node node : garbage) {
            String ns = node.namespace();
            switch (node.kind()) {
                case LEASE -> {
                    tx.delete(db.leases, Codec.key(ns, node.key()));
                    tx.deleteAll(db.resources, Codec.prefix(ns, node.key()));
                }
                case INGEST -> {
                    tx.delete(db.ingests, Codec.key(ns, node.key()));
                    content = true;
                }
                case CONTENT -> {
                    tx.delete(db.blobs, Codec.key(ns, node.key()));
                    content = true;
                }
                case SNAPSHOT -> {
                    int slash = node.key().indexOf('/');
                    String snapshotter = node.key().substring(0, slash);
                    String key = node.key().substring(slash + 1);
                    SnapshotRecord snapshot = SnapshotRecord.decode(tx.get(db.snapshots, Codec.key(ns, snapshotter, key)));
                    tx.delete(db.snapshots, Codec.key(ns, snapshotter, key));
                    // a reachable child keeps its parent, so the children of an unreachable snapshot are unreachable too
                    tx.deleteAll(db.children, Codec.prefix(ns, snapshotter, key));
                    if (!snapshot.parent().isEmpty()) {
                        tx.delete(db.children, Codec.key(ns, snapshotter, snapshot.parent(), key));
                    }
                    db.markSnapshotsDirty(snapshotter);
                }
            }
        }
        return new Swept(garbage.size(), content);
    }

    /** Removes from the backing store the blobs and ingests no namespace references any more. */
    private void cleanupContent() {
        contentLock.lock();
        try {
            Set<String> contentSeen = new HashSet<>();
            Set<String> ingestSeen = new HashSet<>();
            db.read(tx -> {
                tx.each(db.blobs, ALL, v -> contentSeen.add(BlobRecord.decode(v).digest()));
                tx.each(db.ingests, ALL, value -> {
                    IngestRecord ingest = IngestRecord.decode(value);
                    // a shared digest may be gone from its own namespace: the ingest keeps it
                    ingest.expected().ifPresent(contentSeen::add);
                    ingestSeen.add(ingest.backendRef());
                });
                return null;
            });
            List<Digest> unreferenced = new ArrayList<>();
            backend.walk(info -> !contentSeen.contains(info.digest().toString()), info -> unreferenced.add(info.digest()));
            for (Digest digest : unreferenced) {
                try {
                    backend.delete(digest);
                    log.debug("removed content {}", digest);
                } catch (NotFoundException e) {
                    // already gone
                }
            }
            for (IngestStatus status : backend.listStatuses(s -> !ingestSeen.contains(s.ref()))) {
                try {
                    backend.abort(status.ref());
                    log.debug("aborted ingest {}", status.ref());
                } catch (NotFoundException | UnavailableException e) {
                    // finished meanwhile, or a writer still holds it: the next collection retries
                }
            }
        } finally {
            contentLock.unlock();
        }
    }

    /**
     * Removes from a backend snapshotter the snapshots no namespace records any more, children
     * before parents, as containerd's snapshotter cleanup. Holding the backend's lock exclusively
     * keeps out creations, whose backend snapshots are not recorded yet.
     */
    private void cleanupSnapshotter(SnapshotBackend snapshotter) {
        Lock lock = snapshotter.lock().writeLock();
        lock.lock();
        try {
            Set<String> seen = db.read(tx -> {
                Set<String> keys = new HashSet<>();
                tx.each(db.snapshots, ALL, value -> {
                    SnapshotRecord snapshot = SnapshotRecord.decode(value);
                    if (snapshot.snapshotter().equals(snapshotter.name())) {
                        keys.add(snapshot.backendKey());
                    }
                });
                return keys;
            });
            Map<String, List<SnapshotInfo>> children = new HashMap<>();
            List<SnapshotInfo> roots = new ArrayList<>();
            snapshotter.snapshotter().walk(info -> true, info -> {
                if (info.parent().isEmpty()) {
                    roots.add(info);
                } else {
                    children.computeIfAbsent(info.parent(), parent -> new ArrayList<>()).add(info);
                }
            });
            for (SnapshotInfo root : roots) {
                prune(snapshotter, root, children, seen);
            }
            if (snapshotter.snapshotter() instanceof Cleaner cleaner) {
                cleaner.cleanup();
            }
        } catch (RuntimeException e) {
            // the metadata is consistent already; what is left in the backend goes at the next cleanup
            db.markSnapshotsDirty(snapshotter.name());
            log.warn("snapshotter {}: cleanup failed", snapshotter.name(), e);
        } finally {
            lock.unlock();
        }
    }

    private void prune(SnapshotBackend snapshotter, SnapshotInfo node, Map<String, List<SnapshotInfo>> children,
            Set<String> seen) {
        // iterative depth-first post-order: chains may be longer than the stack is deep
        Deque<SnapshotInfo> pending = new ArrayDeque<>(List.of(node));
        Deque<SnapshotInfo> order = new ArrayDeque<>();
        while (!pending.isEmpty()) {
            SnapshotInfo next = pending.pop();
            order.push(next);
            children.getOrDefault(next.name(), List.of()).forEach(pending::push);
        }
        for (SnapshotInfo info : order) {
            if (seen.contains(info.name())) {
                continue;
            }
            try {
                snapshotter.snapshotter().remove(info.name());
                log.debug("snapshotter {}: removed snapshot {}", snapshotter.name(), info.name());
            } catch (NotFoundException e) {
                // already gone
            } catch (FailedPreconditionException e) {
                // a child the metadata still records keeps it
                log.warn("snapshotter {}: failed to remove snapshot {}: {}", snapshotter.name(), info.name(),
                        e.getMessage());
            }
        }
    }

    private static Node snapshotNode(SnapshotRecord snapshot) {
        return new Node(Kind.SNAPSHOT, snapshot.namespace(), snapshot.snapshotter() + "/" + snapshot.key());
    }

    private static boolean expired(LeaseRecord lease, Instant now) {
        String expire = lease.labels().get(Labels.GC_EXPIRE);
        if (expire == null) {
            return false;
        }
        try {
            return now.isAfter(OffsetDateTime.parse(expire).toInstant());
        } catch (DateTimeParseException e) {
            log.info("lease {} in {}: ignoring invalid expiration value \"{}\"", lease.id(), lease.namespace(), expire);
            return false;
        }
    }
}
