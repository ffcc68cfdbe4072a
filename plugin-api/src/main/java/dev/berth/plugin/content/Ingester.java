package dev.berth.plugin.content;

import java.util.Optional;

/** Writes new content. */
public interface Ingester {

    /**
     * Begins the ingest {@code ref}, or resumes it if it exists: a resumed writer continues at the
     * end of what was written before, also after the daemon restarted, and its
     * {@link ContentWriter#digest()} covers those bytes. Only one writer per ref is open at a time.
     *
     * <p>A ref is any non-empty string of at most {@value Refs#MAX_LENGTH} UTF-8 bytes without NUL;
     * it is a key, never a path, so no ref can name a file outside the store.
     *
     * @param ref      the client's key for this ingest
     * @param total    the size the client expects to write, or {@code 0} if unknown; a resumed
     *                 ingest whose recorded total differs starts again from nothing
     * @param expected the digest the client expects, if known
     * @throws dev.berth.plugin.InvalidArgumentException if {@code ref} is not a valid ref
     * @throws dev.berth.plugin.UnavailableException     if a writer for {@code ref} is already open
     *                                                   (message {@code ref <ref> locked …})
     * @throws dev.berth.plugin.AlreadyExistsException   if {@code expected} is already committed
     */
    ContentWriter writer(String ref, long total, Optional<Digest> expected);
}
