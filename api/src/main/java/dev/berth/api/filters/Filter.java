package dev.berth.api.filters;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.InvalidArgumentException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A filter in containerd's syntax, as clients send in {@code List} requests and {@code ctr … ls
 * <filter>} arguments:
 *
 * <pre>
 * filter    := selector ("," selector)*          every selector must match
 * selector  := fieldpath (operator value)?       without operator: the field is present
 * fieldpath := field ("." field)*
 * field     := quoted | [A-Za-z0-9_]+
 * operator  := "==" | "!=" | "~="                 ~= is an unanchored regular expression
 * value     := quoted | [^\s,]+
 * quoted    := "…" with Go escapes; after ~= also /…/ or |…|
 * </pre>
 *
 * e.g. {@code type==io.containerd.grpc.v1}, {@code labels."a.b"~=/^x/,name!=foo}. Several filter
 * strings match when any of them does.
 */
public final class Filter {
    private static final Filter ALWAYS = new Filter(List.of(List.of()));

    // a disjunction of conjunctions; an empty conjunction matches everything
    private final List<List<Selector>> alternatives;

    private Filter(List<List<Selector>> alternatives) {
        this.alternatives = alternatives;
    }

    /** The filter that matches every object. */
    public static Filter always() {
        return ALWAYS;
    }

    /**
     * Parses one filter string; the empty string matches everything.
     *
     * @throws InvalidArgumentException when the string is not a filter, with a message that points at
     *                                  the offending character as containerd's does
     */
    public static Filter parse(String filter) {
        requireNonNull(filter, "filter is null");
        return new Filter(List.of(Parser.parse(filter)));
    }

    /**
     * Parses several filter strings into one that matches when any of them matches; no strings at all
     * match everything.
     *
     * @throws InvalidArgumentException when one of them is not a filter
     */
    public static Filter parseAll(List<String> filters) {
        if (filters.isEmpty()) {
            return ALWAYS;
        }
        List<List<Selector>> alternatives = new ArrayList<>(filters.size());
        for (String filter : filters) {
            alternatives.add(Parser.parse(requireNonNull(filter, "filter is null")));
        }
        return new Filter(List.copyOf(alternatives));
    }

    /** Whether the object behind {@code adaptor} passes this filter. */
    public boolean matches(Adaptor adaptor) {
        requireNonNull(adaptor, "adaptor is null");
        for (List<Selector> conjunction : alternatives) {
            if (conjunction.stream().allMatch(selector -> selector.matches(adaptor))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return alternatives.stream()
                .map(conjunction -> conjunction.stream().map(Selector::toString).collect(Collectors.joining(",")))
                .collect(Collectors.joining(" or "));
    }
}
