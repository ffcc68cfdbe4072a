package dev.berth.bootstrap;

import ch.qos.logback.classic.Level;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The daemon's log: logback to stderr (see logback.xml), at the level the config asks for. */
final class Logging {
    private Logging() {}

    /** Sets the root logger's level. */
    static void level(DaemonConfig.LogLevel level) {
        if (LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
            root.setLevel(Level.toLevel(level.name()));
        }
    }
}
