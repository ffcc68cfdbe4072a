package dev.berth.plugin.snapshots.storage;

import dev.berth.plugin.snapshots.Usage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** Measures a directory tree as du does, for {@link Usage}. */
public final class DiskUsage {

    private DiskUsage() {}

    /**
     * The inodes and bytes under {@code root}, {@code root} included: every file, directory,
     * symbolic link and special file counts one inode and its length in bytes; a file with several
     * hard links in the tree counts once. Symbolic links are not followed. Entries removed while
     * the tree is walked are not counted.
     */
    public static Usage of(Path root) {
        record Inode(Object dev, Object ino) {}
        Set<Inode> linked = new HashSet<>();
        long[] totals = new long[2];
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    count(dir, true);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    count(file, false);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                private void count(Path path, boolean directory) throws IOException {
                    Map<String, Object> unix;
                    try {
                        unix = Files.readAttributes(path, "unix:dev,ino,nlink,size", LinkOption.NOFOLLOW_LINKS);
                    } catch (NoSuchFileException gone) {
                        return;
                    }
                    // Only files with several links need remembering; directories' link counts are
                    // their subdirectories, and a directory cannot be hard-linked.
                    if (!directory && (Integer) unix.get("nlink") > 1 && !linked.add(new Inode(unix.get("dev"), unix.get("ino")))) {
                        return;
                    }
                    totals[0]++;
                    totals[1] += (Long) unix.get("size");
                }
            });
        } catch (NoSuchFileException e) {
            return Usage.NONE;
        } catch (IOException e) {
            throw new UncheckedIOException("measure " + root, e);
        }
        return new Usage(totals[0], totals[1]);
    }
}
