package dev.berth.config;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.ConfigOrigin;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Collects configuration problems so that a user sees all of them at once; nothing is thrown until the caller
 * decides. Not thread-safe.
 */
public final class ConfigProblems {
    private final List<ConfigProblem> problems = new ArrayList<>();

    /** Adds a problem located at {@code origin}. */
    public void add(ConfigOrigin origin, String path, String message) {
        add(ConfigProblem.of(origin, path, message));
    }

    public void add(ConfigProblem problem) {
        problems.add(requireNonNull(problem, "problem is null"));
    }

    public void addAll(Collection<ConfigProblem> more) {
        more.forEach(this::add);
    }

    /** The problems in the order they were found. */
    public List<ConfigProblem> list() {
        return List.copyOf(problems);
    }

    public boolean isEmpty() {
        return problems.isEmpty();
    }

    int size() {
        return problems.size();
    }

    /** Throws a {@link ConfigValidationException} carrying every problem, if there is any. */
    public void throwIfAny() {
        if (!problems.isEmpty()) {
            throw new ConfigValidationException(problems);
        }
    }
}
