package dev.berth.plugins.metadata;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.metadata.Identifiers;
import dev.berth.plugin.metadata.Labels;
import dev.berth.plugin.metadata.Lease;
import dev.berth.plugin.metadata.LeaseManager;
import dev.berth.plugin.metadata.Resource;
import dev.berth.plugins.metadata.Records.LeaseRecord;
import dev.berth.plugins.metadata.Records.ResourceRecord;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** Leases in the {@code leases} table, what they hold in {@code resources}. */
final class LmdbLeases implements LeaseManager {
    private final Db db;
    private final Clock clock;
    private final Runnable collect;

    LmdbLeases(Db db, Clock clock, Runnable collect) {
        this.db = db;
        this.clock = clock;
        this.collect = collect;
    }

    @Override
    public Lease create(String namespace, String id, Map<String, String> labels) {
        Identifiers.validate(namespace);
        validateId(id);
        Labels.validate("lease.Labels", labels);
        Map<String, String> kept = new TreeMap<>(labels);
        kept.values().removeIf(String::isEmpty);
        LeaseRecord record = new LeaseRecord(namespace, id, clock.instant(), kept);
        db.write(tx -> {
            byte[] key = Codec.key(namespace, id);
            if (tx.get(db.leases, key) != null) {
                throw BerthException.of(BerthException.Kind.ALREADY_EXISTS, "lease \"" + id + "\"");
            }
            LmdbNamespaces.ensure(db, tx, namespace);
            tx.put(db.leases, key, record.encode());
            return null;
        });
        return toLease(record);
    }

    @Override
    public void delete(String namespace, String id, boolean sync) {
        db.write(tx -> {
            if (!tx.delete(db.leases, Codec.key(namespace, id))) {
                throw notFound(id);
            }
            tx.deleteAll(db.resources, Codec.prefix(namespace, id));
            db.markDirty();
            return null;
        });
        if (sync) {
            collect.run();
        }
    }

    @Override
    public List<Lease> list(String namespace, Predicate<? super Lease> filter) {
        return db.read(tx -> {
            List<Lease> found = new ArrayList<>();
            for (byte[] value : tx.scan(db.leases, Codec.prefix(namespace))) {
                Lease lease = toLease(LeaseRecord.decode(value));
                if (filter.test(lease)) {
                    found.add(lease);
                }
            }
            found.sort(Comparator.comparing(Lease::id));
            return List.copyOf(found);
        });
    }

    @Override
    public void addResource(String namespace, String leaseId, Resource resource) {
        Resource canonical = canonical(resource);
        db.write(tx -> {
            requireLease(tx, namespace, leaseId);
            put(db, tx, namespace, leaseId, canonical);
            return null;
        });
    }

    @Override
    public void deleteResource(String namespace, String leaseId, Resource resource) {
        Resource canonical = canonical(resource);
        db.write(tx -> {
            requireLease(tx, namespace, leaseId);
            if (tx.delete(db.resources, Codec.key(namespace, leaseId, canonical.type(), canonical.id()))) {
                db.markDirty();
            }
            return null;
        });
    }

    @Override
    public List<Resource> listResources(String namespace, String leaseId) {
        return db.read(tx -> {
            requireLease(tx, namespace, leaseId);
            List<Resource> found = new ArrayList<>();
            for (byte[] value : tx.scan(db.resources, Codec.prefix(namespace, leaseId))) {
                ResourceRecord record = ResourceRecord.decode(value);
                found.add(new Resource(record.id(), record.type()));
            }
            found.sort(Comparator.comparingInt((Resource r) -> order(r.type())).thenComparing(Resource::type)
                    .thenComparing(Resource::id));
            return List.copyOf(found);
        });
    }

    /** Records that the lease holds the resource; the caller has checked the lease exists. */
    static void put(Db db, Db.Tx tx, String namespace, String leaseId, Resource resource) {
        tx.put(db.resources, Codec.key(namespace, leaseId, resource.type(), resource.id()),
                new ResourceRecord(namespace, leaseId, resource.type(), resource.id()).encode());
    }

    /** Releases the resource from the lease, if it holds it. */
    static void remove(Db db, Db.Tx tx, String namespace, String leaseId, Resource resource) {
        tx.delete(db.resources, Codec.key(namespace, leaseId, resource.type(), resource.id()));
    }

    static boolean exists(Db db, Db.Tx tx, String namespace, String leaseId) {
        return tx.get(db.leases, Codec.key(namespace, leaseId)) != null;
    }

    private void requireLease(Db.Tx tx, String namespace, String leaseId) {
        if (!exists(db, tx, namespace, leaseId)) {
            throw notFound(leaseId);
        }
    }

    /** Checks a resource as containerd does; a content id is normalised to its digest's text. */
    private static Resource canonical(Resource resource) {
        String type = resource.type();
        String[] parts = type.split("/", -1);
        String kind = parts[0];
        if (kind.equals(Resource.CONTENT) || kind.equals(Resource.INGESTS)) {
            if (parts.length != 1) {
                throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "invalid resource type " + type);
            }
            if (kind.equals(Resource.CONTENT)) {
                try {
                    return new Resource(Digest.parse(resource.id()).toString(), type);
                } catch (BerthException e) {
                    throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                            "invalid content resource id " + resource.id() + ": " + e.getMessage());
                }
            }
        } else if (kind.equals("snapshots")) {
            if (parts.length != 2) {
                throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "invalid snapshot resource type " + type);
            }
        } else {
            throw BerthException.of(BerthException.Kind.UNIMPLEMENTED, "resource type " + type + " not supported yet");
        }
        if (resource.id().isEmpty() || resource.id().indexOf('\0') >= 0 || parts[parts.length - 1].isEmpty()
                || type.indexOf('\0') >= 0) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "invalid resource " + type + " " + resource.id());
        }
        return resource;
    }

    private static int order(String type) {
        return type.equals(Resource.CONTENT) ? 0 : type.equals(Resource.INGESTS) ? 1 : 2;
    }

    /** containerd accepts any lease id (its generated ones are not identifiers); only emptiness and NUL are refused. */
    private static void validateId(String id) {
        if (id == null || id.isEmpty()) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "lease id must be provided");
        }
        if (id.indexOf('\0') >= 0) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "lease id contains NUL");
        }
    }

    private static BerthException notFound(String id) {
        return BerthException.of(BerthException.Kind.NOT_FOUND, "lease \"" + id + "\"");
    }

    private static Lease toLease(LeaseRecord record) {
        return new Lease(record.id(), record.createdAt(), record.labels());
    }
}
