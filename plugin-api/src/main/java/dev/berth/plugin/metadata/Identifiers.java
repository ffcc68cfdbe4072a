package dev.berth.plugin.metadata;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.InvalidArgumentException;
import java.util.regex.Pattern;

/**
 * The syntax of namespace names (and of other identifiers containerd validates the same way):
 * alphanumeric runs joined by single {@code .}, {@code _} or {@code -}, at most
 * {@value #MAX_LENGTH} characters, as containerd's {@code identifiers.Validate}.
 */
public final class Identifiers {
    /** The longest identifier, in characters. */
    public static final int MAX_LENGTH = 76;
    private static final Pattern IDENTIFIER = Pattern.compile("^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$");

    private Identifiers() {}

    /**
     * Returns {@code identifier} if it is valid.
     *
     * @throws InvalidArgumentException with containerd's wording otherwise
     */
    public static String validate(String identifier) {
        if (identifier == null || identifier.isEmpty()) {
            throw invalid("identifier must not be empty");
        }
        if (identifier.length() > MAX_LENGTH) {
            throw invalid("identifier \"" + identifier + "\" greater than maximum length (" + MAX_LENGTH + " characters)");
        }
        if (!IDENTIFIER.matcher(identifier).matches()) {
            throw invalid("identifier \"" + identifier + "\" must match " + IDENTIFIER.pattern());
        }
        return identifier;
    }

    private static InvalidArgumentException invalid(String context) {
        return (InvalidArgumentException) BerthException.of(BerthException.Kind.INVALID_ARGUMENT, context);
    }
}
