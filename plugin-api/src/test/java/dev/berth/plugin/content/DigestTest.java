package dev.berth.plugin.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.berth.plugin.InvalidArgumentException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DigestTest {
    private static final String EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    @Test
    void parsesAndPrintsCanonicalForm() {
        Digest digest = Digest.parse("sha256:" + EMPTY);
        assertEquals("sha256", digest.algorithm());
        assertEquals(EMPTY, digest.hex());
        assertEquals("sha256:" + EMPTY, digest.toString());
    }

    @Test
    void acceptsSha384AndSha512() {
        assertEquals("sha384", Digest.parse("sha384:" + "a".repeat(96)).algorithm());
        assertEquals("sha512", Digest.parse("sha512:" + "0".repeat(128)).algorithm());
    }

    @Test
    void computesSha256() {
        assertEquals(Digest.parse("sha256:" + EMPTY), Digest.sha256(new byte[0]));
        assertEquals("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
                Digest.sha256("hello".getBytes(StandardCharsets.UTF_8)).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "sha256", "sha256:", ":" + EMPTY, "x",
        "sha256:../../etc/passwd",
        "sha256:" + "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "sha256:" + EMPTY + "0",
        "sha256:" + EMPTY + "/..",
        "sha256:gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg",
        "sha384:" + EMPTY,
        "../sha256:" + EMPTY,
    })
    void refusesMalformedDigests(String text) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Digest.parse(text));
        assertEquals(true, e.getMessage().startsWith("invalid digest \"" + text + "\": "), e.getMessage());
    }

    @Test
    void refusesUnsupportedAlgorithmsByName() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Digest.parse("md5:" + "0".repeat(32)));
        assertEquals("invalid digest \"md5:00000000000000000000000000000000\": unsupported digest algorithm: invalid argument",
                e.getMessage());
    }

    @Test
    void constructorValidatesToo() {
        assertThrows(InvalidArgumentException.class, () -> new Digest("sha256", "../x"));
        assertThrows(InvalidArgumentException.class, () -> new Digest("..", EMPTY));
    }
}
