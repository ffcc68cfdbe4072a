package dev.berth.plugin.content;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Optional;

/**
 * An open ingest. It holds its ref exclusively until it is committed or closed. It is meant for one
 * thread at a time; {@link IngestManager#status} may be read concurrently from others.
 *
 * <p>After an I/O error the writer is closed; reopening the ref resumes from what reached disk.
 */
public interface ContentWriter extends AutoCloseable {

    /** The digest of every byte written so far, including those before a resume. */
    Digest digest();

    /** The ingest's status; its offset counts every byte written so far. */
    IngestStatus status();

    /**
     * Appends every remaining byte of {@code src}, advancing its position to its limit.
     *
     * @throws dev.berth.plugin.FailedPreconditionException if the writer is closed or committed
     */
    void write(ByteBuffer src);

    /**
     * Verifies what was written and makes it a blob, atomically: readers either find the complete
     * blob or nothing. The writer is closed afterwards, whatever the outcome.
     *
     * <p>On a size or digest mismatch the ingest is kept as it was, so the client may reopen it and
     * truncate or complete it. If the content is already committed, the ingest is removed.
     *
     * @param size     the size the client expects, or {@code 0} (or less) to skip that check
     * @param expected the digest the client expects, if it does
     * @param labels   the labels the new blob gets
     * @throws dev.berth.plugin.FailedPreconditionException if the size or digest differs, or the
     *                                                      writer is already closed
     * @throws dev.berth.plugin.AlreadyExistsException      if the content is already committed
     */
    void commit(long size, Optional<Digest> expected, Map<String, String> labels);

    /**
     * Cuts the ingest back to {@code size} bytes; writing continues from there.
     *
     * @throws dev.berth.plugin.InvalidArgumentException    if {@code size} is negative or beyond
     *                                                      the current offset
     * @throws dev.berth.plugin.FailedPreconditionException if the writer is closed or committed
     */
    void truncate(long size);

    /**
     * Releases the ref and keeps the progress, so the ingest can be resumed or aborted. Closing a
     * closed or committed writer does nothing.
     */
    @Override
    void close();
}
