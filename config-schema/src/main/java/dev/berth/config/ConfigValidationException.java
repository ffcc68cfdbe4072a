package dev.berth.config;

import static java.util.stream.Collectors.joining;

import java.util.List;

/** Invalid configuration; carries every problem found, each naming file, line and key. */
public final class ConfigValidationException extends RuntimeException {
    private final List<ConfigProblem> problems;

    /** @param problems at least one problem */
    public ConfigValidationException(List<ConfigProblem> problems) {
        super(message(problems));
        this.problems = List.copyOf(problems);
    }

    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String message(List<ConfigProblem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("problems is empty");
        }
        return problems.size() + " config problem(s):\n  "
                + problems.stream().map(ConfigProblem::format).collect(joining("\n  "));
    }
}
