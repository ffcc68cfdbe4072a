package dev.berth.plugin.snapshots.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.UnavailableException;
import dev.berth.plugin.snapshots.Kind;
import dev.berth.plugin.snapshots.SnapshotInfo;
import dev.berth.plugin.snapshots.Usage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaStoreTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2020-01-02T03:04:05.123456789Z"), ZoneOffset.UTC);

    @TempDir
    Path temp;

    @Test
    void chainSurvivesARestartWithIdsLabelsTimesAndUsage() {
        MetaStore store = MetaStore.open(temp, CLOCK);
        String base = created(store, Kind.ACTIVE, "base-a", "", Map.of("l", "v\n=:ü"));
        assertEquals(base, store.commit("base-a", "base", new Usage(3, 4096), Map.of("l", "c")));
        String child = created(store, Kind.VIEW, "view", "base", Map.of());
        store.close();
        assertThrows(UnavailableException.class, () -> store.get("base"));

        MetaStore reopened = MetaStore.open(temp, CLOCK);
        MetaStore.Entry entry = reopened.get("base");
        assertEquals(base, entry.id());
        assertEquals(new Usage(3, 4096), entry.usage());
        assertEquals(new SnapshotInfo(Kind.COMMITTED, "base", "", Map.of("l", "c"), CLOCK.instant(), CLOCK.instant()),
                entry.info());
        assertEquals(new MetaStore.Snapshot(child, Kind.VIEW, List.of(base)), reopened.mountable("view"));
        assertThrows(NotFoundException.class, () -> reopened.get("base-a"));
        assertThrows(FailedPreconditionException.class, () -> reopened.remove("base"));

        // ids are never reused while a higher one is on record
        String next = created(reopened, Kind.ACTIVE, "next", "base", Map.of());
        assertTrue(Long.parseLong(next) > Long.parseLong(child));
    }

    @Test
    void readsDoNotWaitForAChangeInProgress() throws Exception {
        MetaStore store = MetaStore.open(temp, CLOCK);
        String base = created(store, Kind.ACTIVE, "base-a", "", Map.of());
        store.commit("base-a", "base", Usage.NONE, Map.of());
        String child = created(store, Kind.ACTIVE, "child", "base", Map.of());
        // a change holds the lock across its file's write and fsync: this thread stands for a slow one
        Field field = MetaStore.class.getDeclaredField("lock");
        field.setAccessible(true);
        Object lock = field.get(store);
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread change = Thread.ofPlatform().start(() -> {
            synchronized (lock) {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        try {
            held.await();
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                assertEquals("base", store.get("child").info().parent());
                assertEquals(new MetaStore.Snapshot(child, Kind.ACTIVE, List.of(base)), store.mountable("child"));
                assertThrows(NotFoundException.class, () -> store.get("missing"));
                assertThrows(FailedPreconditionException.class, () -> store.mountable("base"));
            });
        } finally {
            release.countDown();
            change.join();
        }
    }

    @Test
    void aCreationHoldsItsKeyAndParentUntilCompletedOrClosed() {
        MetaStore store = MetaStore.open(temp, CLOCK);
        created(store, Kind.ACTIVE, "p-a", "", Map.of());
        store.commit("p-a", "p", Usage.NONE, Map.of());

        MetaStore.Creation creation = store.create(Kind.ACTIVE, "k", "p", Map.of());
        assertThrows(AlreadyExistsException.class, () -> store.create(Kind.VIEW, "k", "", Map.of()));
        assertThrows(NotFoundException.class, () -> store.get("k"));
        assertThrows(FailedPreconditionException.class, () -> store.remove("p"));
        assertTrue(store.ids().contains(creation.snapshot().id()));

        creation.close();
        assertFalse(store.ids().contains(creation.snapshot().id()));
        store.remove("p");
        assertEquals(Set.of(), store.ids());
    }

    @Test
    void aChangeWritesWithinTheFileItHasAndSurvivesAReopen() throws IOException {
        MetaStore store = MetaStore.open(temp, CLOCK);
        Path log = temp.resolve(MetaLog.FILE);
        long size = Files.size(log);
        created(store, Kind.ACTIVE, "a", "", Map.of("x", "1"));
        store.commit("a", "a-done", new Usage(1, 2), Map.of());
        store.remove("a-done");
        created(store, Kind.VIEW, "v", "", Map.of());
        // the space was written when the file was made: a change changes no size, nor the directory
        assertEquals(size, Files.size(log));
        assertEquals(List.of(MetaLog.FILE), names(temp));
        store.close();

        MetaStore reopened = MetaStore.open(temp, CLOCK);
        assertThrows(NotFoundException.class, () -> reopened.get("a-done"));
        assertEquals(Kind.VIEW, reopened.get("v").info().kind());
    }

    @Test
    void aTornLastRecordIsDroppedAndWhatWasAcknowledgedIsKept() throws IOException {
        MetaStore store = MetaStore.open(temp, CLOCK);
        created(store, Kind.ACTIVE, "kept", "", Map.of());
        created(store, Kind.ACTIVE, "torn", "", Map.of("big", "y".repeat(600)));
        store.close();
        byte[] file = Files.readAllBytes(temp.resolve(MetaLog.FILE));
        List<Integer> records = recordOffsets(file);
        assertEquals(2, records.size());
        // a crash in the middle of the last write: its later sectors never reached the disk
        int last = records.get(1);
        java.util.Arrays.fill(file, last + 300, last + recordSize(file, last), (byte) 0);
        Files.write(temp.resolve(MetaLog.FILE), file);

        MetaStore reopened = MetaStore.open(temp, CLOCK);
        assertEquals(Kind.ACTIVE, reopened.get("kept").info().kind());
        assertThrows(NotFoundException.class, () -> reopened.get("torn"));
        // the rest of the torn record was zeroed: a shorter record in its place leaves nothing behind
        byte[] after = Files.readAllBytes(temp.resolve(MetaLog.FILE));
        for (int i = last; i < after.length; i++) {
            assertEquals(0, after[i], "byte " + i);
        }
        created(reopened, Kind.VIEW, "after", "", Map.of());
        reopened.close();
        MetaStore again = MetaStore.open(temp, CLOCK);
        assertEquals(Set.of("kept", "after"), keys(again));
    }

    @Test
    void aDamagedRecordWithIntactOnesAfterItIsNotDroppedSilently() throws IOException {
        MetaStore store = MetaStore.open(temp, CLOCK);
        created(store, Kind.ACTIVE, "first", "", Map.of());
        created(store, Kind.ACTIVE, "second", "", Map.of());
        created(store, Kind.ACTIVE, "third", "", Map.of());
        store.close();
        byte[] file = Files.readAllBytes(temp.resolve(MetaLog.FILE));
        int first = recordOffsets(file).getFirst();
        file[first + 20] ^= 0x40;
        Files.write(temp.resolve(MetaLog.FILE), file);

        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> MetaStore.open(temp, CLOCK));
        assertTrue(e.getCause().getMessage().contains("the record at offset " + first + " is damaged"), e.getCause().getMessage());
        // and nothing was changed by the attempt
        assertArrayEquals(file, Files.readAllBytes(temp.resolve(MetaLog.FILE)));
    }

    @Test
    void aFullLogIsRewrittenWithTheLiveRecordsOnly() throws IOException {
        MetaStore store = MetaStore.open(temp, CLOCK);
        created(store, Kind.ACTIVE, "base-a", "", Map.of());
        String base = store.commit("base-a", "base", new Usage(7, 8192), Map.of());
        String child = created(store, Kind.ACTIVE, "child", "base", Map.of());
        String label = "z".repeat(4000);
        for (int i = 0; i < 200; i++) {
            store.update(new SnapshotInfo(Kind.ACTIVE, "child", "base", Map.of("n", i + label), CLOCK.instant(),
                    CLOCK.instant()), List.of());
        }
        // 200 records of 4 KB do not fit the first 256 KiB: the log was rewritten with three records
        long size = Files.size(temp.resolve(MetaLog.FILE));
        assertTrue(size < 4 * MetaLog.MIN_CAPACITY, "log of " + size + " bytes");
        assertTrue(recordOffsets(Files.readAllBytes(temp.resolve(MetaLog.FILE))).size() < 200);
        store.close();

        MetaStore reopened = MetaStore.open(temp, CLOCK);
        assertEquals(Map.of("n", 199 + label), reopened.get("child").info().labels());
        assertEquals(new Usage(7, 8192), reopened.get("base").usage());
        assertEquals(new MetaStore.Snapshot(child, Kind.ACTIVE, List.of(base)), reopened.mountable("child"));
    }

    @Test
    void aRewriteThatNeverReachedItsRenameLeavesTheLogAsItWas() throws IOException {
        MetaStore store = MetaStore.open(temp, CLOCK);
        created(store, Kind.ACTIVE, "a", "", Map.of("x", "1"));
        store.close();
        Files.write(temp.resolve(MetaLog.FILE + ".tmp"), new byte[] {'b', 'e', 'r', 't', 'h'});

        MetaStore reopened = MetaStore.open(temp, CLOCK);
        assertEquals(Map.of("x", "1"), reopened.get("a").info().labels());
        assertEquals(List.of(MetaLog.FILE), names(temp));
    }

    @Test
    void aSecondStoreOnTheSameDirectoryIsRefused() {
        MetaStore store = MetaStore.open(temp, CLOCK);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> MetaStore.open(temp, CLOCK));
        assertTrue(e.getCause().getMessage().contains("in use"), e.getCause().getMessage());
        store.close();
        MetaStore.open(temp, CLOCK).close();
    }

    @Test
    void propertiesFilesOfTheEarlierLayoutAreMovedIntoTheLog() throws IOException {
        Files.writeString(temp.resolve("3.properties"), """
                #written by an earlier berthd
                id=3
                kind=COMMITTED
                name=base
                parent=0
                created=2020-01-02T03\\:04\\:05Z
                updated=2020-01-02T03\\:04\\:06Z
                inodes=5
                size=4096
                label.containerd.io/snapshot.ref=sha256\\:abc
                """);
        Files.writeString(temp.resolve("7.properties"), """
                id=7
                kind=ACTIVE
                name=work
                parent=3
                created=2020-01-02T03\\:04\\:07Z
                updated=2020-01-02T03\\:04\\:07Z
                inodes=0
                size=0
                """);
        // a change that never reached its rename
        Files.writeString(temp.resolve("7.properties.tmp"), "torn");

        MetaStore store = MetaStore.open(temp, CLOCK);
        assertEquals(List.of(MetaLog.FILE), names(temp));
        store.close();
        MetaStore reopened = MetaStore.open(temp, CLOCK);
        MetaStore.Entry base = reopened.get("base");
        assertEquals("3", base.id());
        assertEquals(new Usage(5, 4096), base.usage());
        assertEquals(Map.of("containerd.io/snapshot.ref", "sha256:abc"), base.info().labels());
        assertEquals(Instant.parse("2020-01-02T03:04:06Z"), base.info().updated());
        assertEquals(new MetaStore.Snapshot("7", Kind.ACTIVE, List.of("3")), reopened.mountable("work"));
        assertThrows(FailedPreconditionException.class, () -> reopened.remove("base"));
        // ids go on after the highest one moved
        assertEquals("8", created(reopened, Kind.VIEW, "v", "", Map.of()));
    }

    @Test
    void refusalsAreWordedAsContainerdsStorage() {
        MetaStore store = MetaStore.open(temp, CLOCK);
        created(store, Kind.ACTIVE, "active", "", Map.of());
        created(store, Kind.ACTIVE, "c-a", "", Map.of());
        store.commit("c-a", "committed", Usage.NONE, Map.of());
        assertEquals("failed to create snapshot: parent \"active\" is not committed snapshot: invalid argument",
                assertThrows(InvalidArgumentException.class, () -> store.create(Kind.VIEW, "v", "active", Map.of()))
                        .getMessage());
        assertEquals("failed to get active mount: requested snapshot committed not active or view: failed precondition",
                assertThrows(FailedPreconditionException.class, () -> store.mountable("committed")).getMessage());
    }

    private static List<String> names(Path directory) throws IOException {
        try (var files = Files.list(directory)) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    private static Set<String> keys(MetaStore store) {
        Set<String> keys = new java.util.HashSet<>();
        store.walk(info -> true, info -> keys.add(info.name()));
        return keys;
    }

    /** Where each record of a log file starts: after the 16-byte magic, each 8-byte aligned, up to the zeros. */
    private static List<Integer> recordOffsets(byte[] file) {
        List<Integer> offsets = new java.util.ArrayList<>();
        for (int at = 16; at + 16 <= file.length && ByteBuffer.wrap(file, at, 4).getInt() != 0; at += recordSize(file, at)) {
            offsets.add(at);
        }
        return offsets;
    }

    private static int recordSize(byte[] file, int at) {
        return (16 + ByteBuffer.wrap(file, at, 4).getInt() + 7) / 8 * 8;
    }

    private static String created(MetaStore store, Kind kind, String key, String parent, Map<String, String> labels) {
        try (MetaStore.Creation creation = store.create(kind, key, parent, labels)) {
            creation.complete();
            return creation.snapshot().id();
        }
    }
}
