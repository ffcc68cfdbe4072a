package dev.berth.plugin.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.berth.plugin.InvalidArgumentException;
import org.junit.jupiter.api.Test;

class RefsTest {
    @Test
    void acceptsAnyReasonableKeyIncludingPathLikeOnes() {
        for (String ref : new String[] {"c1", "layer-sha256:abc", "../../etc/passwd", "/etc/passwd", "..", "ä ✓ 🐳"}) {
            assertEquals(ref, Refs.validate(ref));
        }
        assertEquals(Refs.MAX_LENGTH, Refs.validate("x".repeat(Refs.MAX_LENGTH)).length());
    }

    @Test
    void refusesEmptyNulOverlongAndBrokenUnicode() {
        assertEquals("ref must not be empty: invalid argument",
                assertThrows(InvalidArgumentException.class, () -> Refs.validate("")).getMessage());
        assertThrows(NullPointerException.class, () -> Refs.validate(null));
        assertThrows(InvalidArgumentException.class, () -> Refs.validate("a\0b"));
        assertThrows(InvalidArgumentException.class, () -> Refs.validate("x".repeat(Refs.MAX_LENGTH + 1)));
        assertThrows(InvalidArgumentException.class, () -> Refs.validate("é".repeat(Refs.MAX_LENGTH / 2 + 1)));
        assertThrows(InvalidArgumentException.class, () -> Refs.validate("a\uD800b"));
    }
}
