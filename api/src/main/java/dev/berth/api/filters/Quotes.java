package dev.berth.api.filters;

/**
 * Go string-literal unquoting as containerd's filters use it: double quotes, plus {@code /} and
 * {@code |} as double quotes for regular expressions, so that a pattern needs no escaped quotes.
 */
final class Quotes {
    private static final String SYNTAX = "quote syntax error";

    private Quotes() {}

    /** The value {@code quoted} denotes; IllegalArgumentException when it is not a valid literal. */
    static String unquote(String quoted) {
        int n = quoted.length();
        if (n < 2) {
            throw new IllegalArgumentException(SYNTAX);
        }
        char quote = quoted.charAt(0);
        if (quote != quoted.charAt(n - 1) || !Scanner.isQuote(quote)) {
            throw new IllegalArgumentException(SYNTAX);
        }
        String body = quoted.substring(1, n - 1);
        if (body.indexOf('\n') >= 0) {
            throw new IllegalArgumentException(SYNTAX);
        }
        StringBuilder out = new StringBuilder(body.length());
        int i = 0;
        while (i < body.length()) {
            char c = body.charAt(i);
            if (c == quote) {
                throw new IllegalArgumentException(SYNTAX);
            }
            if (c != '\\') {
                out.append(c);
                i++;
                continue;
            }
            if (i + 1 >= body.length()) {
                throw new IllegalArgumentException(SYNTAX);
            }
            char e = body.charAt(i + 1);
            i += 2;
            switch (e) {
                case 'a' -> out.append('\u0007');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'v' -> out.append('\u000B');
                case '\\' -> out.append('\\');
                case 'x', 'u', 'U' -> {
                    int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    int value = number(body, i, digits, 16);
                    i += digits;
                    if (value > Character.MAX_CODE_POINT) {
                        throw new IllegalArgumentException(SYNTAX);
                    }
                    out.appendCodePoint(value);
                }
                case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                    // one digit read, two more follow
                    int value = (e - '0') << 6 | number(body, i, 2, 8);
                    i += 2;
                    if (value > 255) {
                        throw new IllegalArgumentException(SYNTAX);
                    }
                    out.append((char) value);
                }
                case '\'', '"', '|', '/' -> {
                    if (e != quote) {
                        throw new IllegalArgumentException(SYNTAX);
                    }
                    out.append(e);
                }
                default -> throw new IllegalArgumentException(SYNTAX);
            }
        }
        return out.toString();
    }

    private static int number(String s, int from, int digits, int base) {
        if (from + digits > s.length()) {
            throw new IllegalArgumentException(SYNTAX);
        }
        int value = 0;
        for (int j = from; j < from + digits; j++) {
            int d = Scanner.digitValue(s.charAt(j));
            if (d >= base) {
                throw new IllegalArgumentException(SYNTAX);
            }
            value = value * base + d;
        }
        return value;
    }
}
