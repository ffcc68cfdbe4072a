package dev.berth.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The version of this SPI, against which plugin jars declare what they require. */
public final class PluginApi {
    private static final String VERSION = load();

    private PluginApi() {}

    /** The SPI's semantic version, e.g. {@code 1.0.0}. */
    public static String version() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = PluginApi.class.getResourceAsStream("/META-INF/berth/plugin-api.properties")) {
            if (in == null) {
                throw new IllegalStateException("META-INF/berth/plugin-api.properties is missing from the plugin API jar");
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
