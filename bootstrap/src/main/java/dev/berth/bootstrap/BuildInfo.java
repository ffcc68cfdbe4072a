package dev.berth.bootstrap;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * The version and source revision this daemon was built from.
 *
 * @param version  the project version, e.g. {@code 0.1.0-SNAPSHOT}
 * @param revision the git commit of the build, or {@code unknown} when it was built outside a checkout
 */
record BuildInfo(String version, String revision) {
    static final String UNKNOWN = "unknown";

    BuildInfo {
        requireNonNull(version, "version is null");
        requireNonNull(revision, "revision is null");
    }

    /** Reads what the build wrote into META-INF/berth. */
    static BuildInfo load() {
        Properties properties = new Properties();
        try (InputStream in = resource("berthd.properties")) {
            if (in == null) {
                throw new IllegalStateException("META-INF/berth/berthd.properties is missing from the daemon's jar");
            }
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String revision;
        try (InputStream in = resource("berthd-revision")) {
            revision = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new BuildInfo(properties.getProperty("version", UNKNOWN), revision.isEmpty() ? UNKNOWN : revision);
    }

    private static InputStream resource(String name) {
        return BuildInfo.class.getResourceAsStream("/META-INF/berth/" + name);
    }

    /** The {@code --version} line: {@code berthd <version> <revision>}. */
    String line() {
        return "berthd " + version + " " + revision;
    }
}
