package dev.berth.plugin.content;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/**
 * The progress of one ingest.
 *
 * @param ref       the ingest's key, as the client chose it
 * @param offset    how many bytes have been written so far
 * @param total     the size the client announced, or {@code 0} if unknown
 * @param expected  the digest the client announced, if it did
 * @param startedAt when the ingest began (it survives resumes and restarts)
 * @param updatedAt when bytes were last written to it
 */
public record IngestStatus(String ref, long offset, long total, Optional<Digest> expected, Instant startedAt, Instant updatedAt) {
    public IngestStatus {
        requireNonNull(ref, "ref is null");
        requireNonNull(expected, "expected is null");
        requireNonNull(startedAt, "startedAt is null");
        requireNonNull(updatedAt, "updatedAt is null");
    }
}
