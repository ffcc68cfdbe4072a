package dev.berth.bootstrap;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The parsed command line of {@code berthd}.
 *
 * @param command    what to do
 * @param configFile the user's config file ({@code --config})
 * @param overrides  config paths set on the command line: {@code --set} pairs in order, then the dedicated
 *                   flags ({@code --root}, {@code --state}, {@code --address}, {@code --log-level}), which win
 * @param operand    the file of {@code config validate}
 */
record CommandLine(Command command, Optional<Path> configFile, Map<String, String> overrides, Optional<Path> operand) {

    enum Command { RUN, VERSION, HELP, CONFIG_DEFAULT, CONFIG_DUMP, CONFIG_VALIDATE, CONFIG_SCHEMA, AOT_TRAINING }

    static final String USAGE = """
            Usage: berthd [flags]                 run the daemon
                   berthd config default          print every default with its description
                   berthd config dump             print the effective config and where each value comes from
                   berthd config validate FILE    check a config file; exit 1 listing every problem
                   berthd config schema           print the JSON Schema of the config
                   berthd --version | --help

            Flags:
              -c, --config FILE       config file (HOCON); none by default
                  --root DIR          persistent state (config key root)
                  --state DIR         runtime state (config key state)
              -a, --address SOCK      gRPC socket (config key grpc.address)
              -l, --log-level LEVEL   trace, debug, info, warn or error (config key log-level)
                  --set KEY=VALUE     set any config key, e.g. --set grpc.gid=1000 (repeatable)
              -v, --version           print the version and exit
              -h, --help              print this help and exit
            """;

    CommandLine {
        requireNonNull(command, "command is null");
        requireNonNull(configFile, "configFile is null");
        requireNonNull(operand, "operand is null");
        overrides = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(overrides));
    }

    /** A command line berthd cannot make sense of; exits with status 2. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    static CommandLine parse(String... args) throws UsageException {
        Optional<Path> configFile = Optional.empty();
        Map<String, String> sets = new LinkedHashMap<>();
        Map<String, String> flags = new LinkedHashMap<>();
        List<String> operands = new ArrayList<>();
        boolean version = false;
        boolean help = false;
        boolean training = false;
        Arguments in = new Arguments(args);
        while (in.hasNext()) {
            String arg = in.next();
            switch (in.flagName(arg)) {
                case "-c", "--config" -> configFile = Optional.of(absolute(in.value(arg)));
                case "--root" -> flags.put("root", absolute(in.value(arg)).toString());
                case "--state" -> flags.put("state", absolute(in.value(arg)).toString());
                case "-a", "--address" -> flags.put("grpc.address", absolute(in.value(arg)).toString());
                case "-l", "--log-level" -> flags.put("log-level", in.value(arg));
                case "--set" -> {
                    String pair = in.value(arg);
                    int sep = pair.indexOf('=');
                    if (sep <= 0) {
                        throw new UsageException("--set expects KEY=VALUE, got '" + pair + "'");
                    }
                    sets.put(pair.substring(0, sep).strip(), pair.substring(sep + 1));
                }
                case "-v", "--version" -> version = in.noValue(arg);
                case "-h", "--help" -> help = in.noValue(arg);
                case "--aot-training" -> training = in.noValue(arg);
                default -> {
                    if (arg.startsWith("-") && !arg.equals("-")) {
                        throw new UsageException("unknown flag " + in.flagName(arg));
                    }
                    operands.add(arg);
                }
            }
        }
        // applied in order, so the dedicated flags go last and win, also over a --set of an enclosing object
        Map<String, String> overrides = new LinkedHashMap<>(sets);
        overrides.keySet().removeAll(flags.keySet());
        overrides.putAll(flags);
        Command command = help ? Command.HELP
                : version ? Command.VERSION
                : training ? Command.AOT_TRAINING
                : command(operands);
        Optional<Path> operand = command == Command.CONFIG_VALIDATE ? Optional.of(absolute(operands.get(2))) : Optional.empty();
        return new CommandLine(command, configFile, overrides, operand);
    }

    private static Command command(List<String> operands) throws UsageException {
        if (operands.isEmpty()) {
            return Command.RUN;
        }
        if (!operands.getFirst().equals("config")) {
            throw new UsageException("unknown command '" + operands.getFirst() + "'");
        }
        if (operands.size() < 2) {
            throw new UsageException("config needs a subcommand: default, dump, validate FILE or schema");
        }
        String sub = operands.get(1);
        int expected = sub.equals("validate") ? 3 : 2;
        Command command = switch (sub) {
            case "default" -> Command.CONFIG_DEFAULT;
            case "dump" -> Command.CONFIG_DUMP;
            case "validate" -> Command.CONFIG_VALIDATE;
            case "schema" -> Command.CONFIG_SCHEMA;
            default -> throw new UsageException("unknown config subcommand '" + sub + "'");
        };
        if (operands.size() < expected) {
            throw new UsageException("config validate needs a FILE");
        }
        if (operands.size() > expected) {
            throw new UsageException("unexpected argument '" + operands.get(expected) + "'");
        }
        return command;
    }

    /** Walks the arguments; a long flag's value may follow it or be attached with {@code =}. */
    private static final class Arguments {
        private final String[] args;
        private int next;

        Arguments(String[] args) {
            this.args = args;
        }

        boolean hasNext() {
            return next < args.length;
        }

        String next() {
            return args[next++];
        }

        String flagName(String arg) {
            int eq = arg.indexOf('=');
            return arg.startsWith("--") && eq > 0 ? arg.substring(0, eq) : arg;
        }

        String value(String arg) throws UsageException {
            String name = flagName(arg);
            if (!name.equals(arg)) {
                return arg.substring(name.length() + 1);
            }
            if (!hasNext()) {
                throw new UsageException(arg + " needs a value");
            }
            return next();
        }

        boolean noValue(String arg) throws UsageException {
            if (!flagName(arg).equals(arg)) {
                throw new UsageException(flagName(arg) + " takes no value");
            }
            return true;
        }
    }

    private static Path absolute(String path) throws UsageException {
        if (path.isBlank()) {
            throw new UsageException("empty path");
        }
        return Path.of(path).toAbsolutePath().normalize();
    }
}
