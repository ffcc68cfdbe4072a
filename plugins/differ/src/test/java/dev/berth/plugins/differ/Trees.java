package dev.berth.plugins.differ;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/** Describes a tree, every file's kind, mode, owner, size, content, target, time and xattrs, to compare two. */
final class Trees {

    private Trees() {}

    static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> tree = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(root)) {
                    tree.put(root.relativize(dir) + "/", line(dir));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                tree.put(root.relativize(file).toString(), line(file));
                return FileVisitResult.CONTINUE;
            }
        });
        return tree;
    }

    private static String line(Path path) throws IOException {
        Map<String, Object> a = Files.readAttributes(path, "unix:mode,uid,gid,size,rdev,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        StringBuilder line = new StringBuilder(Integer.toOctalString(mode))
                .append(' ').append(a.get("uid")).append(':').append(a.get("gid"))
                .append(" mtime=").append(((FileTime) a.get("lastModifiedTime")).toInstant().getEpochSecond());
        if (Files.isSymbolicLink(path)) {
            line.append(" -> ").append(Files.readSymbolicLink(path));
        } else if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
            line.append(" size=").append(a.get("size")).append(" sha256=").append(sha256(Files.readAllBytes(path)));
        } else if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            line.append(" rdev=").append(a.get("rdev"));
        }
        for (String name : new java.util.TreeSet<>(Posix.llistxattr(path))) {
            if (name.startsWith("user.")) {
                line.append(' ').append(name).append('=')
                        .append(HexFormat.of().formatHex(Posix.lgetxattr(path, name).orElseThrow()));
            }
        }
        return line.toString();
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
