package dev.berth.integration;

import static java.util.Objects.requireNonNull;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * containerd's own client, {@code ctr}, pointed at one socket. The tests drive Berth only the way
 * users do, so they parse what {@code ctr} prints.
 */
record Ctr(Path socket) {
    static final Path BINARY = Path.of("/usr/bin/ctr");
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    Ctr {
        requireNonNull(socket, "socket is null");
    }

    /**
     * Stops the calling test unless ctr is installed. In CI, which installs it, its absence is a
     * failure rather than a reason to skip.
     */
    static void requireInstalled() {
        if (Files.isExecutable(BINARY)) {
            return;
        }
        String message = BINARY + " is missing (Debian package containerd)";
        if (System.getenv("CI") != null) {
            fail(message);
        }
        Assumptions.abort(message);
    }

    /** Runs {@code ctr --address <socket> args...}, whatever its exit status. */
    Exec.Result run(String... args) {
        List<String> command = new ArrayList<>(List.of(BINARY.toString(), "--address", socket.toString()));
        command.addAll(List.of(args));
        return Exec.run(command, Map.of(), TIMEOUT);
    }

    /** Runs ctr and fails unless it exits 0; returns its standard output. */
    String succeed(String... args) {
        Exec.Result result = run(args);
        assertEquals(0, result.exitCode(), result::toString);
        return result.stdout();
    }

    /** {@code ctr plugins ls [filters]}, one row per plugin. */
    List<Row> plugins(String... filters) {
        return Row.parse(succeed(Stream.concat(Stream.of("plugins", "ls"), Stream.of(filters)).toArray(String[]::new)));
    }

    /** {@code ctr plugins ls -d [filters]}, one block per plugin. */
    List<Detail> pluginDetails(String... filters) {
        return Detail.parse(succeed(Stream.concat(Stream.of("plugins", "ls", "-d"), Stream.of(filters)).toArray(String[]::new)));
    }

    /** The server half of {@code ctr version}: its {@code Version:} and {@code Revision:} lines. */
    Map<String, String> serverVersion() {
        Map<String, String> server = new LinkedHashMap<>();
        boolean inServer = false;
        for (String line : succeed("version").lines().toList()) {
            if (!line.startsWith(" ")) {
                inServer = line.startsWith("Server:");
            } else if (inServer && line.contains(":")) {
                int colon = line.indexOf(':');
                server.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return server;
    }

    /**
     * A row of {@code ctr plugins ls}: {@code TYPE ID PLATFORMS STATUS}, where ctr derives the
     * status from the plugin's error ({@code ok}, {@code skip} or {@code error}).
     */
    record Row(String type, String id, String platforms, String status) {
        String uri() {
            return type + "." + id;
        }

        static List<Row> parse(String table) {
            List<String> lines = table.lines().filter(line -> !line.isBlank()).toList();
            if (lines.isEmpty() || !lines.getFirst().startsWith("TYPE")) {
                throw new AssertionError("not a plugin table:\n" + table);
            }
            return lines.stream().skip(1).map(line -> {
                String[] cells = line.trim().split("\\s+");
                if (cells.length != 4) {
                    throw new AssertionError("unexpected plugin row '" + line + "' in:\n" + table);
                }
                return new Row(cells[0], cells[1], cells[2], cells[3]);
            }).toList();
        }
    }

    /**
     * A block of {@code ctr plugins ls -d}.
     *
     * @param requires     the required types
     * @param exports      the exported key/values
     * @param errorMessage its init error's message, if it has one
     */
    record Detail(String type, String id, List<String> requires, Map<String, String> exports,
                  Optional<String> errorMessage) {
        Detail {
            requires = List.copyOf(requires);
            exports = Map.copyOf(exports);
        }

        String uri() {
            return type + "." + id;
        }

        /** The error message, failing if there is none. */
        String error() {
            return errorMessage.orElseThrow(() -> new AssertionError(uri() + " has no error"));
        }

        /*
         * ctr writes "Header:<tab> value" lines at column 0 and indents each entry of a section;
         * a line at column 0 that is no header continues a multi-line error message.
         */
        static List<Detail> parse(String text) {
            List<Detail> details = new ArrayList<>();
            Builder current = null;
            String section = "";
            for (String line : text.lines().toList()) {
                if (line.isBlank()) {
                    continue;
                }
                boolean indented = Character.isWhitespace(line.charAt(0));
                String trimmed = line.trim();
                if (!indented && trimmed.startsWith("Type:")) {
                    if (current != null) {
                        details.add(current.build());
                    }
                    current = new Builder(value(trimmed, "Type:"));
                    section = "Type";
                    continue;
                }
                if (current == null) {
                    throw new AssertionError("unexpected line before the first plugin: '" + line + "' in:\n" + text);
                }
                if (!indented && isHeader(trimmed)) {
                    section = trimmed.substring(0, trimmed.indexOf(':'));
                    if (section.equals("ID")) {
                        current.id = value(trimmed, "ID:");
                    }
                    continue;
                }
                switch (section) {
                    case "Requires" -> current.requires.add(trimmed);
                    case "Exports" -> {
                        String[] entry = trimmed.split("\\s+", 2);
                        current.exports.put(entry[0], entry.length > 1 ? entry[1].trim() : "");
                    }
                    case "Error" -> {
                        if (indented && trimmed.startsWith("Message:")) {
                            current.errorMessage = value(trimmed, "Message:");
                        } else if (current.errorMessage != null) {
                            current.errorMessage = current.errorMessage + "\n" + line;
                        } // else its gRPC code, which the tests do not look at
                    }
                    default -> { } // Platforms and Capabilities: their values are on the header line
                }
            }
            if (current != null) {
                details.add(current.build());
            }
            return details;
        }

        private static boolean isHeader(String line) {
            return Stream.of("ID:", "Requires:", "Platforms:", "Exports:", "Capabilities:", "Error:").anyMatch(line::startsWith);
        }

        private static String value(String line, String header) {
            return line.substring(header.length()).trim();
        }

        private static final class Builder {
            private final String type;
            private String id = "";
            private final List<String> requires = new ArrayList<>();
            private final Map<String, String> exports = new LinkedHashMap<>();
            private String errorMessage;

            Builder(String type) {
                this.type = type;
            }

            Detail build() {
                return new Detail(type, id, requires, exports, Optional.ofNullable(errorMessage));
            }
        }
    }
}
