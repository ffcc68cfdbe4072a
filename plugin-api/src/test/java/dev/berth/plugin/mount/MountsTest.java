package dev.berth.plugin.mount;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.plugin.FailedPreconditionException;
import dev.berth.plugin.NotFoundException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountsTest {
    @TempDir
    Path temp;

    @BeforeEach
    void needsRoot() throws IOException {
        boolean root = ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        if (!root && System.getenv("CI") != null) {
            fail("mount tests need root, and CI runs as root");
        }
        assumeTrue(root, "mount tests need root");
    }

    @AfterEach
    void nothingLeftMounted() throws IOException {
        String mounts = Files.readString(Path.of("/proc/self/mounts"));
        assertFalse(mounts.contains(temp.toString()), "mounts left under " + temp + ":\n" + mounts);
    }

    @Test
    void bindMountShowsTheSourceAndUnmountHidesIt() throws IOException {
        Path source = Files.createDirectory(temp.resolve("source"));
        Files.writeString(source.resolve("file"), "hello");
        Path target = Files.createDirectory(temp.resolve("target"));

        Mounts.mount(List.of(new Mount("bind", source.toString(), List.of("rbind", "rw"))), target);
        assertEquals("hello", Files.readString(target.resolve("file")));
        Files.writeString(target.resolve("written"), "through");
        Mounts.unmount(target);

        assertFalse(Files.exists(target.resolve("file")));
        assertEquals("through", Files.readString(source.resolve("written")));
        Mounts.unmount(target); // not a mount point any more: not an error
    }

    @Test
    void readOnlyBindIsRemountedReadOnly() throws IOException {
        Path source = Files.createDirectory(temp.resolve("source"));
        Path target = Files.createDirectory(temp.resolve("target"));
        Mount mount = new Mount("bind", source.toString(), List.of("rbind", "ro"));
        assertTrue(Mounts.isReadOnly(mount));

        Mounts.mount(mount, target);
        try {
            FileSystemException refused = assertThrows(FileSystemException.class,
                    () -> Files.writeString(target.resolve("file"), "x"));
            assertTrue(refused.getMessage().contains("Read-only"), refused.getMessage());
        } finally {
            Mounts.unmountAll(target);
        }
    }

    @Test
    void failuresCarryTheErrnoText() {
        NotFoundException missing = assertThrows(NotFoundException.class,
                () -> Mounts.mount(new Mount("bind", temp.resolve("absent").toString(), List.of("bind")), temp));
        assertTrue(missing.getMessage().contains("No such file or directory"), missing.getMessage());
        FailedPreconditionException unknown = assertThrows(FailedPreconditionException.class,
                () -> Mounts.mount(new Mount("no-such-fs-type", "none", List.of()), temp));
        assertTrue(unknown.getMessage().contains("No such device"), unknown.getMessage());
    }

    @Test
    void tempMountIsReleasedAfterSuccessAndFailure() throws IOException {
        Path source = Files.createDirectory(temp.resolve("source"));
        Files.writeString(source.resolve("file"), "content");
        Path parent = Files.createDirectory(temp.resolve("mounts"));
        List<Mount> mounts = List.of(new Mount("bind", source.toString(), List.of("rbind")));

        String read = Mounts.withTempMount(parent, mounts, root -> Files.readString(root.resolve("file")));
        assertEquals("content", read);
        assertEmpty(parent);

        AtomicReference<Path> seen = new AtomicReference<>();
        IOException failure = assertThrows(IOException.class, () -> Mounts.withTempMount(parent, mounts, root -> {
            seen.set(root);
            throw new AccessDeniedException("callback failed");
        }));
        assertEquals("callback failed", failure.getMessage());
        assertEmpty(parent);

        List<Mount> broken = new ArrayList<>(mounts);
        broken.add(new Mount("bind", temp.resolve("absent").toString(), List.of("bind")));
        assertThrows(NotFoundException.class, () -> Mounts.withTempMount(parent, broken, root -> null));
        assertEmpty(parent);
    }

    @Test
    void overlayMergesLayersAndReadOnlyMovesTheUpperDown() throws IOException {
        Path lower = Files.createDirectories(temp.resolve("lower"));
        Files.writeString(lower.resolve("a"), "lower");
        Path upper = Files.createDirectories(temp.resolve("upper"));
        Path work = Files.createDirectories(temp.resolve("work"));
        Mount overlay = new Mount("overlay", "overlay",
                List.of("workdir=" + work, "upperdir=" + upper, "lowerdir=" + lower));
        assertFalse(Mounts.isReadOnly(overlay));

        Mounts.withTempMount(temp, List.of(overlay), root -> {
            Files.writeString(root.resolve("b"), "upper");
            return null;
        });
        List<Mount> readOnly = Mounts.readOnly(List.of(overlay));
        assertEquals(List.of("lowerdir=" + upper + ":" + lower), readOnly.getFirst().options());
        assertTrue(Mounts.isReadOnly(readOnly));
        String both = Mounts.withTempMount(temp, readOnly,
                root -> Files.readString(root.resolve("a")) + Files.readString(root.resolve("b")));
        assertEquals("lowerupper", both);
    }

    @Test
    void overlayWithMoreLowerDirectoriesThanAPageHolds() throws IOException {
        Path layers = Files.createDirectories(temp.resolve("a-rather-long-directory-name-for-the-layers-of-this-test"));
        List<String> lowers = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            Path layer = Files.createDirectories(layers.resolve(i + "/fs"));
            Files.writeString(layer.resolve("file-" + i), Integer.toString(i));
            lowers.addFirst(layer.toString());
        }
        Mount overlay = new Mount("overlay", "overlay", List.of("lowerdir=" + String.join(":", lowers)));
        assertTrue(overlay.options().getFirst().length() > 4096);

        long files = Mounts.withTempMount(temp, List.of(overlay), root -> {
            try (var list = Files.list(root)) {
                return list.count();
            }
        });
        assertEquals(150, files);
    }

    private static void assertEmpty(Path dir) throws IOException {
        try (var list = Files.list(dir)) {
            assertEquals(List.of(), list.toList());
        }
    }
}
