package dev.berth.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigProblemsTest {
    @Test
    void formatOmitsAnUnknownLineAndAnEmptyPath() {
        assertEquals("berth.conf:3: a.b: bad", new ConfigProblem("berth.conf", 3, "a.b", "bad").format());
        assertEquals("override a: bad", new ConfigProblem("override a", -1, "", "bad").format());
    }

    @Test
    void aProblemAtAnOriginTakesItsFileAndLine() {
        var origin = ConfigFactory.parseString("a = 1\nb = 2", ConfigParseOptions.defaults()
                .setOriginDescription("some text")).getValue("b").origin();
        assertEquals(new ConfigProblem("some text", 2, "b", "bad"), ConfigProblem.of(origin, "b", "bad"));
    }

    @Test
    void collectsInOrderAndThrowsThemAllAtOnce() {
        ConfigProblems problems = new ConfigProblems();
        problems.throwIfAny();
        problems.add(new ConfigProblem("f", 1, "a", "first"));
        problems.addAll(List.of(new ConfigProblem("f", 2, "b", "second"), new ConfigProblem("g", -1, "", "third")));

        ConfigValidationException e = assertThrows(ConfigValidationException.class, problems::throwIfAny);

        assertEquals(problems.list(), e.problems());
        assertEquals("3 config problem(s):\n  f:1: a: first\n  f:2: b: second\n  g: third", e.getMessage());
    }

    @Test
    void anExceptionNeedsAProblem() {
        assertThrows(IllegalArgumentException.class, () -> new ConfigValidationException(List.of()));
        assertTrue(new ConfigProblems().isEmpty());
    }
}
