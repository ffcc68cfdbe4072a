package dev.berth.sample.dedup;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A content-addressed pool of files, {@code <directory>/<2 hex>/<62 hex>}, that committed
 * snapshots hard-link to, so that a file found in many snapshots is stored once.
 *
 * <p>A file's key is the SHA-256 of its content together with everything a hard link would
 * otherwise merge: its mode (type, permissions, set-id and sticky bits), owner, group, extended
 * attributes and, if so configured, its modification time. Two files with the same content but
 * other metadata get different keys, so sharing never changes what a snapshot shows.
 *
 * <p>A pool file has one link of its own plus one per snapshot path; it is deleted once only its
 * own is left. Pool files are never opened for writing: they are reachable only through committed
 * snapshots, which are mounted read-only, and a writable snapshot gets copies (see
 * {@link dev.berth.plugin.snapshots.storage.TreeCopy}). Their permission bits stay those of the
 * files they stand for, because a snapshot shows the same inode.
 *
 * <p>Every change of one pool file (creating it, linking to it, deleting it) happens under a lock
 * of its key's first byte, which is also the name of its directory; reading and hashing happen
 * outside. A crash can leave pool files no snapshot links to, which {@link #sweep} removes, and
 * links in the staging directory, which {@link #open} removes.
 */
final class Pool {
    private static final Logger LOG = LoggerFactory.getLogger(Pool.class);
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    private static final byte[] KEY_VERSION = "berth-dedup-v1\0".getBytes(StandardCharsets.US_ASCII);
    private static final String TOO_MANY_LINKS = "Too many links";

    /**
     * What the pool holds.
     *
     * @param files      the pool files
     * @param bytes      their total size: what the pool stores
     * @param savedBytes what separate copies would take beyond that: each pool file's size once for
     *                   every snapshot path linked to it after the first
     */
    record Stats(long files, long bytes, long savedBytes) {}

    /** One inode of a tree being shared, with its paths in the tree and its key. */
    private record Candidate(String key, List<Path> paths) {}

    private record Inode(Object dev, Object ino) {}

    private final Path directory;
    private final Path staging;
    private final boolean matchTimes;
    private final Object[] locks = new Object[256];
    private final AtomicLong staged = new AtomicLong();

    private Pool(Path directory, Path staging, boolean matchTimes) {
        this.directory = directory;
        this.staging = staging;
        this.matchTimes = matchTimes;
        for (int i = 0; i < locks.length; i++) {
            locks[i] = new Object();
        }
    }

    /**
     * Opens (creating if needed) the pool in {@code directory}, staging its links in
     * {@code staging}, which must be on the same filesystem as the snapshots, and empties the
     * staging directory of what a crash left there.
     *
     * @param matchTimes whether files must have the same modification time to share a pool file
     */
    static Pool open(Path directory, Path staging, boolean matchTimes) throws IOException {
        requireNonNull(directory, "directory is null");
        requireNonNull(staging, "staging is null");
        for (Path dir : List.of(directory, staging)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(staging)) {
            for (Path leftover : leftovers) {
                Files.delete(leftover);
            }
        }
        return new Pool(directory, staging, matchTimes);
    }

    /**
     * Replaces the regular files of the committed tree at {@code tree} with hard links to pool
     * files, adding to the pool what it lacks, and returns the keys of the pool files the tree
     * now links to. Calling it again on the same tree (after a crash part way) finishes the work.
     *
     * <p>Within one tree, inodes that are hard links of each other share one pool file, and two
     * distinct inodes never do: the first gets the pool file and the others stay as they are. So
     * in a committed snapshot two paths share an inode exactly when they did when it was
     * committed, and a copy of it, or a tar of it, shows the hard links it was made with and no
     * others. The times of the directories whose entries were replaced are restored.
     */
    Set<String> share(Path tree) throws IOException {
        Map<Inode, Candidate> inodes = new LinkedHashMap<>();
        Map<Path, Instant[]> directoryTimes = new HashMap<>();
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                directoryTimes.put(dir, new Instant[] {attrs.lastAccessTime().toInstant(), attrs.lastModifiedTime().toInstant()});
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    Map<String, Object> unix = Files.readAttributes(file, "unix:dev,ino,mode,uid,gid,size,lastModifiedTime", NOFOLLOW);
                    Inode inode = new Inode(unix.get("dev"), unix.get("ino"));
                    Candidate candidate = inodes.get(inode);
                    if (candidate == null) {
                        candidate = new Candidate(key(file, unix), new ArrayList<>());
                        inodes.put(inode, candidate);
                    }
                    candidate.paths().add(file);
                }
                return FileVisitResult.CONTINUE;
            }
        });

        Map<String, List<Candidate>> byKey = new LinkedHashMap<>();
        for (Candidate candidate : inodes.values()) {
            byKey.computeIfAbsent(candidate.key(), key -> new ArrayList<>()).add(candidate);
        }
        Set<String> held = new HashSet<>();
        Set<Path> touched = new HashSet<>();
        for (Map.Entry<String, List<Candidate>> entry : byKey.entrySet()) {
            String key = entry.getKey();
            synchronized (lock(key)) {
                Path pooled = path(key);
                if (!Files.exists(pooled, NOFOLLOW)) {
                    Files.createDirectories(pooled.getParent());
                    // The inode itself becomes the pool file: all its paths share it already.
                    if (link(pooled, entry.getValue().getFirst().paths().getFirst())) {
                        held.add(key);
                    }
                } else if (alreadyShared(pooled, entry.getValue())) {
                    held.add(key);
                } else {
                    Candidate first = entry.getValue().getFirst();
                    if (replace(first.paths(), pooled)) {
                        held.add(key);
                        first.paths().forEach(path -> touched.add(path.getParent()));
                    }
                }
            }
        }
        for (Path dir : touched) {
            Instant[] times = directoryTimes.get(dir);
            Posix.setTimes(dir, times[0], times[1]);
        }
        return held;
    }

    /** Drops the pool files of {@code keys} that no snapshot links to any more. */
    void release(Collection<String> keys) throws IOException {
        for (String key : keys) {
            synchronized (lock(key)) {
                releaseIfUnlinked(path(key));
            }
        }
    }

    /** Drops every pool file no snapshot links to, whatever left it so. */
    void sweep() throws IOException {
        try (DirectoryStream<Path> prefixes = Files.newDirectoryStream(directory)) {
            for (Path prefix : prefixes) {
                synchronized (lock(prefix.getFileName().toString())) {
                    try (DirectoryStream<Path> files = Files.newDirectoryStream(prefix)) {
                        for (Path file : files) {
                            releaseIfUnlinked(file);
                        }
                    }
                }
            }
        }
    }

    /** Counts what the pool holds now. */
    Stats stats() throws IOException {
        return stats(directory);
    }

    /**
     * Counts what the pool in {@code directory} holds now; safe beside a pool in use, whose files
     * may come and go meanwhile.
     */
    static Stats stats(Path directory) throws IOException {
        long files = 0;
        long bytes = 0;
        long saved = 0;
        try (DirectoryStream<Path> prefixes = Files.newDirectoryStream(directory)) {
            for (Path prefix : prefixes) {
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(prefix)) {
                    for (Path file : entries) {
                        Map<String, Object> unix;
                        try {
                            unix = Files.readAttributes(file, "unix:size,nlink", NOFOLLOW);
                        } catch (NoSuchFileException gone) {
                            continue;
                        }
                        long size = (Long) unix.get("size");
                        int links = (Integer) unix.get("nlink");
                        files++;
                        bytes += size;
                        saved += size * Math.max(0, links - 2);
                    }
                }
            }
        }
        return new Stats(files, bytes, saved);
    }

    /** The pool file of {@code key}. */
    Path path(String key) {
        return directory.resolve(key.substring(0, 2)).resolve(key.substring(2));
    }

    private Object lock(String key) {
        return locks[Integer.parseInt(key, 0, 2, 16)];
    }

    private static boolean alreadyShared(Path pooled, List<Candidate> candidates) throws IOException {
        for (Candidate candidate : candidates) {
            if (Files.isSameFile(pooled, candidate.paths().getFirst())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Makes every one of {@code paths} (the hard links of one inode) a link to {@code pooled}: all
     * of them or, if the pool file cannot take that many links, none, so a hard-link group is
     * never split. Each new link is made in the staging directory and renamed over its path, so a
     * reader sees the old file or the pool file, never neither.
     */
    private boolean replace(List<Path> paths, Path pooled) throws IOException {
        List<Path> links = new ArrayList<>(paths.size());
        for (int i = 0; i < paths.size(); i++) {
            Path link = staging.resolve(Long.toString(staged.incrementAndGet()));
            if (!link(link, pooled)) {
                for (Path made : links) {
                    Files.delete(made);
                }
                return false;
            }
            links.add(link);
        }
        for (int i = 0; i < paths.size(); i++) {
            Files.move(links.get(i), paths.get(i), StandardCopyOption.ATOMIC_MOVE);
        }
        return true;
    }

    /** Makes {@code link} a hard link to {@code existing}; false if the file has all the links its filesystem allows. */
    private static boolean link(Path link, Path existing) throws IOException {
        try {
            Files.createLink(link, existing);
            return true;
        } catch (FileSystemException e) {
            if (!TOO_MANY_LINKS.equals(e.getReason())) {
                throw e;
            }
            LOG.debug("{} has as many links as its filesystem allows; the file is left unshared", existing);
            return false;
        }
    }

    private static void releaseIfUnlinked(Path pooled) throws IOException {
        try {
            if ((Integer) Files.getAttribute(pooled, "unix:nlink", NOFOLLOW) <= 1) {
                Files.delete(pooled);
            }
        } catch (NoSuchFileException gone) {
            // released already
        }
    }

    private String key(Path file, Map<String, Object> unix) throws IOException {
        MessageDigest content = sha256();
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                content.update(buffer, 0, n);
            }
        }
        MessageDigest key = sha256();
        key.update(KEY_VERSION);
        key.update(content.digest());
        ByteBuffer metadata = ByteBuffer.allocate(32);
        metadata.putInt((Integer) unix.get("mode")).putInt((Integer) unix.get("uid")).putInt((Integer) unix.get("gid"))
                .putLong((Long) unix.get("size"));
        if (matchTimes) {
            Instant modified = ((FileTime) unix.get("lastModifiedTime")).toInstant();
            metadata.putLong(modified.getEpochSecond()).putInt(modified.getNano());
        }
        key.update(metadata.flip());
        for (Posix.Xattr xattr : Posix.xattrs(file)) {
            key.update(xattr.name().getBytes(StandardCharsets.UTF_8));
            key.update(ByteBuffer.allocate(5).put((byte) 0).putInt(xattr.value().length).flip());
            key.update(xattr.value());
        }
        return HexFormat.of().formatHex(key.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
