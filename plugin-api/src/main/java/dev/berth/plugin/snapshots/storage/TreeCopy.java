package dev.berth.plugin.snapshots.storage;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a directory tree faithfully, as containerd's {@code fs.CopyDir}: regular files,
 * directories, symbolic links (not followed), hard links (linked again within the copy), FIFOs,
 * sockets and device nodes, with modes (set-id and sticky bits included), ownership (when running
 * as root), extended attributes and modification and access times.
 *
 * <p>What a copy-based snapshotter needs to make a writable snapshot from its parent; the built-in
 * {@code native} snapshotter and the dedup sample use it.
 */
public final class TreeCopy {
    private static final Logger LOG = LoggerFactory.getLogger(TreeCopy.class);
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;

    private final Path source;
    private final Path target;
    private final boolean root;
    private final Map<Object, Path> linked = new HashMap<>();

    private TreeCopy(Path source, Path target, boolean root) {
        this.source = source;
        this.target = target;
        this.root = root;
    }

    /** Copies the contents and the attributes of directory {@code source} into existing directory {@code target}. */
    public static void copy(Path source, Path target) throws IOException {
        boolean root = ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        Files.walkFileTree(source, new TreeCopy(source, target, root).visitor());
    }

    private SimpleFileVisitor<Path> visitor() {
        return new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(source)) {
                    Files.createDirectory(destination(dir));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                copyEntry(file, attrs);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
                if (failure != null) {
                    throw failure;
                }
                // Set last: a read-only directory must still take its children, and adding them
                // changes its times.
                Map<String, Object> unix = Files.readAttributes(dir, "unix:*", NOFOLLOW);
                copyMetadata(dir, destination(dir), unix, Files.readAttributes(dir, BasicFileAttributes.class, NOFOLLOW));
                return FileVisitResult.CONTINUE;
            }
        };
    }

    private Path destination(Path path) {
        return target.resolve(source.relativize(path).toString());
    }

    private void copyEntry(Path file, BasicFileAttributes attrs) throws IOException {
        Path copy = destination(file);
        Map<String, Object> unix = Files.readAttributes(file, "unix:*", NOFOLLOW);
        int mode = (Integer) unix.get("mode");
        int type = mode & S_IFMT;
        if (type != S_IFDIR && type != S_IFLNK && (Integer) unix.get("nlink") > 1) {
            Object inode = java.util.List.of(unix.get("dev"), unix.get("ino"));
            Path first = linked.putIfAbsent(inode, copy);
            if (first != null) {
                Files.createLink(copy, first);
                return;
            }
        }
        switch (type) {
            case S_IFLNK -> Files.createSymbolicLink(copy, Files.readSymbolicLink(file));
            case S_IFREG -> Files.copy(file, copy, LinkOption.NOFOLLOW_LINKS);
            default -> Posix.mknod(copy, mode, (Long) unix.get("rdev"));
        }
        copyMetadata(file, copy, unix, attrs);
    }

    private void copyMetadata(Path original, Path copy, Map<String, Object> unix, BasicFileAttributes attrs)
            throws IOException {
        if (root) {
            Files.setAttribute(copy, "unix:uid", unix.get("uid"), NOFOLLOW);
            Files.setAttribute(copy, "unix:gid", unix.get("gid"), NOFOLLOW);
        }
        if (!attrs.isSymbolicLink()) {
            // After chown, which clears set-id bits; by path, as the JDK's way opens the file.
            Posix.chmod(copy, (Integer) unix.get("mode") & 07777);
        }
        for (Posix.Xattr xattr : Posix.xattrs(original)) {
            try {
                Posix.setXattr(copy, xattr);
            } catch (IOException e) {
                // As containerd: an attribute the target refuses (e.g. trusted.* without privilege) is skipped.
                LOG.debug("not copying extended attribute {} of {}: {}", xattr.name(), original, e.getMessage());
            }
        }
        Posix.setTimes(copy, attrs.lastAccessTime().toInstant(), attrs.lastModifiedTime().toInstant());
    }
}
