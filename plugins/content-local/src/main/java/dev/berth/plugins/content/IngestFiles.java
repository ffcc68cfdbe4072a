package dev.berth.plugins.content;

import dev.berth.plugin.InvalidArgumentException;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.content.IngestStatus;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * The small files of an ingest directory, in containerd's names and formats: {@code ref} holds
 * the ref, {@code startedat} and {@code updatedat} RFC 3339 timestamps, {@code total} a decimal
 * size and {@code expected} a digest (the last two only when known).
 */
final class IngestFiles {
    static final String DATA = "data";
    static final String REF = "ref";
    static final String STARTED_AT = "startedat";
    static final String UPDATED_AT = "updatedat";
    static final String TOTAL = "total";
    static final String EXPECTED = "expected";

    private IngestFiles() {}

    /**
     * The status of the ingest in {@code dir} as recorded on disk, or {@code null} if there is no
     * usable ingest there: no data file, a missing or unreadable file, or (when {@code ref} is
     * given) a different ref.
     */
    static IngestStatus readStatus(Path dir, String ref) {
        try {
            String recorded = Files.readString(dir.resolve(REF), StandardCharsets.UTF_8);
            if (recorded.isEmpty() || (ref != null && !ref.equals(recorded))) {
                return null;
            }
            Instant startedAt = readInstant(dir.resolve(STARTED_AT));
            Instant updatedAt = readInstant(dir.resolve(UPDATED_AT));
            long total = 0;
            Path totalFile = dir.resolve(TOTAL);
            if (Files.exists(totalFile)) {
                total = Long.parseLong(Files.readString(totalFile).strip());
            }
            Optional<Digest> expected = Optional.empty();
            Path expectedFile = dir.resolve(EXPECTED);
            if (Files.exists(expectedFile)) {
                expected = Optional.of(Digest.parse(Files.readString(expectedFile).strip()));
            }
            long offset = Files.size(dir.resolve(DATA));
            return new IngestStatus(recorded, offset, total, expected, startedAt, updatedAt);
        } catch (IOException | NumberFormatException | DateTimeParseException | InvalidArgumentException e) {
            return null;
        }
    }

    private static Instant readInstant(Path file) throws IOException {
        return Instant.parse(Files.readString(file).strip());
    }

    /**
     * Replaces {@code file} by a complete new version through a rename. Not synced: a crash may
     * lose it, and then the ingest no longer reads as valid and is started again, which is safe.
     */
    static void write(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static void writeInstant(Path file, Instant instant) throws IOException {
        write(file, instant.toString());
    }

    /** Makes renames and creations in {@code dir} durable. */
    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** Removes {@code dir} and the flat files in it (an ingest directory has no subdirectories). */
    static void deleteTree(Path dir) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                Files.deleteIfExists(entry);
            }
        } catch (NoSuchFileException gone) {
            return;
        }
        Files.deleteIfExists(dir);
    }
}
