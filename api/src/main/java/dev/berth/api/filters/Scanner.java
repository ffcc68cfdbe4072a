package dev.berth.api.filters;

/**
 * The tokenizer of containerd's filter syntax, kept rune for rune with containerd's
 * {@code filters/scanner.go} so that every filter a containerd client sends tokenizes the same way,
 * including its quirks (a value runs to the next comma or space; {@code /} and {@code |} quote
 * regular expressions).
 */
final class Scanner {
    static final int EOF = -1;
    static final int QUOTED = -2;
    static final int VALUE = -3;
    static final int FIELD = -4;
    static final int SEPARATOR = -5;
    static final int OPERATOR = -6;
    static final int ILLEGAL = -7;

    /** A token: its start, its kind (one of the constants above, or the rune itself) and its text. */
    record Token(int pos, int kind, String text) {}

    private final String input;
    private int pos;
    private int ppos;
    // true right after an operator: the next unquoted run is a value, which allows more characters than a field
    private boolean value;
    private String error = "";

    Scanner(String input) {
        this.input = input;
    }

    /** The first error the scanner met; kept until the end, as containerd keeps it. */
    String error() {
        return error;
    }

    /** Where the next rune starts. */
    int nextPosition() {
        return ppos;
    }

    int peek() {
        int savedPos = pos;
        int savedPpos = ppos;
        int ch = next();
        pos = savedPos;
        ppos = savedPpos;
        return ch;
    }

    Token scan() {
        int ch = next();
        int start = pos;
        while (true) {
            if (ch == EOF || ch == ILLEGAL) {
                return new Token(pos, ch, "");
            }
            if (isQuote(ch)) {
                boolean legal = scanQuoted(ch);
                return new Token(start, legal ? QUOTED : ILLEGAL, input.substring(start, ppos));
            }
            if (isSeparator(ch)) {
                value = false;
                return new Token(start, SEPARATOR, input.substring(start, ppos));
            }
            if (isOperator(ch)) {
                while (isOperator(peek())) {
                    next();
                }
                value = true;
                return new Token(start, OPERATOR, input.substring(start, ppos));
            }
            if (isSpace(ch)) {
                ch = next();
                start = pos;
                continue;
            }
            if (value) {
                while (isValueRune(peek())) {
                    next();
                }
                value = false;
                return new Token(start, VALUE, input.substring(start, ppos));
            }
            if (isFieldRune(ch)) {
                while (isFieldRune(peek())) {
                    next();
                }
                return new Token(start, FIELD, input.substring(start, ppos));
            }
            return new Token(pos, ch, "");
        }
    }

    private int next() {
        if (pos >= input.length()) {
            return EOF;
        }
        pos = ppos;
        if (ppos >= input.length()) {
            return EOF;
        }
        int r = input.codePointAt(ppos);
        ppos += Character.charCount(r);
        if (r == 0) {
            fail("unexpected null");
            return ILLEGAL;
        }
        return r;
    }

    private boolean scanQuoted(int quote) {
        boolean legal = true;
        int ch = next();
        while (ch != quote) {
            if (ch == '\n' || ch < 0) {
                fail("quoted literal not terminated");
                return false;
            }
            if (ch == '\\') {
                Escape escape = scanEscape(quote);
                ch = escape.following();
                legal &= escape.legal();
            } else {
                ch = next();
            }
        }
        return legal;
    }

    /** An escape sequence inside quotes: the rune after it, and whether it was legal. */
    private record Escape(int following, boolean legal) {}

    private Escape scanEscape(int quote) {
        int ch = next();
        return switch (ch) {
            case 'a', 'b', 'f', 'n', 'r', 't', 'v', '\\' -> new Escape(next(), true);
            case '0', '1', '2', '3', '4', '5', '6', '7' -> scanDigits(ch, 8, 3);
            case 'x' -> scanDigits(next(), 16, 2);
            case 'u' -> scanDigits(next(), 16, 4);
            case 'U' -> scanDigits(next(), 16, 8);
            default -> {
                if (ch == quote) {
                    yield new Escape(next(), true);
                }
                fail("illegal escape sequence");
                yield new Escape(ch, false);
            }
        };
    }

    private Escape scanDigits(int ch, int base, int n) {
        while (n > 0 && digitValue(ch) < base) {
            ch = next();
            n--;
        }
        if (n > 0) {
            fail("illegal numeric escape sequence");
            return new Escape(ch, false);
        }
        return new Escape(ch, true);
    }

    static int digitValue(int ch) {
        if (ch >= '0' && ch <= '9') {
            return ch - '0';
        }
        if (ch >= 'a' && ch <= 'f') {
            return ch - 'a' + 10;
        }
        if (ch >= 'A' && ch <= 'F') {
            return ch - 'A' + 10;
        }
        return 16; // larger than any legal digit
    }

    private void fail(String message) {
        if (error.isEmpty()) {
            error = message;
        }
    }

    static boolean isQuote(int r) {
        return r == '/' || r == '|' || r == '"';
    }

    private static boolean isSeparator(int r) {
        return r == ',' || r == '.';
    }

    private static boolean isOperator(int r) {
        return r == '=' || r == '!' || r == '~';
    }

    private static boolean isFieldRune(int r) {
        return r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9');
    }

    // Go's unicode.IsSpace: the ASCII white space, NEL, NBSP and the Unicode space separators
    private static boolean isSpace(int r) {
        return r >= 0 && (Character.isWhitespace(r) || Character.isSpaceChar(r) || r == 0x85);
    }

    // Go's isValueRune: anything graphic (letters, marks, numbers, punctuation, symbols) but a comma or a space
    private static boolean isValueRune(int r) {
        if (r < 0 || r == ',' || isSpace(r)) {
            return false;
        }
        return switch (Character.getType(r)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
                    Character.UNASSIGNED -> false;
            default -> true;
        };
    }
}
