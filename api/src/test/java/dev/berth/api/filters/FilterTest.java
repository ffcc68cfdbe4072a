package dev.berth.api.filters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.InvalidArgumentException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The cases of containerd's own filter tests, over the same corpus. */
class FilterTest {

    record Entry(String name, String other, Map<String, String> labels) {
        Optional<String> field(List<String> path) {
            return switch (path.getFirst()) {
                case "name" -> Adaptor.nonEmpty(name);
                case "other" -> Adaptor.nonEmpty(other);
                case "labels" -> Adaptor.mapEntry(labels, path.subList(1, path.size()));
                default -> Optional.empty();
            };
        }
    }

    static final List<Entry> CORPUS = List.of(
            new Entry("foo", "", Map.of("foo", "true")),
            new Entry("bar", "", Map.of()),
            new Entry("foo", "", Map.of("foo", "present", "more complex label", "present")),
            new Entry("bar", "", Map.of("bar", "true")),
            new Entry("fooer", "", Map.of("more complex label with \\ and \"", "present")),
            new Entry("fooer", "", Map.of("more complex label with \\ and \".post", "present")),
            new Entry("baz", "too complex, yo", Map.of()),
            new Entry("bazo", "abc", Map.of()),
            new Entry("compound", "", Map.of("foo", "omg_asdf.asdf-qwer")));

    static List<Integer> matching(String filter) {
        Filter parsed = Filter.parse(filter);
        return IntStream.range(0, CORPUS.size())
                .filter(i -> parsed.matches(CORPUS.get(i)::field))
                .boxed()
                .toList();
    }

    static List<Object[]> matches() {
        return List.of(
                new Object[] {"", List.of(0, 1, 2, 3, 4, 5, 6, 7, 8)},
                new Object[] {"name", List.of(0, 1, 2, 3, 4, 5, 6, 7, 8)},
                new Object[] {"labels.foo", List.of(0, 2, 8)},
                new Object[] {"labels.foo,name", List.of(0, 2, 8)},
                new Object[] {"labels.foo==true", List.of(0)},
                new Object[] {"labels.foo==omg_asdf.asdf-qwer", List.of(8)},
                new Object[] {"name==bar", List.of(1, 3)},
                new Object[] {"name!=bar", List.of(0, 2, 4, 5, 6, 7, 8)},
                new Object[] {"name==bar,labels.bar", List.of(3)},
                new Object[] {"other==\"too complex, yo\"", List.of(6)},
                new Object[] {"other~=[abc]+,name!=foo", List.of(6, 7)},
                new Object[] {"other~=/[abc]+/,name!=foo", List.of(6, 7)},
                new Object[] {"other~=/[abc]{1,2}/,name!=foo", List.of(6, 7)},
                new Object[] {"other~=/[abc]{0,1}\"\\//,name!=foo", List.of()},
                new Object[] {"name==bar,labels.bar==true", List.of(3)},
                new Object[] {"name==bar,labels.bar==wrong", List.of()},
                new Object[] {"name==foo,labels.\"more complex label\"", List.of(2)},
                new Object[] {"labels.\"more complex label with \\\\ and \\\"\"==present", List.of(4)},
                new Object[] {"labels.\"more complex label with \\\\ and \\\"\".post==present", List.of(5)},
                new Object[] {"name == bar", List.of(1, 3)},
                new Object[] {"name==bar, labels.bar", List.of(3)},
                new Object[] {"other~=|c$|", List.of(7)},
                new Object[] {"name~=^fo", List.of(0, 2, 4, 5)});
    }

    @ParameterizedTest
    @MethodSource
    void matches(String filter, List<Integer> expected) {
        assertEquals(expected, matching(filter), filter);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '#', quoteCharacter = '\u0000', textBlock = """
            labels.|foo|==omg_asdf.asdf-qwer                      # [labels. >|||< foo|==omg_asdf.asdf-qwer]: invalid quote encountered
            labels.?"more complex label with \\\\ and \\"".post==present # [labels. >|?|< "more complex label with \\\\ and \\"".post==present]: expected field or quoted
            name==foo,                                              # [name==foo,]: expected field or quoted
            labels.                                                 # [labels.]: expected field or quoted
            image~=,id?=?fbaq                                       # [image~= >|,|< id?=?fbaq]: expected value or quoted
            labels.ns/key==value                                    # [labels.ns >|/|< key==value]: quoted literal not terminated
            labels.key==/value                                      # [labels.key== >|/|< value]: quoted literal not terminated
            name=foo                                                # [name >|=|< foo]: unsupported operator "="
            name==foo,labels.key=="a\\qb"                           # [name==foo,labels.key== >|"|< a\\qb"]: illegal escape sequence
            name~=/(/                                               # [name~= >|/|< (/]: invalid regular expression: Unclosed group
            """)
    void rejects(String filter, String error) {
        var e = assertThrows(InvalidArgumentException.class, () -> Filter.parse(filter.strip()));
        assertEquals("filters: parse error: " + error.strip() + ": invalid argument", e.getMessage());
    }

    @Test
    void aValueEndsAtWhiteSpace() {
        var e = assertThrows(InvalidArgumentException.class, () -> Filter.parse("name==foo bar"));
        assertEquals("filters: parse error: [name==foo >| |< bar]: unexpected input:  : invalid argument", e.getMessage());
    }

    @Test
    void severalFiltersMatchWhenAnyMatches() {
        Filter filter = Filter.parseAll(List.of("name==bar,labels.bar", "other==abc"));
        List<Integer> matched = IntStream.range(0, CORPUS.size())
                .filter(i -> filter.matches(CORPUS.get(i)::field))
                .boxed()
                .toList();
        assertEquals(List.of(3, 7), matched);
    }

    @Test
    void noFiltersMatchEverything() {
        assertTrue(Filter.parseAll(List.of()).matches(path -> Optional.empty()));
        assertTrue(Filter.always().matches(path -> Optional.empty()));
    }

    @Test
    void oneBadFilterRejectsAll() {
        assertThrows(InvalidArgumentException.class, () -> Filter.parseAll(List.of("name==a", "name==")));
    }

    @Test
    void absentFieldsCompareAsEmpty() {
        Adaptor none = path -> Optional.empty();
        assertFalse(Filter.parse("name==\"\"").matches(none) || Filter.parse("name==x").matches(none));
        assertTrue(Filter.parse("name!=x").matches(none));
        assertFalse(Filter.parse("name!=\"\"").matches(none));
        assertTrue(Filter.parse("name~=^$").matches(none));
    }

    @Test
    void quotedValuesUnescape() {
        Adaptor adaptor = path -> Optional.of("tab\there \u00e9 \u263a");
        assertTrue(Filter.parse("x==\"tab\\there \\xe9 \\u263a\"").matches(adaptor));
        assertTrue(Filter.parse("x==\"tab\\there \\351 \\U0000263a\"").matches(adaptor));
    }

    @Test
    void labelKeysWithDotsAreFoundThroughTheJoinedPath() {
        Adaptor adaptor = path -> path.getFirst().equals("labels")
                ? Adaptor.mapEntry(Map.of("io.example/role", "db"), path.subList(1, path.size()))
                : Optional.empty();
        assertTrue(Filter.parse("labels.\"io.example/role\"==db").matches(adaptor));
        assertFalse(Filter.parse("labels.io.example==db").matches(adaptor));
    }

    @Test
    void describesItself() {
        assertEquals("type==io.containerd.grpc.v1,id or labels.a~=b",
                Filter.parseAll(List.of("type==io.containerd.grpc.v1,id", "labels.a~=/b/")).toString());
    }
}
