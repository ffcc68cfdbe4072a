package dev.berth.tck.snapshots;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/** Changes applied to a directory tree, and a description of a tree to compare two of them. */
final class Tree {

    /** A change to a tree, applied the same way to a mounted snapshot and to a plain directory. */
    @FunctionalInterface
    interface Change {
        void apply(Path root) throws IOException;

        static Change of(Change... changes) {
            return root -> {
                for (Change change : changes) {
                    change.apply(root);
                }
            };
        }
    }

    private Tree() {}

    static Change file(String path, String content, int mode) {
        return root -> {
            Path file = root.resolve(path);
            Files.writeString(file, content);
            Files.setAttribute(file, "unix:mode", mode);
        };
    }

    static Change dir(String path, int mode) {
        return root -> {
            Path dir = root.resolve(path);
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(dir);
            }
            Files.setAttribute(dir, "unix:mode", mode);
        };
    }

    static Change symlink(String target, String path) {
        return root -> Files.createSymbolicLink(root.resolve(path), Path.of(target));
    }

    static Change link(String existing, String path) {
        return root -> Files.createLink(root.resolve(path), root.resolve(existing));
    }

    static Change rename(String from, String to) {
        return root -> Files.move(root.resolve(from), root.resolve(to), StandardCopyOption.REPLACE_EXISTING);
    }

    static Change chown(String path, int uid, int gid) {
        return root -> {
            Files.setAttribute(root.resolve(path), "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(root.resolve(path), "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        };
    }

    static Change removeAll(String path) {
        return root -> {
            Path gone = root.resolve(path);
            if (!Files.exists(gone, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            Files.walkFileTree(gone, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        };
    }

    /**
     * Every entry below {@code root} (not {@code root} itself) by relative path: its type, mode,
     * owner, and its content's digest or its link target. Times are left out: a copy may keep them,
     * an overlay shows those of its layers.
     */
    static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(root)) {
                    entries.put(root.relativize(dir).toString(), "dir " + owner(dir));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String what = attrs.isSymbolicLink() ? "symlink -> " + Files.readSymbolicLink(file)
                        : attrs.isRegularFile() ? "file " + owner(file) + " " + sha256(file)
                        : "special " + owner(file);
                entries.put(root.relativize(file).toString(), what);
                return FileVisitResult.CONTINUE;
            }
        });
        return entries;
    }

    private static String owner(Path path) throws IOException {
        Map<String, Object> unix = Files.readAttributes(path, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        return Integer.toOctalString((Integer) unix.get("mode") & 07777) + " " + unix.get("uid") + ":" + unix.get("gid");
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
