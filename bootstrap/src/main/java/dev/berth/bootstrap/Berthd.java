package dev.berth.bootstrap;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.berth.bootstrap.CommandLine.UsageException;
import dev.berth.config.ConfigDocs;
import dev.berth.config.ConfigProblem;
import dev.berth.config.ConfigSources;
import dev.berth.config.ConfigValidationException;
import dev.berth.kernel.Kernel;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/** {@code berthd}: the daemon and its config commands. */
public final class Berthd {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private final PrintStream out;
    private final PrintStream err;
    private final Host host;
    private final BuildInfo build;
    private final ClassLoader builtins;

    Berthd(PrintStream out, PrintStream err, Host host) {
        this.out = out;
        this.err = err;
        this.host = host;
        this.build = BuildInfo.load();
        this.builtins = Berthd.class.getClassLoader();
    }

    public static void main(String[] args) {
        int status = new Berthd(System.out, System.err, Host.current()).run(args);
        System.out.flush();
        // exit rather than return: plugins may have left non-daemon threads behind
        System.exit(status);
    }

    /** Runs the command line and returns the exit status; for the daemon itself, once it has stopped. */
    int run(String... args) {
        CommandLine cli;
        try {
            cli = CommandLine.parse(args);
        } catch (UsageException e) {
            err.println("berthd: " + e.getMessage());
            err.println("Run 'berthd --help' for usage.");
            return USAGE;
        }
        try {
            return switch (cli.command()) {
                case HELP -> {
                    out.print(CommandLine.USAGE);
                    yield OK;
                }
                case VERSION -> {
                    out.println(build.line());
                    yield OK;
                }
                case RUN -> serve(cli);
                case AOT_TRAINING -> AotTraining.run(build, host);
                case CONFIG_DEFAULT -> configDefault(cli);
                case CONFIG_DUMP -> configDump(cli);
                case CONFIG_VALIDATE -> configValidate(cli);
                case CONFIG_SCHEMA -> configSchema(cli);
            };
        } catch (ConfigValidationException e) {
            return report(e.problems());
        } catch (Daemon.StartupException e) {
            e.lines().forEach(line -> err.println("berthd: " + line));
            return FAILED;
        }
    }

    private int serve(CommandLine cli) throws Daemon.StartupException {
        long begin = System.nanoTime();
        Settings settings = load(cli.configFile(), cli);
        Logging.level(settings.daemon().logLevel());
        LoggerFactory.getLogger(Berthd.class).debug("startup: config loaded in {} ms", (System.nanoTime() - begin) / 1_000_000);
        CountDownLatch stop = new CountDownLatch(1);
        // SIGTERM and SIGINT stop the daemon gracefully and it exits 0 (a shutdown hook could not choose
        // the status); a second signal while stopping exits at once.
        for (String name : List.of("TERM", "INT")) {
            Signal.handle(new Signal(name), signal -> {
                if (stop.getCount() == 0) {
                    Runtime.getRuntime().halt(128 + signal.getNumber());
                }
                stop.countDown();
            });
        }
        try (Daemon daemon = Daemon.start(settings, build)) {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return OK;
    }

    /**
     * Every default (of the daemon, the built-ins and the jars in plugin-dirs) with its description. root and
     * state show their documented values; as a user other than root they default to XDG directories.
     */
    private int configDefault(CommandLine cli) {
        Settings settings = load(cli.configFile(), cli);
        try (Kernel kernel = quietKernel(settings)) {
            out.print(ConfigDocs.renderDefaults(kernel.referenceConfig()));
        }
        return OK;
    }

    /** The effective config: file, flags and defaults merged, each value with where it comes from. */
    private int configDump(CommandLine cli) {
        Settings settings = load(cli.configFile(), cli);
        try (Kernel kernel = quietKernel(settings)) {
            Config effective = ConfigSources.effective(settings.user(), host.computedDefaults().withFallback(kernel.referenceConfig()));
            out.print(ConfigDocs.renderEffective(effective));
        }
        return OK;
    }

    /**
     * Checks a config file as the daemon would at startup, reporting the problems of the daemon's own keys
     * and of every plugin section together.
     */
    private int configValidate(CommandLine cli) {
        Path file = cli.operand().orElseThrow();
        Config user = ConfigSources.user(Optional.of(file), cli.overrides()); // a syntax error ends here
        List<ConfigProblem> problems = new ArrayList<>();
        Settings settings;
        try {
            settings = Settings.load(user, host, builtins);
        } catch (ConfigValidationException e) {
            problems.addAll(e.problems());
            // The plugin sections are still worth checking: with the default daemon settings, but the file's plugins.
            Settings defaults = Settings.load(ConfigFactory.empty(), host, builtins);
            settings = new Settings(user, defaults.reference(), defaults.effective(), defaults.daemon());
        }
        try (Kernel kernel = quietKernel(settings)) {
            problems.addAll(kernel.configProblems());
        }
        if (!problems.isEmpty()) {
            return report(problems);
        }
        out.println(file + ": ok");
        return OK;
    }

    private int configSchema(CommandLine cli) {
        Settings settings = load(cli.configFile(), cli);
        try (Kernel kernel = quietKernel(settings)) {
            out.println(ConfigDocs.jsonSchema(DaemonConfig.class, kernel.configSections(), kernel.referenceConfig()));
        }
        return OK;
    }

    private Settings load(Optional<Path> file, CommandLine cli) {
        return Settings.load(file, cli.overrides(), host, builtins);
    }

    /** A kernel that only discovers and configures plugins, for the config commands; they print to stdout only. */
    private Kernel quietKernel(Settings settings) {
        Logging.level(DaemonConfig.LogLevel.WARN);
        return Daemon.prepare(settings, build, builtins);
    }

    private int report(List<ConfigProblem> problems) {
        problems.forEach(problem -> err.println(problem.format()));
        return FAILED;
    }
}
