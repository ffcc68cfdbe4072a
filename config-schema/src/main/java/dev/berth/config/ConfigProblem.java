package dev.berth.config;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.ConfigOrigin;

/**
 * One configuration problem.
 *
 * @param origin where the problem is: a file path, a resource URL, or a description such as {@code override grpc.address}
 * @param line the 1-based line in {@code origin}, or -1 when unknown
 * @param path the HOCON key path concerned (quoted where needed), or "" when the problem is not about one key
 * @param message what is wrong, phrased for the person editing the file
 */
public record ConfigProblem(String origin, int line, String path, String message) {

    public ConfigProblem {
        requireNonNull(origin, "origin is null");
        requireNonNull(path, "path is null");
        requireNonNull(message, "message is null");
    }

    /** A problem located at a Typesafe Config origin. */
    public static ConfigProblem of(ConfigOrigin origin, String path, String message) {
        requireNonNull(origin, "origin is null");
        return new ConfigProblem(originName(origin), origin.lineNumber(), path, message);
    }

    /** {@code "FILE:LINE: PATH: MESSAGE"}; {@code ":LINE"} is omitted when unknown and {@code "PATH: "} when empty. */
    public String format() {
        return origin + (line >= 0 ? ":" + line : "") + ": " + (path.isEmpty() ? "" : path + ": ") + message;
    }

    /** The file or resource an origin names, without its line. */
    static String originName(ConfigOrigin origin) {
        if (origin.filename() != null) {
            return origin.filename();
        }
        if (origin.url() != null) {
            return origin.url().toExternalForm();
        }
        // Other descriptions (parsed text, resources read by ConfigSources) carry the line as a ": N" suffix.
        String description = origin.description();
        String suffix = ": " + origin.lineNumber();
        return origin.lineNumber() >= 0 && description.endsWith(suffix)
                ? description.substring(0, description.length() - suffix.length())
                : description;
    }
}
