package dev.berth.api.filters;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** One {@code <fieldpath>[<op><value>]} term of a filter. */
record Selector(List<String> fieldPath, Operator operator, String value, Optional<Pattern> pattern) {

    enum Operator {
        PRESENT("?"), EQUAL("=="), NOT_EQUAL("!="), MATCHES("~=");

        private final String symbol;

        Operator(String symbol) {
            this.symbol = symbol;
        }
    }

    Selector {
        fieldPath = List.copyOf(fieldPath);
        requireNonNull(operator, "operator is null");
        requireNonNull(value, "value is null");
        requireNonNull(pattern, "pattern is null");
    }

    boolean matches(Adaptor adaptor) {
        Optional<String> field = adaptor.field(fieldPath);
        return switch (operator) {
            case PRESENT -> field.isPresent();
            case EQUAL -> field.isPresent() && field.get().equals(value);
            case NOT_EQUAL -> !field.orElse("").equals(value);
            // unanchored, as Go's MatchString
            case MATCHES -> pattern.orElseThrow().matcher(field.orElse("")).find();
        };
    }

    @Override
    public String toString() {
        String path = String.join(".", fieldPath);
        return operator == Operator.PRESENT ? path : path + operator.symbol + value;
    }
}
