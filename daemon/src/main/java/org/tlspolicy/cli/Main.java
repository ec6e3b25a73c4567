package org.tlspolicy.cli;

import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.log.JournalLog;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code tlspolicyd}: the command line.
 *
 * <p>Exit codes, for every subcommand:
 * <ul>
 *   <li>0: success ({@code query}: a policy or NOTFOUND was decided)</li>
 *   <li>1: the configuration is invalid or the daemon could not start</li>
 *   <li>2: usage error (unknown option, missing argument)</li>
 *   <li>3: {@code query} only: the decision is TEMP or TIMEOUT (mail would be deferred)</li>
 *   <li>4: {@code doctor} only: a check failed (what to change is printed)</li>
 * </ul>
 * {@code audit} has its own, as monitoring plugins do: 0 ok, 1 warnings, 2 a failure, 3 the
 * audit could not run.
 */
@Command(name = "tlspolicyd",
        description = "MTA-STS and DANE policy daemon for Postfix smtp_tls_policy_maps.",
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        subcommands = {ServeCommand.class, QueryCommand.class, DoctorCommand.class,
            CacheCommand.class, AuditCommand.class, ConvertConfigCommand.class, VersionCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success (query: a policy or NOTFOUND was decided)",
            "1:invalid configuration, the daemon could not start, or (cache) it could not "
                + "be reached or refused the request",
            "2:usage error",
            "3:query, cache show: the answer is TEMP or TIMEOUT (mail would be deferred)",
            "4:doctor: a check failed",
            "audit:0 ok, 1 warnings, 2 a check failed, 3 could not run"})
public final class Main {

    public static final int EXIT_OK = 0;
    public static final int EXIT_CONFIG = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_DEFERRED = 3;
    public static final int EXIT_PROBLEMS = 4;

    private Main() {
    }

    public static void main(String[] args) {
        JournalLog.keepHandlersAtExit();
        org.tlspolicy.cli.NettyMachineId.randomUnlessGiven();
        System.exit(run(args));
    }

    /** Where the Debian package's unit reads the daemon's configuration. */
    static final Path PACKAGED_CONFIG = Path.of("/etc/tlspolicyd/tlspolicyd.yml");

    /** The help text of the client commands' --config: which file they read without it. */
    static final String CONFIG_HELP = "tlspolicyd's YAML configuration (default: "
            + "/etc/tlspolicyd/tlspolicyd.yml where it exists, as the unit's, else the "
            + "embedded defaults; the first output line says which was read).";

    /**
     * The file a client command (doctor, query, cache) reads: {@code given}, else the
     * package's where it exists (the one the daemon runs on), else none (the defaults).
     */
    static Path configFile(Path given) {
        return configFile(given, PACKAGED_CONFIG);
    }

    /** As {@link #configFile(Path)}, the package's file at {@code packaged}. */
    static Path configFile(Path given, Path packaged) {
        return given != null ? given : java.nio.file.Files.isRegularFile(packaged) ? packaged
                : null;
    }

    /** {@code config: FILE} or {@code config: embedded defaults}. */
    static String describeConfig(Path file) {
        return file == null ? "embedded defaults (no /etc/tlspolicyd/tlspolicyd.yml)"
                : file.toString();
    }

    /**
     * The configuration of {@code file}, or the embedded defaults without one; empty after
     * printing why it is invalid (the command then exits {@link #EXIT_CONFIG}).
     */
    static Optional<DaemonConfig> config(Path file, CommandLine.Model.CommandSpec spec) {
        try {
            return Optional.of(file == null ? ConfigLoader.defaults() : ConfigLoader.load(file));
        } catch (ConfigException e) {
            spec.commandLine().getErr().println("tlspolicyd: " + e.getMessage());
            return Optional.empty();
        }
    }

    static int exitCode(Throwable e) {
        if (e instanceof CommandLine.ParameterException p
                && p.getCommandLine().getCommand() instanceof AuditCommand) {
            return AuditCommand.EXIT_UNKNOWN; // 2 is a failed check there
        }
        return e instanceof CommandLine.ParameterException ? EXIT_USAGE : EXIT_CONFIG;
    }

    /** Runs the command line and returns its exit code; for tests as well as main. */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The command line with its exit codes and error wording; output to stdout/stderr. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExitCodeExceptionMapper(Main::exitCode);
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("tlspolicyd: " + ErrorWords.of(e));
            return EXIT_CONFIG;
        });
        return cli;
    }
}
