package dev.berth.bootstrap;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import java.time.Duration;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.SubstituteLoggerFactory;

/** The daemon's log: logback to stderr (see {@link LogConfigurator}), at the level the config asks for. */
final class Logging {
    /** How long to wait for another thread to finish setting up logging. */
    private static final Duration SETUP = Duration.ofSeconds(10);

    private Logging() {}

    /** Sets the root logger's level. */
    static void level(DaemonConfig.LogLevel level) {
        // While another thread sets SLF4J up, SLF4J hands every other
        // thread stand-in loggers whose level goes nowhere: wait for logback's own context.
        long deadline = System.nanoTime() + SETUP.toNanos();
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        while (factory instanceof SubstituteLoggerFactory && System.nanoTime() < deadline) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            factory = LoggerFactory.getILoggerFactory();
        }
        if (factory instanceof LoggerContext context) {
            context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.toLevel(level.name()));
        }
    }
}
