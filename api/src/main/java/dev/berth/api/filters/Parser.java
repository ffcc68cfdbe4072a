package dev.berth.api.filters;

import dev.berth.api.filters.Scanner.Token;
import dev.berth.plugin.BerthException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Recursive-descent parser of one filter string, following containerd's {@code filters/parser.go}
 * so that the same strings are accepted and rejected, with the same error messages.
 */
final class Parser {
    private final String input;
    private final Scanner scanner;

    private Parser(String input) {
        this.input = input;
        this.scanner = new Scanner(input);
    }

    /** The selectors of {@code input}, all of which must match; none for the empty string. */
    static List<Selector> parse(String input) {
        if (input.isEmpty()) {
            return List.of();
        }
        return new Parser(input).selectors();
    }

    private List<Selector> selectors() {
        List<Selector> selectors = new ArrayList<>();
        selectors.add(selector());
        while (true) {
            int next = scanner.peek();
            if (next == Scanner.EOF) {
                return List.copyOf(selectors);
            }
            if (next != ',') {
                throw error(scanner.nextPosition(), "unexpected input: " + Character.toString(next < 0 ? 0xFFFD : next));
            }
            scanner.scan();
            selectors.add(selector());
        }
    }

    private Selector selector() {
        List<String> fieldPath = fieldPath();
        int next = scanner.peek();
        if (next == ',' || next == Scanner.EOF) {
            return new Selector(fieldPath, Selector.Operator.PRESENT, "", Optional.empty());
        }
        Selector.Operator operator = operator();
        Token token = scanner.scan();
        String value = switch (token.kind()) {
            case Scanner.VALUE, Scanner.FIELD -> token.text();
            // only regular expressions may use the alternative quotes / and |, which spare escaping
            case Scanner.QUOTED -> unquote(token, operator == Selector.Operator.MATCHES);
            case Scanner.ILLEGAL -> throw error(token.pos(), scanner.error());
            default -> throw error(token.pos(), "expected value or quoted");
        };
        Optional<Pattern> pattern = Optional.empty();
        if (operator == Selector.Operator.MATCHES) {
            try {
                pattern = Optional.of(Pattern.compile(value));
            } catch (PatternSyntaxException e) {
                // containerd accepts the filter and then matches nothing; rejecting it tells the caller why
                throw error(token.pos(), "invalid regular expression: " + e.getDescription());
            }
        }
        return new Selector(fieldPath, operator, value, pattern);
    }

    private List<String> fieldPath() {
        List<String> fields = new ArrayList<>();
        fields.add(field());
        while (scanner.peek() == '.') {
            scanner.scan();
            fields.add(field());
        }
        return fields;
    }

    private String field() {
        Token token = scanner.scan();
        return switch (token.kind()) {
            case Scanner.FIELD -> token.text();
            case Scanner.QUOTED -> unquote(token, false);
            case Scanner.ILLEGAL -> throw error(token.pos(), scanner.error());
            default -> throw error(token.pos(), "expected field or quoted");
        };
    }

    private Selector.Operator operator() {
        Token token = scanner.scan();
        return switch (token.kind()) {
            case Scanner.OPERATOR -> switch (token.text()) {
                case "==" -> Selector.Operator.EQUAL;
                case "!=" -> Selector.Operator.NOT_EQUAL;
                case "~=" -> Selector.Operator.MATCHES;
                default -> throw error(token.pos(), "unsupported operator \"" + token.text() + "\"");
            };
            case Scanner.ILLEGAL -> throw error(token.pos(), scanner.error());
            default -> throw error(token.pos(), "expected an operator (\"==\"|\"!=\"|\"~=\")");
        };
    }

    private String unquote(Token token, boolean allowAlternativeQuotes) {
        if (!allowAlternativeQuotes && token.text().charAt(0) != '"') {
            throw error(token.pos(), "invalid quote encountered");
        }
        try {
            return Quotes.unquote(token.text());
        } catch (IllegalArgumentException e) {
            throw error(token.pos(), "unquoting failed: " + e.getMessage());
        }
    }

    /** An error pointing at the character at {@code pos}: {@code [before >|c|< after]: message}. */
    private BerthException error(int pos, String message) {
        String where;
        if (pos < input.length()) {
            int end = input.offsetByCodePoints(pos, 1);
            where = "[" + input.substring(0, pos) + " >|" + input.substring(pos, end) + "|< " + input.substring(end) + "]";
        } else {
            where = "[" + input + "]";
        }
        return BerthException.of(
                BerthException.Kind.INVALID_ARGUMENT, "filters: parse error: " + where + ": " + message);
    }
}
