package dev.berth.plugins.metadata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.UncheckedIOException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import org.lmdbjava.ByteArrayProxy;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.Txn;

/**
 * The LMDB environment and its tables.
 *
 * <p>Schema (each table's key is NUL-joined parts, see {@link Codec}):
 * <pre>
 * meta       "version" → schema version; "ingest-seq" → last backing ingest sequence
 * namespaces &lt;ns&gt; → NamespaceRecord
 * blobs      &lt;ns&gt; &lt;digest&gt; → BlobRecord
 * ingests    &lt;ns&gt; &lt;ref&gt; → IngestRecord
 * leases     &lt;ns&gt; &lt;lease&gt; → LeaseRecord
 * resources  &lt;ns&gt; &lt;lease&gt; &lt;type&gt; &lt;id&gt; → ResourceRecord
 * snapshots  &lt;ns&gt; &lt;snapshotter&gt; &lt;key&gt; → SnapshotRecord
 * children   &lt;ns&gt; &lt;snapshotter&gt; &lt;parent&gt; &lt;child&gt; → the child's key
 * images     &lt;ns&gt; &lt;name&gt; → ImageRecord
 * containers &lt;ns&gt; &lt;id&gt; → ContainerRecord
 * </pre>
 * and in {@code meta}, "snapshot-seq" → last sequence used in backend snapshot keys. Tables added
 * since version 1 start empty in an older environment, which is therefore still version 1.
 *
 * <p>LMDB ties a write transaction to the thread that began it, and a virtual thread may move between
 * carriers. So a platform thread runs its write transactions itself, and a virtual thread hands its
 * transactions to the writer thread; a lock of the JVM's orders them all, LMDB's own writer lock behind
 * it. Readers use {@code MDB_NOTLS}, so a read transaction may be used from any thread.
 */
final class Db implements AutoCloseable {
    static final String SCHEMA_VERSION = "1";
    private static final long MAP_SIZE = 32L << 30;

    private final Path path;
    private final Env<byte[]> env;
    final Dbi<byte[]> meta;
    final Dbi<byte[]> namespaces;
    final Dbi<byte[]> blobs;
    final Dbi<byte[]> ingests;
    final Dbi<byte[]> leases;
    final Dbi<byte[]> resources;
    final Dbi<byte[]> snapshots;
    final Dbi<byte[]> children;
    final Dbi<byte[]> images;
    final Dbi<byte[]> containers;
    /** Runs the write transactions of virtual threads. */
    private final ExecutorService writer = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("berth-metadata-writer").daemon().factory());
    /** Held through every write transaction and its listeners; guards the fields a transaction sets. */
    private final ReentrantLock writeLock = new ReentrantLock();
    private final List<Consumer<Boolean>> listeners = new CopyOnWriteArrayList<>();
    /**
     * Removals since the last collection, what containerd calls dirty; counted once their transaction has
     * committed, so that a collection which read the metadata after reading this count has seen them.
     */
    private final AtomicInteger dirty = new AtomicInteger();
    /** Whether the running write transaction removed something; guarded by {@link #writeLock}. */
    private boolean removing;
    /** Whether it removed a blob record, which may leave a blob no namespace references in the backing store. */
    private boolean removingBlobs;
    /** Blob records removed by committed transactions since {@link #takeBlobsRemoved()} last returned true. */
    private final AtomicBoolean blobsRemoved = new AtomicBoolean();
    /** Snapshotters that had snapshots removed from the metadata since their last backend cleanup. */
    private final Set<String> dirtySnapshotters = ConcurrentHashMap.newKeySet();

    Db(Path path) {
        this.path = requireNonNull(path, "path is null");
        try {
            Files.createDirectories(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + path, e);
        }
        env = Env.create(ByteArrayProxy.PROXY_BA).setMapSize(MAP_SIZE).setMaxDbs(16).setMaxReaders(1024)
                .open(path.toFile(), EnvFlags.MDB_NOTLS);
        meta = env.openDbi("meta", DbiFlags.MDB_CREATE);
        namespaces = env.openDbi("namespaces", DbiFlags.MDB_CREATE);
        blobs = env.openDbi("blobs", DbiFlags.MDB_CREATE);
        ingests = env.openDbi("ingests", DbiFlags.MDB_CREATE);
        leases = env.openDbi("leases", DbiFlags.MDB_CREATE);
        resources = env.openDbi("resources", DbiFlags.MDB_CREATE);
        snapshots = env.openDbi("snapshots", DbiFlags.MDB_CREATE);
        children = env.openDbi("children", DbiFlags.MDB_CREATE);
        images = env.openDbi("images", DbiFlags.MDB_CREATE);
        containers = env.openDbi("containers", DbiFlags.MDB_CREATE);
        write(tx -> {
            byte[] version = tx.get(meta, Codec.key("version"));
            if (version != null && !SCHEMA_VERSION.equals(new String(version, UTF_8))) {
                throw new IllegalStateException("metadata in " + path + " has schema version "
                        + new String(version, UTF_8) + ", this build reads " + SCHEMA_VERSION);
            }
            tx.put(meta, Codec.key("version"), SCHEMA_VERSION.getBytes(UTF_8));
            return null;
        });
    }

    Path path() {
        return path;
    }

    <T> T read(Function<Tx, T> work) {
        try (Txn<byte[]> txn = env.txnRead()) {
            return work.apply(new Tx(this, txn));
        }
    }

    /**
     * Runs {@code work} in a write transaction and commits it, then tells the mutation listeners.
     * An exception from {@code work} aborts the transaction and propagates.
     */
    <T> T write(Function<Tx, T> work) {
        if (!Thread.currentThread().isVirtual()) {
            // this thread can hold LMDB's writer lock itself: no hand-off to the writer thread and back
            return commit(work);
        }
        Future<T> result = writer.submit(() -> commit(work));
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return result.get();
                } catch (InterruptedException e) {
                    // the transaction is already queued; its outcome must still reach the caller
                    interrupted = true;
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Runs {@code work} in a write transaction on this (platform) thread, commits it and tells the listeners. */
    private <T> T commit(Function<Tx, T> work) {
        if (writeLock.isHeldByCurrentThread()) {
            // LMDB would wait for its writer lock, which this thread holds
            throw new IllegalStateException("a write transaction cannot begin inside another");
        }
        writeLock.lock();
        try {
            T value;
            removing = false;
            removingBlobs = false;
            try (Txn<byte[]> txn = env.txnWrite()) {
                value = work.apply(new Tx(this, txn));
                txn.commit();
            }
            if (removing) {
                dirty.incrementAndGet();
            }
            if (removingBlobs) {
                blobsRemoved.set(true);
            }
            boolean isDirty = dirty.get() > 0;
            for (Consumer<Boolean> listener : listeners) {
                listener.accept(isDirty);
            }
            return value;
        } finally {
            writeLock.unlock();
        }
    }

    void onMutation(Consumer<Boolean> listener) {
        listeners.add(requireNonNull(listener, "listener is null"));
    }

    /** Records that the current write transaction removes something; call only from inside {@link #write}. */
    void markDirty() {
        removing = true;
    }

    /** Forgets the removals; call only from inside {@link #write}, whose transaction has swept them. */
    void clearDirty() {
        dirty.set(0);
    }

    /** The removals committed since the last collection. */
    int dirtyCount() {
        return dirty.get();
    }

    /**
     * Forgets the removals if none was committed since {@link #dirtyCount()} returned {@code seen}: a
     * collection that found nothing to sweep in a read transaction begun after that call has seen them all.
     */
    void clearDirty(int seen) {
        dirty.compareAndSet(seen, 0);
    }

    /** Whether a committed transaction removed a blob record since the last call that returned true. */
    boolean takeBlobsRemoved() {
        return blobsRemoved.getAndSet(false);
    }

    /** Marks {@code snapshotter} as having a backend that may hold snapshots the metadata no longer records. */
    void markSnapshotsDirty(String snapshotter) {
        dirtySnapshotters.add(snapshotter);
    }

    /** The snapshotters marked by {@link #markSnapshotsDirty} since the last call, now unmarked. */
    Set<String> takeDirtySnapshotters() {
        Set<String> taken = new HashSet<>();
        for (String snapshotter : dirtySnapshotters) {
            if (dirtySnapshotters.remove(snapshotter)) {
                taken.add(snapshotter);
            }
        }
        return taken;
    }

    /** The next value of the sequence stored under {@code name} in {@code meta}. */
    long nextSequence(Tx tx, String name) {
        byte[] key = Codec.key(name);
        byte[] value = tx.get(meta, key);
        long next = (value == null ? 0 : ByteBuffer.wrap(value).getLong()) + 1;
        tx.put(meta, key, ByteBuffer.allocate(Long.BYTES).putLong(next).array());
        return next;
    }

    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // a platform thread's transaction may still be running
        writeLock.lock();
        try {
            env.close();
        } finally {
            writeLock.unlock();
        }
    }

    /** One transaction's view of the tables. */
    static final class Tx {
        private final Db db;
        private final Txn<byte[]> txn;

        private Tx(Db db, Txn<byte[]> txn) {
            this.db = db;
            this.txn = txn;
        }

        byte[] get(Dbi<byte[]> table, byte[] key) {
            return table.get(txn, key);
        }

        void put(Dbi<byte[]> table, byte[] key, byte[] value) {
            table.put(txn, key, value);
        }

        boolean delete(Dbi<byte[]> table, byte[] key) {
            boolean deleted = table.delete(txn, key);
            if (deleted && table == db.blobs) {
                db.removingBlobs = true;
            }
            return deleted;
        }

        /** The values of every key starting with {@code prefix}, in key order. */
        List<byte[]> scan(Dbi<byte[]> table, byte[] prefix) {
            List<byte[]> values = new ArrayList<>();
            each(table, prefix, values::add);
            return values;
        }

        /**
         * Calls {@code action} with the value of every key starting with {@code prefix}, in key order,
         * as the cursor reaches it: a scan of a large table without a list of all its values.
         */
        void each(Dbi<byte[]> table, byte[] prefix, Consumer<byte[]> action) {
            try (Cursor<byte[]> cursor = table.openCursor(txn)) {
                boolean found = seek(cursor, prefix);
                while (found && startsWith(cursor.key(), prefix)) {
                    action.accept(cursor.val());
                    found = cursor.next();
                }
            }
        }

        /**
         * Up to {@code limit} entries whose keys start with {@code prefix} and sort after
         * {@code after} ({@code null}: from the first), in key order: one page of a walk that reads
         * in short transactions.
         */
        List<Map.Entry<byte[], byte[]>> page(Dbi<byte[]> table, byte[] prefix, byte[] after, int limit) {
            List<Map.Entry<byte[], byte[]>> entries = new ArrayList<>(Math.min(limit, 1024));
            byte[] from = after == null ? prefix : Arrays.copyOf(after, after.length + 1);
            try (Cursor<byte[]> cursor = table.openCursor(txn)) {
                boolean found = seek(cursor, from);
                while (found && entries.size() < limit && startsWith(cursor.key(), prefix)) {
                    entries.add(Map.entry(cursor.key(), cursor.val()));
                    found = cursor.next();
                }
            }
            return entries;
        }

        /** Whether any key starts with {@code prefix}. */
        boolean any(Dbi<byte[]> table, byte[] prefix) {
            try (Cursor<byte[]> cursor = table.openCursor(txn)) {
                return seek(cursor, prefix) && startsWith(cursor.key(), prefix);
            }
        }

        /** Deletes every key starting with {@code prefix}; returns how many. */
        int deleteAll(Dbi<byte[]> table, byte[] prefix) {
            List<byte[]> keys = new ArrayList<>();
            try (Cursor<byte[]> cursor = table.openCursor(txn)) {
                boolean found = seek(cursor, prefix);
                while (found && startsWith(cursor.key(), prefix)) {
                    keys.add(cursor.key());
                    found = cursor.next();
                }
            }
            keys.forEach(key -> delete(table, key));
            return keys.size();
        }

        /** Puts {@code cursor} on the first key at or after {@code from} (the table's first for an empty one). */
        private static boolean seek(Cursor<byte[]> cursor, byte[] from) {
            return from.length == 0 ? cursor.first() : cursor.get(from, GetOp.MDB_SET_RANGE);
        }

        private static boolean startsWith(byte[] key, byte[] prefix) {
            return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
        }
    }
}
