package dev.berth.plugins.snapshots.overlay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OverlaySupportTest {
    @TempDir
    Path temp;

    @Test
    void supportCheckAnswersAsTheKernelDoesAndLeavesNothingBehind() throws IOException {
        boolean root = Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        boolean kernel = Files.readString(Path.of("/proc/filesystems")).contains("\toverlay\n");
        Optional<String> reason = OverlaySnapshotter.unsupportedReason(temp);
        assertEquals(root && kernel, reason.isEmpty(), "reason: " + reason);
        reason.ifPresent(text -> assertTrue(text.contains("overlay"), text));
        try (var left = Files.list(temp)) {
            assertEquals(List.of(), left.toList());
        }
        assertTrue(!Files.readString(Path.of("/proc/self/mounts")).contains(temp.toString()));
    }
}
