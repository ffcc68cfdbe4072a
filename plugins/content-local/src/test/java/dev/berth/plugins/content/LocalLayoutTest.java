package dev.berth.plugins.content;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.NotFoundException;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Digest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What this store puts on disk, and how it recovers what a crash left there. */
class LocalLayoutTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2020-01-02T03:04:05.000000006Z"), ZoneOffset.UTC);

    @TempDir
    Path root;

    @Test
    void laysOutIngestsAndBlobsAsContainerd() throws Exception {
        LocalContentStore store = LocalContentStore.open(root, CLOCK);
        byte[] content = "hello".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256(content);
        Path ingest = root.resolve("ingest").resolve(Digest.sha256("my-ref".getBytes(StandardCharsets.UTF_8)).hex());

        ContentWriter writer = store.writer("my-ref", content.length, Optional.of(digest));
        writer.write(ByteBuffer.wrap(content));
        writer.close();
        assertEquals(Set.of("data", "ref", "startedat", "updatedat", "total", "expected"), names(ingest));
        assertEquals("my-ref", Files.readString(ingest.resolve("ref")));
        assertEquals("5", Files.readString(ingest.resolve("total")));
        assertEquals(digest.toString(), Files.readString(ingest.resolve("expected")));
        assertEquals("2020-01-02T03:04:05.000000006Z", Files.readString(ingest.resolve("startedat")));

        try (ContentWriter resumed = store.writer("my-ref", 0, Optional.empty())) {
            resumed.commit(5, Optional.of(digest), Map.of());
        }
        Path blob = root.resolve("blobs/sha256").resolve(digest.hex());
        assertArrayEquals(content, Files.readAllBytes(blob));
        assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(blob)));
        assertEquals(CLOCK.instant(), Files.getLastModifiedTime(blob).toInstant());
        assertFalse(Files.exists(ingest));
        assertEquals(Set.of(), names(root.resolve("ingest")));
    }

    @Test
    void labelsLiveBesideTheBlobOnlyWhenThereAreAny() throws Exception {
        LocalContentStore store = LocalContentStore.open(root, CLOCK);
        Digest plain = commit(store, "plain", "a", Map.of());
        Digest labelled = commit(store, "labelled", "b", Map.of("k", "v"));
        assertFalse(Files.exists(root.resolve("info/sha256").resolve(plain.hex())));
        assertTrue(Files.exists(root.resolve("info/sha256").resolve(labelled.hex())));
        store.delete(labelled);
        assertFalse(Files.exists(root.resolve("info/sha256").resolve(labelled.hex())));
    }

    @Test
    void openingDropsIngestsACrashLeftIncomplete() throws Exception {
        LocalContentStore.open(root, CLOCK);
        Path noData = Files.createDirectories(root.resolve("ingest/" + "a".repeat(64)));
        Files.writeString(noData.resolve("ref"), "half-created");
        Path committed = Files.createDirectories(root.resolve("ingest/" + "b".repeat(64)));
        Files.writeString(committed.resolve("ref"), "renamed-but-not-cleaned");
        Files.writeString(committed.resolve("startedat"), CLOCK.instant().toString());
        Files.writeString(committed.resolve("updatedat"), CLOCK.instant().toString());

        LocalContentStore store = LocalContentStore.open(root, CLOCK);
        assertEquals(Set.of(), names(root.resolve("ingest")));
        assertEquals(0, store.listStatuses(s -> true).size());
        assertThrows(NotFoundException.class, () -> store.status("half-created"));
    }

    @Test
    void aCorruptIngestStartsAgain() throws Exception {
        LocalContentStore store = LocalContentStore.open(root, CLOCK);
        try (ContentWriter writer = store.writer("ref", 0, Optional.empty())) {
            writer.write(ByteBuffer.wrap(new byte[100]));
        }
        Path ingest = root.resolve("ingest").resolve(Digest.sha256("ref".getBytes(StandardCharsets.UTF_8)).hex());
        Files.writeString(ingest.resolve("startedat"), "not a time");
        assertThrows(NotFoundException.class, () -> store.status("ref"));
        try (ContentWriter writer = store.writer("ref", 0, Optional.empty())) {
            assertEquals(0, writer.status().offset());
        }
        assertEquals(0, store.status("ref").offset());
    }

    @Test
    void aForeignFileAmongBlobsIsIgnoredByWalk() throws Exception {
        LocalContentStore store = LocalContentStore.open(root, CLOCK);
        Digest digest = commit(store, "x", "x", Map.of());
        Files.writeString(root.resolve("blobs/sha256/not-a-digest"), "junk");
        Files.createDirectories(root.resolve("blobs/md5"));
        Set<Digest> seen = new java.util.HashSet<>();
        store.walk(info -> true, info -> seen.add(info.digest()));
        assertEquals(Set.of(digest), seen);
    }

    private static Digest commit(LocalContentStore store, String ref, String text, Map<String, String> labels) {
        byte[] content = text.getBytes(StandardCharsets.UTF_8);
        try (ContentWriter writer = store.writer(ref, 0, Optional.empty())) {
            writer.write(ByteBuffer.wrap(content));
            writer.commit(content.length, Optional.empty(), labels);
        }
        return Digest.sha256(content);
    }

    private static Set<String> names(Path dir) throws Exception {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }
}
