package dev.berth.plugin.content;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.InvalidArgumentException;
import java.nio.charset.StandardCharsets;

/** The syntax of ingest refs, shared by every store so that clients meet the same rules. */
public final class Refs {

    /** The longest ref, in UTF-8 bytes. */
    public static final int MAX_LENGTH = 4096;

    private Refs() {}

    /**
     * Returns {@code ref} if it is a valid ref: non-empty, at most {@link #MAX_LENGTH} UTF-8 bytes,
     * without NUL and without unpaired surrogates (which have no UTF-8 form).
     *
     * @throws InvalidArgumentException otherwise
     * @throws NullPointerException     if {@code ref} is null
     */
    public static String validate(String ref) {
        requireNonNull(ref, "ref is null");
        if (ref.isEmpty()) {
            throw invalid("ref must not be empty");
        }
        if (ref.indexOf('\0') >= 0) {
            throw invalid("ref " + quote(ref) + " contains NUL");
        }
        for (int i = 0; i < ref.length(); i++) {
            char c = ref.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < ref.length() && Character.isLowSurrogate(ref.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw invalid("ref " + quote(ref) + " is not valid Unicode");
            }
        }
        int bytes = ref.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_LENGTH) {
            throw invalid("ref of " + bytes + " bytes is longer than " + MAX_LENGTH);
        }
        return ref;
    }

    private static String quote(String ref) {
        String shown = ref.length() > 64 ? ref.substring(0, 64) + "…" : ref;
        return "\"" + shown.replace("\0", "\\0") + "\"";
    }

    private static InvalidArgumentException invalid(String context) {
        return (InvalidArgumentException) BerthException.of(BerthException.Kind.INVALID_ARGUMENT, context);
    }
}
