package dev.berth.plugin.content;

/** Reads committed content by digest. */
public interface ContentProvider {

    /**
     * Opens a reader over the committed blob {@code digest}. The caller closes it.
     *
     * @throws dev.berth.plugin.NotFoundException if no such blob is committed
     */
    ContentReader readerAt(Digest digest);
}
