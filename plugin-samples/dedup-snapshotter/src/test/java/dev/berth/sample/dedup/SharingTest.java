package dev.berth.sample.dedup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.plugin.mount.Mount;
import dev.berth.plugin.snapshots.Usage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the dedup snapshotter adds to the contract the conformance suite checks: which files share
 * storage and which must not, that writable snapshots never share, that removal releases the
 * pool, and recovery after a crash part way through. Snapshots are written through the directory
 * their bind mount names, so no mounting (and no root) is needed except to change owners.
 */
class SharingTest {
    private static final FileTime TIME = FileTime.from(Instant.parse("2020-02-02T02:02:02.123456789Z"));
    private static final Map<String, String> NO_LABELS = Map.of();

    @TempDir
    Path temp;

    private Path root;
    private DedupSnapshotter snapshotter;

    @BeforeEach
    void open() throws IOException {
        root = Files.createDirectories(temp.resolve("root"));
        snapshotter = DedupSnapshotter.open(root, true, Clock.systemUTC());
    }

    @AfterEach
    void close() {
        snapshotter.close();
    }

    @Test
    void unchangedFilesOfAParentAreStoredOnceAndWritableCopiesShareNothing() throws IOException {
        byte[] big = random(1 << 20);
        Path first = dir(snapshotter.prepare("a1", "", NO_LABELS));
        write(first.resolve("big"), big, 0644);
        write(first.resolve("small"), "small".getBytes(StandardCharsets.UTF_8), 0644);
        snapshotter.commit("c1", "a1", NO_LABELS);
        assertEquals(new Pool.Stats(2, big.length + 5, 0), snapshotter.poolStats());

        Path second = dir(snapshotter.prepare("a2", "c1", NO_LABELS));
        Path c1 = dir(snapshotter.view("v1", "c1", NO_LABELS));
        assertFalse(Files.isSameFile(second.resolve("big"), c1.resolve("big")), "a writable snapshot has its own copy");
        assertEquals(1, links(second.resolve("big")));
        write(second.resolve("new"), "new".getBytes(StandardCharsets.UTF_8), 0644);
        snapshotter.commit("c2", "a2", NO_LABELS);

        Path c2 = dir(snapshotter.view("v2", "c2", NO_LABELS));
        assertTrue(Files.isSameFile(c1.resolve("big"), c2.resolve("big")));
        assertTrue(Files.isSameFile(c1.resolve("small"), c2.resolve("small")));
        assertEquals(new Pool.Stats(3, big.length + 5 + 3, big.length + 5), snapshotter.poolStats());
        assertTrue(snapshotter.usage("c2").size() > big.length, "usage is the apparent size: " + snapshotter.usage("c2"));

        Path third = dir(snapshotter.prepare("a3", "c2", NO_LABELS));
        Files.write(third.resolve("big"), new byte[] {1, 2, 3});
        assertArrayEquals(big, Files.readAllBytes(c1.resolve("big")), "writing a child reaches no committed snapshot");
        assertArrayEquals(big, Files.readAllBytes(c2.resolve("big")));
    }

    @Test
    void filesDifferingInModeTimeOrAttributesAreNotShared() throws IOException {
        byte[] content = "same bytes".getBytes(StandardCharsets.UTF_8);
        Path base = dir(snapshotter.prepare("base-a", "", NO_LABELS));
        write(base.resolve("f"), content, 0644);
        snapshotter.commit("base", "base-a", NO_LABELS);

        Path other = dir(snapshotter.prepare("other-a", "", NO_LABELS));
        write(other.resolve("same"), content, 0644);
        write(other.resolve("mode"), content, 0600);
        write(other.resolve("time"), content, 0644);
        Files.setLastModifiedTime(other.resolve("time"), FileTime.from(TIME.toInstant().plusNanos(1)));
        write(other.resolve("xattr"), content, 0644);
        Posix.setXattr(other.resolve("xattr"), new Posix.Xattr("user.origin", new byte[] {1}));
        snapshotter.commit("other", "other-a", NO_LABELS);

        Path committedBase = dir(snapshotter.view("base-v", "base", NO_LABELS));
        Path committedOther = dir(snapshotter.view("other-v", "other", NO_LABELS));
        Path shared = committedBase.resolve("f");
        assertTrue(Files.isSameFile(shared, committedOther.resolve("same")));
        for (String differing : List.of("mode", "time", "xattr")) {
            assertFalse(Files.isSameFile(shared, committedOther.resolve(differing)), differing);
        }
        assertEquals(0600, (Integer) Files.getAttribute(committedOther.resolve("mode"), "unix:mode") & 07777);
        assertEquals(0644, (Integer) Files.getAttribute(shared, "unix:mode") & 07777);
    }

    @Test
    void filesOfDifferentOwnersAreNotShared() throws IOException {
        assumeTrue(Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid")), "chown needs root");
        byte[] content = "owned".getBytes(StandardCharsets.UTF_8);
        Path first = dir(snapshotter.prepare("a", "", NO_LABELS));
        write(first.resolve("f"), content, 0644);
        snapshotter.commit("c", "a", NO_LABELS);
        Path second = dir(snapshotter.prepare("b", "", NO_LABELS));
        write(second.resolve("f"), content, 0644);
        Files.setAttribute(second.resolve("f"), "unix:uid", 1000, LinkOption.NOFOLLOW_LINKS);
        Files.setLastModifiedTime(second.resolve("f"), TIME);
        snapshotter.commit("d", "b", NO_LABELS);

        Path c = dir(snapshotter.view("cv", "c", NO_LABELS));
        Path d = dir(snapshotter.view("dv", "d", NO_LABELS));
        assertFalse(Files.isSameFile(c.resolve("f"), d.resolve("f")));
        assertEquals(1000, Files.getAttribute(d.resolve("f"), "unix:uid"));
        assertEquals(0, Files.getAttribute(c.resolve("f"), "unix:uid"));
    }

    @Test
    void modificationTimesAreIgnoredWhenSoConfigured() throws IOException {
        snapshotter.close();
        snapshotter = DedupSnapshotter.open(Files.createDirectories(temp.resolve("loose")), false, Clock.systemUTC());
        byte[] content = "timeless".getBytes(StandardCharsets.UTF_8);
        Path first = dir(snapshotter.prepare("a", "", NO_LABELS));
        write(first.resolve("f"), content, 0644);
        snapshotter.commit("c", "a", NO_LABELS);
        Path second = dir(snapshotter.prepare("b", "", NO_LABELS));
        write(second.resolve("f"), content, 0644);
        Files.setLastModifiedTime(second.resolve("f"), FileTime.from(Instant.parse("2001-01-01T00:00:00Z")));
        snapshotter.commit("d", "b", NO_LABELS);

        Path c = dir(snapshotter.view("cv", "c", NO_LABELS));
        Path d = dir(snapshotter.view("dv", "d", NO_LABELS));
        assertTrue(Files.isSameFile(c.resolve("f"), d.resolve("f")));
        assertEquals(TIME, Files.getLastModifiedTime(d.resolve("f")), "the time of the copy that reached the pool first");
    }

    @Test
    void withinOneSnapshotOnlyHardLinksShareAnInodeAndCopiesKeepThem() throws IOException {
        byte[] content = "twice".getBytes(StandardCharsets.UTF_8);
        Path active = dir(snapshotter.prepare("a", "", NO_LABELS));
        write(active.resolve("one"), content, 0644);
        write(active.resolve("two"), content, 0644);
        Files.createLink(active.resolve("link-to-one"), active.resolve("one"));
        snapshotter.commit("c", "a", NO_LABELS);

        Path committed = dir(snapshotter.view("v", "c", NO_LABELS));
        assertTrue(Files.isSameFile(committed.resolve("one"), committed.resolve("link-to-one")));
        assertFalse(Files.isSameFile(committed.resolve("one"), committed.resolve("two")),
                "two files that were not links of each other must not become links");

        Path child = dir(snapshotter.prepare("child", "c", NO_LABELS));
        assertTrue(Files.isSameFile(child.resolve("one"), child.resolve("link-to-one")), "a hard link survives the copy");
        assertFalse(Files.isSameFile(child.resolve("one"), child.resolve("two")));
        Files.write(child.resolve("two"), new byte[] {9});
        assertArrayEquals(content, Files.readAllBytes(child.resolve("one")));
        Usage usage = snapshotter.usage("c");
        assertEquals(3, usage.inodes(), "the root and two files, one of them with two names: " + usage);
    }

    @Test
    void removalReleasesPoolFilesOnceNoSnapshotUsesThem() throws IOException {
        byte[] content = random(4096);
        for (String name : List.of("x", "y")) {
            Path active = dir(snapshotter.prepare(name + "-a", "", NO_LABELS));
            write(active.resolve("f"), content, 0644);
            write(active.resolve("only-" + name), name.getBytes(StandardCharsets.UTF_8), 0644);
            snapshotter.commit(name, name + "-a", NO_LABELS);
        }
        assertEquals(new Pool.Stats(3, 4096 + 2, 4096), snapshotter.poolStats());

        snapshotter.remove("y");
        assertEquals(new Pool.Stats(2, 4096 + 1, 0), snapshotter.poolStats());
        Path x = dir(snapshotter.view("xv", "x", NO_LABELS));
        assertArrayEquals(content, Files.readAllBytes(x.resolve("f")));
        snapshotter.remove("xv");
        snapshotter.remove("x");
        assertEquals(new Pool.Stats(0, 0, 0), snapshotter.poolStats());
    }

    @Test
    void sharingKeepsTheTimesOfDirectories() throws IOException {
        byte[] content = "shared".getBytes(StandardCharsets.UTF_8);
        Path first = dir(snapshotter.prepare("a", "", NO_LABELS));
        write(first.resolve("f"), content, 0644);
        snapshotter.commit("c", "a", NO_LABELS);
        Path second = dir(snapshotter.prepare("b", "", NO_LABELS));
        Path sub = Files.createDirectory(second.resolve("sub"));
        write(sub.resolve("f"), content, 0644);
        Files.setLastModifiedTime(sub, TIME);
        snapshotter.commit("d", "b", NO_LABELS);

        Path d = dir(snapshotter.view("dv", "d", NO_LABELS));
        assertTrue(Files.isSameFile(d.resolve("sub/f"), dir(snapshotter.view("cv", "c", NO_LABELS)).resolve("f")));
        assertEquals(TIME, Files.getLastModifiedTime(d.resolve("sub")));
    }

    @Test
    void openingAgainFinishesInterruptedSharingAndDropsOrphans() throws IOException {
        byte[] content = random(1000);
        Path active = dir(snapshotter.prepare("a", "", NO_LABELS));
        write(active.resolve("f"), content, 0644);
        snapshotter.commit("c", "a", NO_LABELS);
        Path committed = dir(snapshotter.view("v", "c", NO_LABELS));
        String id = committed.getFileName().toString();
        snapshotter.close();

        // As if the daemon stopped after the commit but before sharing: a private file, no catalog,
        // the pool file linked by nothing, and an orphan of some other crash.
        Files.delete(root.resolve("catalog").resolve(id));
        Path copy = Files.copy(committed.resolve("f"), temp.resolve("f"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.move(copy, committed.resolve("f"), StandardCopyOption.REPLACE_EXISTING);
        Path orphan = Files.createDirectories(root.resolve("pool/ab")).resolve("c".repeat(62));
        Files.writeString(orphan, "orphan");
        Files.writeString(root.resolve("staging/7"), "half a link");

        snapshotter = DedupSnapshotter.open(root, true, Clock.systemUTC());
        assertFalse(Files.exists(orphan));
        assertFalse(Files.exists(root.resolve("staging/7")));
        List<String> keys = Files.readAllLines(root.resolve("catalog").resolve(id));
        assertEquals(1, keys.size(), keys.toString());
        Path pooled = root.resolve("pool").resolve(keys.getFirst().substring(0, 2)).resolve(keys.getFirst().substring(2));
        assertTrue(Files.isSameFile(pooled, committed.resolve("f")));
        assertArrayEquals(content, Files.readAllBytes(committed.resolve("f")));
        assertEquals(new Pool.Stats(1, 1000, 0), snapshotter.poolStats());
    }

    private static Path dir(List<Mount> mounts) {
        assertEquals(1, mounts.size(), mounts.toString());
        return Path.of(mounts.getFirst().source());
    }

    private static void write(Path file, byte[] content, int mode) throws IOException {
        Files.write(file, content);
        Files.setAttribute(file, "unix:mode", mode);
        Files.setLastModifiedTime(file, TIME);
    }

    private static int links(Path file) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:nlink");
    }

    private static byte[] random(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }
}
