package dev.berth.plugin.mount;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class MountOptionsTest {

    @Test
    void flagsAreSetAndClearedInOrderAndTheRestIsData() {
        MountOptions options = MountOptions.parse(List.of("ro", "nosuid", "lowerdir=/a:/b", "rw", "nodev", "upperdir=/u"));
        assertEquals(MountOptions.MS_NOSUID | MountOptions.MS_NODEV, options.flags());
        assertEquals("lowerdir=/a:/b,upperdir=/u", options.data());
    }

    @Test
    void rbindIsARecursiveBindAndPropagationIsKept() {
        MountOptions options = MountOptions.parse(List.of("rbind", "ro", "rprivate"));
        assertEquals(MountOptions.MS_BIND | MountOptions.MS_REC | MountOptions.MS_RDONLY | MountOptions.MS_PRIVATE,
                options.flags());
        assertEquals("", options.data());
    }

    @Test
    void defaultsSetsNothing() {
        assertEquals(new MountOptions(0, "size=1m"), MountOptions.parse(List.of("defaults", "size=1m")));
    }
}
