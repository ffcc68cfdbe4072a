package dev.berth.plugin.runtime;

import static java.util.Objects.requireNonNull;

/**
 * Where a process's standard streams go: paths (usually FIFOs the client created) or URIs such as
 * {@code binary:///path} or {@code file:///path}, handed to the shim as they are; an empty string for a stream the
 * process does not have.
 *
 * @param stdin    the standard input
 * @param stdout   the standard output
 * @param stderr   the standard error (unused with a terminal)
 * @param terminal whether the process gets a pseudo-terminal
 */
public record IO(String stdin, String stdout, String stderr, boolean terminal) {
    /** No streams at all. */
    public static final IO NONE = new IO("", "", "", false);

    public IO {
        requireNonNull(stdin, "stdin is null");
        requireNonNull(stdout, "stdout is null");
        requireNonNull(stderr, "stderr is null");
    }
}
