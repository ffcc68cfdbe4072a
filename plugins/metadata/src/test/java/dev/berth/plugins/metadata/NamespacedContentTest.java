package dev.berth.plugins.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.content.ContentInfo;
import dev.berth.plugin.content.ContentReader;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.content.IngestStatus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespacedContentTest {
    @TempDir
    Path dir;
    Fixture fixture;

    @BeforeEach
    void open() throws Exception {
        fixture = new Fixture(dir);
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void contentIsSeenPerNamespace() {
        ContentStore a = fixture.content("a");
        ContentStore b = fixture.content("b");
        Digest digest = Fixture.commit(a, "shared bytes", Map.of("owner", "a"));

        assertThrows(NotFoundException.class, () -> b.info(digest));
        assertThrows(NotFoundException.class, () -> b.readerAt(digest));
        List<ContentInfo> walked = new ArrayList<>();
        b.walk(i -> true, walked::add);
        assertEquals(List.of(), walked);

        // b proves nothing but the digest: the bytes are shared, the record and labels are b's own
        try (ContentWriter writer = b.writer("b-ref", 0, Optional.of(digest))) {
            assertEquals(12, writer.status().offset());
            writer.commit(12, Optional.of(digest), Map.of("owner", "b"));
        }
        assertEquals(Map.of("owner", "b"), b.info(digest).labels());
        assertEquals(Map.of("owner", "a"), a.info(digest).labels());
        try (ContentReader reader = b.readerAt(digest)) {
            ByteBuffer buffer = ByteBuffer.allocate(64);
            reader.read(buffer, 0);
            assertEquals("shared bytes", new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8));
        }

        // a deletes its record; b's root keeps the shared bytes in the backing store
        b.update(b.info(digest).withLabels(Map.of("containerd.io/gc.root", "x")), List.of("labels"));
        a.delete(digest);
        assertThrows(NotFoundException.class, () -> a.info(digest));
        fixture.store.collectGarbage();
        assertTrue(Fixture.exists(fixture.backend, digest));
        assertTrue(Fixture.exists(b, digest));

        b.update(b.info(digest).withLabels(Map.of()), List.of("labels"));
        fixture.store.collectGarbage();
        assertFalse(Fixture.exists(b, digest));
        assertFalse(Fixture.exists(fixture.backend, digest), "no namespace references it any more");
    }

    @Test
    void committingWhatTheBackingStoreHasRecordsItInTheNamespace() {
        Digest digest = Fixture.commit(fixture.content("a"), "twice", Map.of());
        byte[] bytes = "twice".getBytes(StandardCharsets.UTF_8);
        // without announcing the digest, b writes every byte; the backing store says it exists already
        try (ContentWriter writer = fixture.content("b").writer("w", 0, Optional.empty())) {
            writer.write(ByteBuffer.wrap(bytes));
            writer.commit(bytes.length, Optional.of(digest), Map.of());
        }
        assertEquals(bytes.length, fixture.content("b").info(digest).size());
        assertThrows(NotFoundException.class, () -> fixture.content("b").status("w"));
    }

    @Test
    void committingTwiceInOneNamespaceIsAlreadyExists() {
        ContentStore a = fixture.content("a");
        Digest digest = Fixture.commit(a, "once", Map.of());
        assertThrows(AlreadyExistsException.class, () -> a.writer("again", 4, Optional.of(digest)));
        ContentWriter writer = a.writer("again", 0, Optional.empty());
        writer.write(ByteBuffer.wrap("once".getBytes(StandardCharsets.UTF_8)));
        assertThrows(AlreadyExistsException.class, () -> writer.commit(4, Optional.empty(), Map.of()));
        assertThrows(NotFoundException.class, () -> a.status("again"), "the ingest is gone all the same");
    }

    @Test
    void sizeAndDigestAreVerified() {
        ContentStore a = fixture.content("a");
        try (ContentWriter writer = a.writer("r", 0, Optional.empty())) {
            writer.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            assertThrows(FailedPreconditionException.class, () -> writer.commit(4, Optional.empty(), Map.of()));
        }
        try (ContentWriter writer = a.writer("r", 0, Optional.empty())) {
            assertEquals(3, writer.status().offset(), "the ingest resumes where it stopped");
            Digest wrong = Digest.sha256(new byte[] {9});
            assertThrows(FailedPreconditionException.class, () -> writer.commit(3, Optional.of(wrong), Map.of()));
        }
        assertEquals(List.of("r"), a.listStatuses(s -> true).stream().map(IngestStatus::ref).toList());
        a.abort("r");
        assertEquals(List.of(), a.listStatuses(s -> true));
        assertEquals(List.of(), fixture.backend.listStatuses(s -> true));
    }

    @Test
    void labelsAreUpdatedByFieldPath() {
        ContentStore a = fixture.content("a");
        Digest digest = Fixture.commit(a, "labelled", Map.of("x", "1", "y", "2"));
        fixture.clock.advance(Duration.ofSeconds(5));
        ContentInfo updated = a.update(new ContentInfo(digest, 0, fixture.clock.instant(), fixture.clock.instant(),
                Map.of("x", "10", "z", "3")), List.of("labels.x", "labels.y"));
        assertEquals(Map.of("x", "10"), updated.labels());
        assertEquals(fixture.clock.instant(), updated.updatedAt());
        assertEquals(updated, a.info(digest));
        assertTrue(fixture.backend.info(digest).labels().isEmpty(), "the metadata owns the labels");
    }

    @Test
    void ingestsAreSeenPerNamespace() {
        try (ContentWriter writer = fixture.content("a").writer("same-ref", 0, Optional.empty())) {
            writer.write(ByteBuffer.wrap(new byte[] {1}));
        }
        try (ContentWriter writer = fixture.content("b").writer("same-ref", 0, Optional.empty())) {
            writer.write(ByteBuffer.wrap(new byte[] {1, 2}));
        }
        assertEquals(1, fixture.content("a").status("same-ref").offset());
        assertEquals(2, fixture.content("b").status("same-ref").offset());
        assertFalse(fixture.content("c").listStatuses(s -> true).iterator().hasNext());
        byte[] both = {1, 2};
        try (ContentWriter writer = fixture.content("b").writer("same-ref", 0, Optional.empty())) {
            writer.commit(2, Optional.of(Digest.sha256(both)), Map.of());
        }
        assertEquals(1, fixture.content("a").status("same-ref").offset());
    }

    @Test
    void aWalkOverManyPagesSeesEachBlobOnceInDigestOrderAndLetsItsConsumerWrite() {
        ContentStore a = fixture.content("a");
        List<Digest> committed = new ArrayList<>();
        for (int i = 0; i < 2 * NamespacedContent.WALK_PAGE + 3; i++) {
            committed.add(Fixture.commit(a, "blob " + i, i % 2 == 0 ? Map.of("even", "yes") : Map.of()));
        }
        Fixture.commit(fixture.content("b"), "in the next namespace", Map.of());
        committed.sort(Comparator.comparing(Digest::toString));

        List<Digest> walked = new ArrayList<>();
        a.walk(info -> true, info -> walked.add(info.digest()));
        assertEquals(committed, walked);

        List<Digest> even = new ArrayList<>();
        a.walk(info -> info.labels().containsKey("even"), info -> even.add(info.digest()));
        assertEquals(NamespacedContent.WALK_PAGE + 2, even.size());

        // the consumer deletes each blob as it comes, across the pages' boundaries
        List<Digest> deleted = new ArrayList<>();
        a.walk(info -> true, info -> {
            a.delete(info.digest());
            deleted.add(info.digest());
        });
        assertEquals(committed, deleted);
        List<ContentInfo> left = new ArrayList<>();
        a.walk(info -> true, left::add);
        assertEquals(List.of(), left);
        assertEquals(1, countAll(fixture.content("b")));
    }

    private static int countAll(ContentStore content) {
        List<ContentInfo> all = new ArrayList<>();
        content.walk(info -> true, all::add);
        return all.size();
    }
}
