package dev.berth.plugin.content;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.InvalidArgumentException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A content digest, {@code <algorithm>:<hex>}, as OCI and containerd write it. A {@code Digest}
 * is always valid: its algorithm is one of {@code sha256} (canonical), {@code sha384} or
 * {@code sha512}, and its hex is lowercase {@code [a-f0-9]} of that algorithm's length. Its parts
 * therefore never contain a path separator or a dot, so a store may use them as file names.
 *
 * @param algorithm the algorithm name, e.g. {@code sha256}
 * @param hex       the encoded sum, lowercase
 */
public record Digest(String algorithm, String hex) {

    /** The algorithm stores compute while ingesting, as containerd's {@code digest.Canonical}. */
    public static final String CANONICAL = "sha256";

    public Digest {
        requireNonNull(algorithm, "algorithm is null");
        requireNonNull(hex, "hex is null");
        String problem = check(algorithm, hex);
        if (problem != null) {
            throw invalid(algorithm + ":" + hex, problem);
        }
    }

    /**
     * Parses {@code <algorithm>:<hex>} strictly.
     *
     * @throws InvalidArgumentException if the text is malformed or names an unsupported algorithm
     */
    public static Digest parse(String text) {
        requireNonNull(text, "text is null");
        int colon = text.indexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw invalid(text, "invalid checksum digest format");
        }
        // the constructor checks the parts, naming the whole text in its error
        return new Digest(text.substring(0, colon), text.substring(colon + 1));
    }

    /** The digest of a finished sum computed with {@code algorithm}. */
    public static Digest of(String algorithm, byte[] sum) {
        return new Digest(algorithm, HexFormat.of().formatHex(sum));
    }

    /** The canonical digest of {@code content}. */
    public static Digest sha256(byte[] content) {
        MessageDigest hasher = hasher(CANONICAL);
        return of(CANONICAL, hasher.digest(content));
    }

    /**
     * A fresh incremental hasher for a supported algorithm.
     *
     * @throws InvalidArgumentException if the algorithm is not supported
     */
    public static MessageDigest hasher(String algorithm) {
        String jca = switch (algorithm) {
            case "sha256" -> "SHA-256";
            case "sha384" -> "SHA-384";
            case "sha512" -> "SHA-512";
            default -> throw invalid(algorithm, "unsupported digest algorithm");
        };
        try {
            return MessageDigest.getInstance(jca);
        } catch (NoSuchAlgorithmException e) {
            // every Java platform is required to ship these three
            throw new IllegalStateException(jca + " is missing from this Java runtime", e);
        }
    }

    /** {@code <algorithm>:<hex>}. */
    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }

    private static String check(String algorithm, String hex) {
        int length = switch (algorithm) {
            case "sha256" -> 64;
            case "sha384" -> 96;
            case "sha512" -> 128;
            default -> -1;
        };
        if (length < 0) {
            return algorithm.matches("[a-z0-9]+(?:[.+_-][a-z0-9]+)*")
                    ? "unsupported digest algorithm"
                    : "invalid checksum digest format";
        }
        if (hex.length() != length) {
            return "invalid checksum digest length";
        }
        for (int i = 0; i < hex.length(); i++) {
            char c = hex.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return "invalid checksum digest format";
            }
        }
        return null;
    }

    private static InvalidArgumentException invalid(String text, String problem) {
        return (InvalidArgumentException) BerthException.of(BerthException.Kind.INVALID_ARGUMENT,
                "invalid digest \"" + text + "\": " + problem);
    }
}
