package dev.berth.plugins.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DbTest {
    @TempDir
    Path dir;

    @Test
    void aPlatformThreadCommitsItselfAndAVirtualThreadHandsItsTransactionToTheWriter() throws Exception {
        try (Db db = new Db(dir)) {
            assertSame(Thread.currentThread(), db.write(tx -> Thread.currentThread()));

            Thread[] ran = new Thread[1];
            Thread.ofVirtual().start(() -> ran[0] = db.write(tx -> Thread.currentThread())).join();
            assertFalse(ran[0].isVirtual());
            assertEquals("berth-metadata-writer", ran[0].getName());
        }
    }

    /** Platform and virtual threads write at once; every sequence number is handed out exactly once. */
    @Test
    void concurrentWritersOfBothKindsAreSerialized() throws Exception {
        int threads = 8;
        int each = 150;
        Set<Long> seen = ConcurrentHashMap.newKeySet();
        List<Throwable> failures = new ArrayList<>();
        try (Db db = new Db(dir)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> writers = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                Thread.Builder builder = i % 2 == 0 ? Thread.ofPlatform() : Thread.ofVirtual();
                writers.add(builder.start(() -> {
                    try {
                        start.await();
                        for (int n = 0; n < each; n++) {
                            assertTrue(seen.add(db.write(tx -> db.nextSequence(tx, "test-seq"))));
                        }
                    } catch (Throwable e) {
                        synchronized (failures) {
                            failures.add(e);
                        }
                    }
                }));
            }
            start.countDown();
            for (Thread writer : writers) {
                assertTrue(writer.join(Duration.ofMinutes(1)), "a writer is stuck");
            }
            assertEquals(List.of(), failures);
            assertEquals(threads * each, seen.size());
            assertEquals((long) threads * each, db.write(tx -> db.nextSequence(tx, "test-seq")) - 1);
        }
    }

    @Test
    void aFailedTransactionLeavesNothingAndTheNextOneCommits() throws Exception {
        try (Db db = new Db(dir)) {
            byte[] key = Codec.key("k");
            assertThrows(IllegalStateException.class, () -> db.write(tx -> {
                tx.put(db.meta, key, new byte[] {1});
                throw new IllegalStateException("no");
            }));
            assertNull(db.read(tx -> tx.get(db.meta, key)));
            db.write(tx -> {
                tx.put(db.meta, key, new byte[] {2});
                return null;
            });
            assertEquals(2, db.read(tx -> tx.get(db.meta, key))[0]);
        }
    }

    @Test
    void aWriteInsideAWriteFailsInsteadOfWaitingForever() throws Exception {
        try (Db db = new Db(dir)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> db.write(tx -> db.write(inner -> null)));
            assertEquals("a write transaction cannot begin inside another", e.getMessage());
            assertEquals(Long.valueOf(1), db.write(tx -> db.nextSequence(tx, "after")));
        }
    }

    @Test
    void writesAfterCloseFailCleanly() throws Exception {
        Db db = new Db(dir);
        db.close();
        assertThrows(RuntimeException.class, () -> db.write(tx -> db.nextSequence(tx, "s")));
        Throwable[] thrown = new Throwable[1];
        Thread virtual = Thread.ofVirtual().start(() -> {
            try {
                db.write(tx -> db.nextSequence(tx, "s"));
            } catch (Throwable e) {
                thrown[0] = e;
            }
        });
        assertTrue(virtual.join(Duration.ofSeconds(10)));
        assertTrue(thrown[0] instanceof RuntimeException, String.valueOf(thrown[0]));
    }
}
