package dev.berth.plugins.differ;

import dev.berth.plugin.BerthException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unpacks an uncompressed OCI layer tar onto a directory, after containerd's {@code applyNaive}:
 * {@code .wh.<name>} entries delete {@code <name>}, {@code .wh..wh..opq} hides everything the
 * directory held before this layer, and every other entry replaces what was at its path (a
 * directory over a directory merges).
 *
 * <p>The root is a security boundary. Every entry's parent is resolved inside the root with
 * {@link RootPath}; the entry's own last component is never followed; names and hard-link
 * targets that are absolute or climb above the root are refused, and so are symlinks that lead
 * above it. Nothing is ever created, changed or removed outside the root.
 *
 * <p>Ownership is applied and device nodes are created only when the process is privileged (root);
 * otherwise files belong to the daemon's user and a device node is refused.
 */
final class LayerApplier {

    static final String WHITEOUT_PREFIX = ".wh.";
    static final String OPAQUE = ".wh..wh..opq";

    private static final Logger LOG = LoggerFactory.getLogger(LayerApplier.class);
    private static final int BUFFER = 256 * 1024;

    private final Path root;
    private final boolean privileged;

    /**
     * @param root       the directory to unpack into; it must exist
     * @param privileged whether to apply ownership and create device nodes (true when running as root)
     */
    LayerApplier(Path root, boolean privileged) throws IOException {
        this.root = root.toRealPath();
        this.privileged = privileged;
    }

    /** Whether this process may change ownership and create device nodes. */
    static boolean privilegedProcess() {
        return Posix.geteuid() == 0;
    }

    /**
     * Applies every entry of {@code tar}, reading it up to its end-of-archive marker.
     *
     * @throws dev.berth.plugin.InvalidArgumentException    if an entry is malformed or tries to leave the root
     * @throws dev.berth.plugin.FailedPreconditionException if an entry needs privileges the process lacks
     * @throws dev.berth.plugin.CanceledException           if the thread is interrupted
     * @throws IOException                                  if the stream or the file system fails
     */
    void apply(InputStream tar) throws IOException {
        TarReader reader = new TarReader(tar);
        Set<Path> keep = new HashSet<>();
        List<Dir> dirs = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
        for (Optional<TarEntry> next = reader.next(); next.isPresent(); next = reader.next()) {
            if (Thread.currentThread().isInterrupted()) {
                throw BerthException.of(BerthException.Kind.CANCELED, "applying layer");
            }
            TarEntry entry = next.get();
            List<String> parts = RootPath.clean(entry.name(), entry.name());
            if (parts.isEmpty()) {
                continue; // the root's own entry: its metadata belongs to the snapshotter, as in containerd
            }
            String base = parts.getLast();
            Path parent = RootPath.resolve(root, parts.subList(0, parts.size() - 1), entry.name());
            makeParent(parent, entry);
            if (base.equals(OPAQUE)) {
                clearOpaque(parent, keep);
                continue;
            }
            if (base.startsWith(WHITEOUT_PREFIX)) {
                whiteout(parent, base.substring(WHITEOUT_PREFIX.length()), entry);
                continue;
            }
            Path path = parent.resolve(base);
            BasicFileAttributes existing = lstat(path);
            if (existing != null && !(existing.isDirectory() && entry.type() == TarEntry.Type.DIRECTORY)) {
                removeAll(path);
                existing = null;
            }
            create(entry, path, existing != null, reader, buffer);
            if (entry.type() == TarEntry.Type.DIRECTORY) {
                // a directory's times are set last, once nothing more is created in it
                dirs.add(new Dir(path, entry));
            } else {
                setTimes(path, entry);
            }
            // the entry and its parents are this layer's own: opaque markers that follow keep them
            Path written = path;
            while (!written.equals(root) && keep.add(written)) {
                written = written.getParent();
            }
        }
        for (Dir dir : dirs.reversed()) {
            setTimes(dir.path(), dir.entry());
        }
    }

    private record Dir(Path path, TarEntry entry) {}

    private void makeParent(Path parent, TarEntry entry) throws IOException {
        if (parent.equals(root)) {
            return;
        }
        BasicFileAttributes attributes = lstat(parent);
        if (attributes == null) {
            Files.createDirectories(parent);
        } else if (!attributes.isDirectory()) {
            throw TarReader.invalid(entry.name(), "its parent is not a directory");
        }
    }

    private void create(TarEntry entry, Path path, boolean merge, TarReader reader, ByteBuffer buffer) throws IOException {
        switch (entry.type()) {
            case DIRECTORY -> {
                if (!merge) {
                    Files.createDirectory(path);
                }
            }
            case REGULAR -> {
                try (FileChannel out = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS)) {
                    InputStream content = reader.content();
                    byte[] array = buffer.array();
                    for (int n = content.read(array); n >= 0; n = content.read(array)) {
                        buffer.clear().limit(n);
                        while (buffer.hasRemaining()) {
                            out.write(buffer);
                        }
                    }
                }
            }
            case SYMLINK -> {
                if (entry.linkName().isEmpty()) {
                    throw TarReader.invalid(entry.name(), "symlink without a target");
                }
                // the target is stored as written: it is only ever followed by RootPath or inside the container
                Files.createSymbolicLink(path, path.getFileSystem().getPath(entry.linkName()));
            }
            case HARD_LINK -> Files.createLink(path, linkTarget(entry));
            case CHAR_DEVICE, BLOCK_DEVICE -> {
                if (!privileged) {
                    throw BerthException.of(BerthException.Kind.FAILED_PRECONDITION,
                            "layer entry \"" + entry.name() + "\": creating a device node needs root");
                }
                int kind = entry.type() == TarEntry.Type.CHAR_DEVICE ? Posix.S_IFCHR : Posix.S_IFBLK;
                Posix.mknod(path, kind | entry.mode(), Posix.makedev(entry.devMajor(), entry.devMinor()));
            }
            case FIFO -> Posix.mknod(path, Posix.S_IFIFO | entry.mode(), 0);
        }
        if (privileged) {
            Posix.lchown(path, entry.uid(), entry.gid());
        }
        for (Map.Entry<String, byte[]> xattr : entry.xattrs().entrySet()) {
            setXattr(path, entry, xattr.getKey(), xattr.getValue());
        }
        // after lchown, which clears setuid and setgid
        if (entry.type() != TarEntry.Type.SYMLINK) {
            Posix.chmod(path, entry.mode());
        }
    }

    /** A hard link's target, which must already exist in the root and not be a directory. */
    private Path linkTarget(TarEntry entry) throws IOException {
        List<String> parts = RootPath.clean(entry.linkName(), entry.name());
        if (parts.isEmpty()) {
            throw TarReader.invalid(entry.name(), "hard link to the root");
        }
        Path target = RootPath.resolve(root, parts.subList(0, parts.size() - 1), entry.name()).resolve(parts.getLast());
        BasicFileAttributes attributes = lstat(target);
        if (attributes == null) {
            throw TarReader.invalid(entry.name(), "hard link target \"" + entry.linkName() + "\" does not exist");
        }
        if (attributes.isDirectory()) {
            throw TarReader.invalid(entry.name(), "hard link to the directory \"" + entry.linkName() + "\"");
        }
        return target;
    }

    private void setXattr(Path path, TarEntry entry, String name, byte[] value) throws IOException {
        try {
            Posix.lsetxattr(path, name, value);
        } catch (Posix.ErrnoException e) {
            // as containerd: the file system may not support xattrs at all, and user.* is only
            // allowed on regular files and directories
            boolean userOnOther = e.errno == Posix.EPERM && name.startsWith("user.")
                    && entry.type() != TarEntry.Type.REGULAR && entry.type() != TarEntry.Type.DIRECTORY;
            if (e.errno == Posix.ENOTSUP || userOnOther) {
                LOG.warn("layer entry {}: ignored xattr {} ({})", entry.name(), name, e.getMessage());
                return;
            }
            throw e;
        }
    }

    private static void setTimes(Path path, TarEntry entry) throws IOException {
        Instant mtime = entry.mtime();
        Instant atime = entry.atime().filter(a -> a.isAfter(mtime)).orElse(mtime);
        Posix.lutimes(path, atime, mtime);
    }

    private void whiteout(Path parent, String name, TarEntry entry) throws IOException {
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            throw TarReader.invalid(entry.name(), "whiteout of an invalid name");
        }
        Path target = parent.resolve(name);
        if (lstat(target) != null) {
            removeAll(target);
        }
    }

    /** Removes what the directory held before this layer, keeping what this layer wrote. */
    private void clearOpaque(Path dir, Set<Path> keep) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            stream.forEach(children::add);
        }
        for (Path child : children) {
            if (!keep.contains(child)) {
                removeAll(child);
            } else {
                BasicFileAttributes attributes = lstat(child);
                if (attributes != null && attributes.isDirectory()) {
                    clearOpaque(child, keep);
                }
            }
        }
    }

    /** Removes a file or a whole tree, never following a symlink. */
    private static void removeAll(Path path) throws IOException {
        Files.walkFileTree(path, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static BasicFileAttributes lstat(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
