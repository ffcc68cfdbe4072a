package dev.berth.plugin.snapshots.storage;

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
import java.lang.reflect.Field;
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
    void anUnfinishedWriteIsIgnoredOnOpen() throws IOException {
        MetaStore store = MetaStore.open(temp, CLOCK);
        String id = created(store, Kind.ACTIVE, "a", "", Map.of("x", "1"));
        store.close();
        Files.writeString(temp.resolve(id + ".properties.tmp"), "torn");

        MetaStore reopened = MetaStore.open(temp, CLOCK);
        assertEquals(Map.of("x", "1"), reopened.get("a").info().labels());
        assertFalse(Files.exists(temp.resolve(id + ".properties.tmp")));
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

    private static String created(MetaStore store, Kind kind, String key, String parent, Map<String, String> labels) {
        try (MetaStore.Creation creation = store.create(kind, key, parent, labels)) {
            creation.complete();
            return creation.snapshot().id();
        }
    }
}
