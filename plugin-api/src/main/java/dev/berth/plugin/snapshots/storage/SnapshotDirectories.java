package dev.berth.plugin.snapshots.storage;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The directory of each snapshot, {@code <parent>/<id>}, with the crash discipline containerd's
 * snapshotters follow: a snapshot's directory is built under {@code new-<id>} and renamed into
 * place when complete, and removed by renaming it to {@code rm-<id>} first, so that a directory
 * named by a bare id is always whole; leftovers of either kind are removed by {@link #cleanup}.
 */
public final class SnapshotDirectories {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotDirectories.class);
    private static final String NEW = "new-";
    private static final String REMOVING = "rm-";

    private final Path parent;

    /** Uses (creating if needed, mode 0700) {@code parent} as the home of snapshot directories. */
    public SnapshotDirectories(Path parent) {
        this.parent = requireNonNull(parent, "parent is null");
        try {
            Files.createDirectories(parent);
            Files.setPosixFilePermissions(parent, EnumSet.of(PosixFilePermission.OWNER_READ,
                    PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE));
        } catch (IOException e) {
            throw new UncheckedIOException("create snapshot directory " + parent, e);
        }
    }

    /** The directory of snapshot {@code id}. */
    public Path path(String id) {
        return parent.resolve(id);
    }

    /** Creates the empty directory {@code new-<id>} (mode 0755) in which a snapshot is built. */
    public Path createTemporary(String id) {
        Path temporary = parent.resolve(NEW + id);
        try {
            Files.createDirectory(temporary);
            Files.setPosixFilePermissions(temporary, EnumSet.of(PosixFilePermission.OWNER_READ,
                    PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_READ,
                    PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_EXECUTE));
            return temporary;
        } catch (IOException e) {
            deleteQuietly(temporary, e);
            throw new UncheckedIOException("create snapshot directory " + temporary, e);
        }
    }

    /** Renames a complete {@link #createTemporary temporary} directory to {@code <id>}. */
    public Path publish(String id, Path temporary) {
        try {
            return Files.move(temporary, path(id), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("move snapshot directory " + temporary + " into place", e);
        }
    }

    /**
     * Removes the directory of snapshot {@code id} (or its temporary one), if any. A failure after
     * the rename is only logged: the snapshot is gone, and {@link #cleanup} retries.
     */
    public void delete(String id) {
        Path removing = parent.resolve(REMOVING + id);
        for (Path candidate : new Path[] {path(id), parent.resolve(NEW + id)}) {
            try {
                Files.move(candidate, removing, StandardCopyOption.ATOMIC_MOVE);
            } catch (NoSuchFileException absent) {
                continue;
            } catch (IOException e) {
                throw new UncheckedIOException("remove snapshot directory " + candidate, e);
            }
            deleteQuietly(removing, null);
        }
    }

    /** Removes every directory that is not that of a snapshot in {@code keep}, whole or being built. */
    public void cleanup(Set<String> keep) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                String id = name.startsWith(NEW) ? name.substring(NEW.length()) : name;
                if (name.startsWith(REMOVING) || !keep.contains(id)) {
                    deleteQuietly(entry, null);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("clean up snapshot directories in " + parent, e);
        }
    }

    /** Deletes a tree without following links, making read-only directories writable first. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                // Without root, a directory copied as 0555 cannot lose its children otherwise.
                if (!Files.isWritable(dir) || !Files.isExecutable(dir)) {
                    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(dir);
                    permissions.addAll(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                            PosixFilePermission.OWNER_EXECUTE));
                    Files.setPosixFilePermissions(dir, permissions);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
                if (failure != null) {
                    throw failure;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void deleteQuietly(Path path, IOException primary) {
        try {
            deleteTree(path);
        } catch (IOException | RuntimeException e) {
            report(path, primary, e);
        }
    }

    private static void report(Path path, IOException primary, Exception e) {
        if (primary != null) {
            primary.addSuppressed(e);
        } else {
            LOG.warn("could not remove {}; a later cleanup retries: {}", path, e.toString());
        }
    }
}
