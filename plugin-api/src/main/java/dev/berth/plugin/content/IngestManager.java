package dev.berth.plugin.content;

import java.util.List;
import java.util.function.Predicate;

/** Observes and cancels ingests that have not been committed. */
public interface IngestManager {

    /**
     * The status of the ingest {@code ref}, active (a writer is open) or not (its writer was
     * closed, its client went away or the daemon restarted).
     *
     * @throws dev.berth.plugin.NotFoundException        if there is no such ingest
     * @throws dev.berth.plugin.InvalidArgumentException if {@code ref} is not a valid ref
     */
    IngestStatus status(String ref);

    /** The status of every ingest matching {@code filter}, in no particular order. */
    List<IngestStatus> listStatuses(Predicate<? super IngestStatus> filter);

    /**
     * Cancels the ingest {@code ref} and frees everything it holds.
     *
     * @throws dev.berth.plugin.NotFoundException        if there is no such ingest
     * @throws dev.berth.plugin.UnavailableException     if a writer for it is open; close it first
     * @throws dev.berth.plugin.InvalidArgumentException if {@code ref} is not a valid ref
     */
    void abort(String ref);
}
