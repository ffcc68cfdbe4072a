package dev.berth.plugin.content;

/**
 * A complete content store: blobs addressed by digest, written through resumable ingests. Consumers
 * that need less ask for the narrower role ({@link ContentProvider}, {@link Ingester}, …).
 *
 * <p>Errors are those of {@code dev.berth.plugin} ({@code NotFoundException}, …) with their context,
 * e.g. {@code content sha256:ab…: not found}; I/O failures surface as
 * {@link java.io.UncheckedIOException}.
 */
public interface ContentStore extends ContentProvider, ContentManager, IngestManager, Ingester {}
