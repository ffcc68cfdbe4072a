package dev.berth.plugin.snapshots.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TreeCopyTest {
    private static final int S_IFIFO = 0010000;

    @TempDir
    Path temp;

    @Test
    void copyKeepsSpecialFilesHardLinksXattrsModesAndTimes() throws IOException {
        Path source = Files.createDirectory(temp.resolve("source"));
        Path target = Files.createDirectory(temp.resolve("target"));
        Path file = Files.writeString(source.resolve("file"), "content");
        Files.setAttribute(file, "unix:mode", 04750);
        Posix.setXattr(file, new Posix.Xattr("user.origin", "layer".getBytes(StandardCharsets.UTF_8)));
        Files.createLink(source.resolve("hardlink"), file);
        Posix.mknod(source.resolve("fifo"), S_IFIFO | 0640, 0);
        Files.createSymbolicLink(source.resolve("link"), Path.of("file"));
        Path dir = Files.createDirectory(source.resolve("readonly"));
        Files.writeString(dir.resolve("inside"), "x");
        Files.setAttribute(dir, "unix:mode", 0555);
        FileTime old = FileTime.from(Instant.parse("2001-01-01T00:00:00Z"));
        Files.setLastModifiedTime(file, old);
        Files.setLastModifiedTime(dir, old);

        TreeCopy.copy(source, target);

        assertEquals("content", Files.readString(target.resolve("file")));
        assertEquals(04750, (Integer) Files.getAttribute(target.resolve("file"), "unix:mode") & 07777);
        assertEquals(old, Files.getLastModifiedTime(target.resolve("file")));
        assertEquals(old, Files.getLastModifiedTime(target.resolve("readonly")));
        assertEquals(0555, (Integer) Files.getAttribute(target.resolve("readonly"), "unix:mode") & 07777);
        assertEquals(List.of("user.origin"), Posix.xattrs(target.resolve("file")).stream().map(Posix.Xattr::name).toList());
        assertArrayEquals("layer".getBytes(StandardCharsets.UTF_8), Posix.xattrs(target.resolve("file")).getFirst().value());
        assertTrue(Files.isSameFile(target.resolve("file"), target.resolve("hardlink")));
        assertEquals(S_IFIFO | 0640, (Integer) Files.getAttribute(target.resolve("fifo"), "unix:mode", LinkOption.NOFOLLOW_LINKS));
        assertEquals(Path.of("file"), Files.readSymbolicLink(target.resolve("link")));
    }
}
