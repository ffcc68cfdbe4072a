package dev.berth.plugins.differ;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Writes the OCI layer tar that turns one tree ({@code lower}) into another ({@code upper}), after
 * containerd's walking differ: both trees are walked together in lexical order; what only
 * {@code upper} has, or has changed, is written; what only {@code lower} has becomes a
 * {@code .wh.<name>} whiteout. Files are the same, as in continuity, when their mode, owner,
 * device, capabilities and (except for directories) size and modification time match; when both
 * times lack sub-second precision the content (or symlink target) decides.
 *
 * <p>The parents of every written entry are written first, so the layer carries their modes and
 * owners. Hard-linked files of {@code upper} are written once and linked after. Sockets are left
 * out. The same two trees always give the same bytes.
 */
final class LayerComparer {

    /** Attributes a layer carries: capabilities as containerd does, and the user namespace. */
    private static final String CAPABILITY = "security.capability";

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;

    private final Path lower;
    private final Path upper;
    private final List<Pending> parents = new ArrayList<>();
    private final Map<List<Object>, String> linked = new HashMap<>();
    private TarWriter tar;

    LayerComparer(Path lower, Path upper) {
        this.lower = lower;
        this.upper = upper;
    }

    /** Writes the whole layer, end marker included, to {@code out} (which stays open). */
    void write(OutputStream out) throws IOException {
        tar = new TarWriter(out);
        walk("", lower, upper);
        tar.finish();
    }

    /** A directory on the way down, written only if something below it is. */
    private record Pending(String name, Path path, Stat stat, boolean[] written) {}

    private void walk(String prefix, Path lowerDir, Path upperDir) throws IOException {
        List<String> lowerNames = lowerDir == null ? List.of() : sortedNames(lowerDir);
        List<String> upperNames = sortedNames(upperDir);
        int i = 0;
        int j = 0;
        while (i < lowerNames.size() || j < upperNames.size()) {
            int order = i == lowerNames.size() ? 1 : j == upperNames.size() ? -1
                    : lowerNames.get(i).compareTo(upperNames.get(j));
            if (order < 0) {
                whiteout(prefix, lowerNames.get(i++));
                continue;
            }
            String name = upperNames.get(j++);
            Path upperPath = upperDir.resolve(name);
            Stat u = Stat.of(upperPath);
            String entryName = prefix + name;
            if (order > 0) {
                added(entryName, upperPath, u);
                continue;
            }
            Path lowerPath = lowerDir.resolve(name);
            i++;
            Stat l = Stat.of(lowerPath);
            if (u.isDir() && l.isDir()) {
                boolean same = sameFile(lowerPath, l, upperPath, u);
                Pending pending = new Pending(entryName + "/", upperPath, u, new boolean[] {false});
                if (!same) {
                    emit(pending.name(), upperPath, u);
                    pending.written()[0] = true;
                }
                parents.add(pending);
                walk(entryName + "/", lowerPath, upperPath);
                parents.removeLast();
            } else if (u.isDir()) {
                added(entryName, upperPath, u);
            } else if (!sameFile(lowerPath, l, upperPath, u)) {
                emit(entryName, upperPath, u);
            }
        }
    }

    /** Writes an entry only {@code upper} has, with everything below it. */
    private void added(String entryName, Path path, Stat stat) throws IOException {
        if (!stat.isDir()) {
            emit(entryName, path, stat);
            return;
        }
        Pending pending = new Pending(entryName + "/", path, stat, new boolean[] {false});
        emit(pending.name(), path, stat);
        pending.written()[0] = true;
        parents.add(pending);
        walk(entryName + "/", null, path);
        parents.removeLast();
    }

    private void whiteout(String prefix, String name) throws IOException {
        writeParents();
        tar.write(new TarEntry(prefix + LayerApplier.WHITEOUT_PREFIX + name, TarEntry.Type.REGULAR, 0, 0, 0, 0,
                Instant.EPOCH, Optional.empty(), "", 0, 0, Map.of()), InputStream.nullInputStream());
    }

    private void writeParents() throws IOException {
        for (Pending parent : parents) {
            if (!parent.written()[0]) {
                parent.written()[0] = true;
                write(parent.name(), parent.path(), parent.stat(), TarEntry.Type.DIRECTORY, "");
            }
        }
    }

    private void emit(String name, Path path, Stat stat) throws IOException {
        int format = stat.mode() & S_IFMT;
        if (format == S_IFSOCK) {
            return;
        }
        writeParents();
        if (format != S_IFDIR && stat.nlink() > 1) {
            List<Object> inode = List.of(stat.dev(), stat.ino());
            String first = linked.putIfAbsent(inode, name);
            if (first != null) {
                write(name, path, stat, TarEntry.Type.HARD_LINK, first);
                return;
            }
        }
        TarEntry.Type type = switch (format) {
            case S_IFDIR -> TarEntry.Type.DIRECTORY;
            case S_IFLNK -> TarEntry.Type.SYMLINK;
            case S_IFCHR -> TarEntry.Type.CHAR_DEVICE;
            case S_IFBLK -> TarEntry.Type.BLOCK_DEVICE;
            case S_IFIFO -> TarEntry.Type.FIFO;
            case S_IFREG -> TarEntry.Type.REGULAR;
            default -> throw new IOException(path + " has an unknown file type " + Integer.toOctalString(format));
        };
        String link = type == TarEntry.Type.SYMLINK ? Files.readSymbolicLink(path).toString() : "";
        write(name, path, stat, type, link);
    }

    private void write(String name, Path path, Stat stat, TarEntry.Type type, String link) throws IOException {
        long size = type == TarEntry.Type.REGULAR ? stat.size() : 0;
        TarEntry entry = new TarEntry(name, type, stat.mode() & 07777, stat.uid(), stat.gid(), size,
                Instant.ofEpochSecond(stat.mtime().toInstant().getEpochSecond()), Optional.empty(), link,
                (int) Posix.major(stat.rdev()), (int) Posix.minor(stat.rdev()), xattrs(path));
        if (size > 0) {
            try (InputStream content = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
                tar.write(entry, content);
            }
        } else {
            tar.write(entry, InputStream.nullInputStream());
        }
    }

    /** The attributes a layer carries: {@code security.capability} (as containerd) and {@code user.*}. */
    private static Map<String, byte[]> xattrs(Path path) throws IOException {
        Map<String, byte[]> xattrs = new TreeMap<>();
        for (String name : Posix.llistxattr(path)) {
            if (name.equals(CAPABILITY) || name.startsWith("user.")) {
                Posix.lgetxattr(path, name).ifPresent(value -> xattrs.put(name, value));
            }
        }
        return xattrs;
    }

    private static boolean sameFile(Path lowerPath, Stat l, Path upperPath, Stat u) throws IOException {
        if (l.dev() == u.dev() && l.ino() == u.ino()) {
            return true;
        }
        if (l.mode() != u.mode() || l.uid() != u.uid() || l.gid() != u.gid() || l.rdev() != u.rdev()) {
            return false;
        }
        if (!sameXattrs(xattrs(lowerPath), xattrs(upperPath))) {
            return false;
        }
        if (l.isDir()) {
            return true;
        }
        if (l.size() != u.size()) {
            return false;
        }
        Instant t1 = l.mtime().toInstant();
        Instant t2 = u.mtime().toInstant();
        if (t1.getEpochSecond() != t2.getEpochSecond()) {
            return false;
        }
        if (t1.getNano() == 0 && t2.getNano() == 0) {
            // either time may have been truncated (by a tar round trip): let the content decide
            if ((l.mode() & S_IFMT) == S_IFLNK) {
                return Files.readSymbolicLink(lowerPath).equals(Files.readSymbolicLink(upperPath));
            }
            return l.size() == 0 || (l.mode() & S_IFMT) != S_IFREG || Files.mismatch(lowerPath, upperPath) == -1;
        }
        return t1.getNano() == t2.getNano();
    }

    private static boolean sameXattrs(Map<String, byte[]> a, Map<String, byte[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<String, byte[]> entry : a.entrySet()) {
            if (!Arrays.equals(entry.getValue(), b.get(entry.getKey()))) {
                return false;
            }
        }
        return true;
    }

    private static List<String> sortedNames(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path child : stream) {
                names.add(child.getFileName().toString());
            }
        }
        names.sort(null);
        return names;
    }

    /** What {@code lstat} says about a file, through the JDK's {@code unix:*} view. */
    private record Stat(int mode, long uid, long gid, long rdev, long dev, long ino, int nlink, long size, FileTime mtime) {
        static Stat of(Path path) throws IOException {
            Map<String, Object> a = Files.readAttributes(path, "unix:mode,uid,gid,rdev,dev,ino,nlink,size,lastModifiedTime",
                    LinkOption.NOFOLLOW_LINKS);
            return new Stat((Integer) a.get("mode"), ((Number) a.get("uid")).longValue(), ((Number) a.get("gid")).longValue(),
                    (Long) a.get("rdev"), (Long) a.get("dev"), (Long) a.get("ino"), (Integer) a.get("nlink"),
                    (Long) a.get("size"), (FileTime) a.get("lastModifiedTime"));
        }

        boolean isDir() {
            return (mode & S_IFMT) == S_IFDIR;
        }
    }
}
