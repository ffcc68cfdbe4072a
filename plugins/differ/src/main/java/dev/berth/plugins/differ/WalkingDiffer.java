package dev.berth.plugins.differ;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.AlreadyExistsException;
import dev.berth.plugin.BerthException;
import dev.berth.plugin.content.ContentInfo;
import dev.berth.plugin.content.ContentReader;
import dev.berth.plugin.content.ContentStore;
import dev.berth.plugin.content.ContentWriter;
import dev.berth.plugin.content.Descriptor;
import dev.berth.plugin.content.Digest;
import dev.berth.plugin.diff.ApplyOptions;
import dev.berth.plugin.diff.CompareOptions;
import dev.berth.plugin.diff.Differ;
import dev.berth.plugin.diff.LayerMediaTypes;
import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.mount.Mounts;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.GZIPOutputStream;

/**
 * The walking differ, after containerd's {@code diff/apply} and {@code diff/walking}: applies a
 * layer by streaming it, decompressed, through {@link LayerApplier} onto the mounted root, and
 * compares two mounted trees with {@link LayerComparer}.
 *
 * <p>A single bind mount is used through its source directory instead of being mounted: it shows
 * exactly that directory, and this lets the differ work for snapshotters without root.
 */
final class WalkingDiffer implements Differ {

    /** The label containerd puts on compressed layers it writes: the digest of the uncompressed tar. */
    static final String UNCOMPRESSED_LABEL = "containerd.io/uncompressed";

    private static final int BUFFER = 128 * 1024;
    /** Chunks of {@link #BUFFER} bytes that the layer's reading may run ahead of its unpacking. */
    private static final int READ_AHEAD_CHUNKS = 16;

    /** The content store a request sees: that of its namespace, under its lease. */
    @FunctionalInterface
    interface Contents {
        ContentStore of(String namespace, Optional<String> lease);
    }

    private final Contents contents;
    private final Path mountRoot;
    private final boolean privileged;

    /**
     * @param contents   the content store of each namespace
     * @param mountRoot  where temporary mount points are made
     * @param privileged whether to apply ownership and create device nodes
     */
    WalkingDiffer(Contents contents, Path mountRoot, boolean privileged) {
        this.contents = requireNonNull(contents, "contents is null");
        this.mountRoot = requireNonNull(mountRoot, "mountRoot is null");
        this.privileged = privileged;
    }

    @Override
    public Descriptor apply(Descriptor layer, List<Mount> mounts, ApplyOptions options) {
        requireNonNull(layer, "layer is null");
        requireNonNull(mounts, "mounts is null");
        requireNonNull(options, "options is null");
        if (!LayerMediaTypes.isLayer(layer.mediaType())) {
            throw BerthException.of(BerthException.Kind.UNIMPLEMENTED,
                    "apply " + layer.digest() + ": no processor for media-type " + layer.mediaType());
        }
        ContentStore store = contents.of(options.namespace(), Optional.empty());
        try (ContentReader reader = store.readerAt(layer.digest())) {
            if (reader.size() != layer.size()) {
                throw mismatch(layer, "size " + reader.size() + " is not the descriptor's " + layer.size());
            }
            MessageDigest blobHash = Digest.hasher(layer.digest().algorithm());
            MessageDigest tarHash = Digest.hasher(Digest.CANONICAL);
            InputStream blob = new DigestInputStream(new ReaderStream(reader), blobHash);
            // reading, hashing and decompressing on one thread, unpacking on this one
            try (ReadAhead ahead = new ReadAhead(new DigestInputStream(Compression.decompress(blob), tarHash),
                    BUFFER, READ_AHEAD_CHUNKS, "berth-layer-read")) {
                CountingStream tar = new CountingStream(ahead);
                withRoot(mounts, false, root -> {
                    new LayerApplier(root, privileged).apply(tar);
                    // what trails the archive still counts, in the digest of the tar and of the blob; once
                    // the tar has ended, the read-ahead no longer reads the blob
                    tar.transferTo(OutputStream.nullOutputStream());
                    blob.transferTo(OutputStream.nullOutputStream());
                    return null;
                });
                Digest actual = Digest.of(layer.digest().algorithm(), blobHash.digest());
                if (!actual.equals(layer.digest())) {
                    throw mismatch(layer, "content has digest " + actual);
                }
                return Descriptor.of(LayerMediaTypes.OCI_TAR, Digest.of(Digest.CANONICAL, tarHash.digest()), tar.count);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("apply " + layer.digest(), e);
        }
    }

    @Override
    public Descriptor compare(List<Mount> lower, List<Mount> upper, CompareOptions options) {
        requireNonNull(lower, "lower is null");
        requireNonNull(upper, "upper is null");
        requireNonNull(options, "options is null");
        String mediaType = options.mediaType().orElse(LayerMediaTypes.OCI_TAR_GZIP);
        boolean gzip = switch (mediaType) {
            case LayerMediaTypes.OCI_TAR -> false;
            case LayerMediaTypes.OCI_TAR_GZIP -> true;
            default -> throw BerthException.of(BerthException.Kind.UNIMPLEMENTED, "unsupported diff media type: " + mediaType);
        };
        ContentStore store = contents.of(options.namespace(), options.lease());
        String ref = options.ref().orElseGet(WalkingDiffer::uniqueRef);
        ContentWriter writer = store.writer(ref, 0, Optional.empty());
        Map<String, String> labels = new HashMap<>(options.labels());
        boolean committed = false;
        try {
            if (options.ref().isPresent()) {
                writer.truncate(0); // a caller's ref may hold an earlier attempt
            }
            MessageDigest tarHash = Digest.hasher(Digest.CANONICAL);
            withRoot(lower, true, lowerRoot -> withRoot(upper, true, upperRoot -> {
                try (OutputStream out = new BufferedOutputStream(new WriterStream(writer), BUFFER)) {
                    OutputStream compressed = gzip ? new GZIPOutputStream(out, BUFFER) : out;
                    OutputStream tar = new DigestOutputStream(compressed, tarHash);
                    new LayerComparer(lowerRoot, upperRoot).write(tar);
                    tar.close();
                }
                return null;
            }));
            if (gzip) {
                labels.put(UNCOMPRESSED_LABEL, Digest.of(Digest.CANONICAL, tarHash.digest()).toString());
            }
            Digest digest = writer.digest();
            try {
                writer.commit(0, Optional.of(digest), labels);
            } catch (AlreadyExistsException e) {
                // the same layer was written before: reuse it, as containerd does
            }
            committed = true;
            ContentInfo info = store.info(digest);
            if (gzip && !info.labels().containsKey(UNCOMPRESSED_LABEL)) {
                Map<String, String> withLabel = new HashMap<>(info.labels());
                withLabel.put(UNCOMPRESSED_LABEL, labels.get(UNCOMPRESSED_LABEL));
                store.update(info.withLabels(withLabel), List.of("labels." + UNCOMPRESSED_LABEL));
            }
            return Descriptor.of(mediaType, digest, info.size());
        } finally {
            if (!committed) {
                writer.close();
                if (options.ref().isEmpty()) {
                    abortQuietly(store, ref);
                }
            }
        }
    }

    private static void abortQuietly(ContentStore store, String ref) {
        try {
            store.abort(ref);
        } catch (BerthException e) {
            // the ingest is already gone or was never created; nothing is left to release
        }
    }

    @FunctionalInterface
    private interface RootAction<T> {
        T run(Path root) throws IOException;
    }

    private <T> T withRoot(List<Mount> mounts, boolean readOnly, RootAction<T> action) {
        try {
            if (mounts.size() == 1 && isPlainBind(mounts.getFirst(), readOnly)) {
                return action.run(Path.of(mounts.getFirst().source()));
            }
            List<Mount> effective = readOnly ? Mounts.readOnly(mounts) : mounts;
            return Mounts.withTempMount(mountRoot, effective, action::run);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A bind mount of a directory that can be used in place: writable if writing is wanted. */
    private static boolean isPlainBind(Mount mount, boolean readOnly) {
        if (!mount.type().equals("bind") && !mount.options().contains("bind") && !mount.options().contains("rbind")) {
            return false;
        }
        return readOnly || !Mounts.isReadOnly(mount);
    }

    private static BerthException mismatch(Descriptor layer, String problem) {
        return BerthException.of(BerthException.Kind.FAILED_PRECONDITION, "apply " + layer.digest() + ": " + problem);
    }

    private static String uniqueRef() {
        byte[] random = new byte[16];
        ThreadLocalRandom.current().nextBytes(random);
        return "walking-differ-" + HexFormat.of().formatHex(random);
    }

    /** Reads a content reader from its start. */
    private static final class ReaderStream extends InputStream {
        private final ContentReader reader;
        private long position;

        ReaderStream(ContentReader reader) {
            this.reader = reader;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            int n = reader.read(ByteBuffer.wrap(b, off, len), position);
            if (n > 0) {
                position += n;
            }
            return n;
        }
    }

    /** Counts the bytes read through it. */
    private static final class CountingStream extends InputStream {
        private final InputStream in;
        private long count;

        CountingStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }

    /** Writes into a content writer. */
    private static final class WriterStream extends OutputStream {
        private final ContentWriter writer;

        WriterStream(ContentWriter writer) {
            this.writer = writer;
        }

        @Override
        public void write(int b) {
            writer.write(ByteBuffer.wrap(new byte[] {(byte) b}));
        }

        @Override
        public void write(byte[] b, int off, int len) {
            writer.write(ByteBuffer.wrap(b, off, len));
        }
    }
}
