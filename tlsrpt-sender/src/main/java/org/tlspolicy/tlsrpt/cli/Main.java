package org.tlspolicy.tlsrpt.cli;

import org.tlspolicy.postgres.PostgresTarget;
import org.tlspolicy.cli.ErrorWords;
import org.tlspolicy.tlsrpt.fleet.FleetStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code tlsrpt-sender}: collects Postfix's outbound TLS outcomes and builds RFC 8460 reports.
 * One class per command. {@code --store} may come before or after the command. Exit codes:
 * 0 done, 1 failed (the message says why, never in Java's words), 2 bad usage.
 */
@Command(name = "tlsrpt-sender", mixinStandardHelpOptions = true,
        version = "tlsrpt-sender 0.1.0",
        description = "Collects Postfix's outbound TLS outcomes and builds RFC 8460 TLS reports.",
        subcommands = {CollectCommand.class, ReportCommand.class, SendCommand.class,
            StatusCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done", "1:failed (the message says why)", "2:usage error"})
public final class Main implements Callable<Integer> {

    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;

    @Option(names = "--store", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "SQLite file of session counts and positions (default: "
                    + "${DEFAULT-VALUE})", defaultValue = "/var/lib/tlsrpt-sender/tlsrpt.db")
    Path store;

    @Option(names = "--fleet", scope = ScopeType.INHERIT, paramLabel = "URI",
            description = "Fleet mode: the fleet's PostgreSQL store, "
                    + "postgresql://HOST[:PORT]/DATABASE. collect forwards its counts there; "
                    + "send reports from there, the fleet's sessions summed")
    String fleet;

    @Option(names = "--fleet-user", scope = ScopeType.INHERIT, defaultValue = "tlsrpt_sender",
            description = "The PostgreSQL user (default: ${DEFAULT-VALUE})")
    String fleetUser;

    @Option(names = "--fleet-password-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "A file holding that user's password")
    Path fleetPasswordFile;

    @Option(names = "--fleet-ca-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "PEM CA certificates that vouch for the PostgreSQL server (default: "
                    + "the JVM's); a server not on this host is reached with sslmode="
                    + "verify-full unless the URI's query names another sslmode")
    Path fleetCaFile;

    @Option(names = "--relay", scope = ScopeType.INHERIT, paramLabel = "NAME",
            description = "This relay's name in the fleet (default: the host name); unique "
                    + "in the fleet")
    String relay;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The fleet's store settings, when --fleet is given. */
    Optional<PostgresTarget> fleet() {
        return fleet == null ? Optional.empty() : Optional.of(new PostgresTarget(fleet,
                fleetUser, Optional.ofNullable(fleetPasswordFile),
                Optional.ofNullable(fleetCaFile)));
    }

    /** This relay's name: --relay, else the host name the kernel has. */
    String relayName() {
        if (relay != null) {
            return relay;
        }
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            return "relay";
        }
    }

    public static void main(String[] args) {
        org.tlspolicy.cli.NettyMachineId.randomUnlessGiven();
        System.exit(run(args, new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8)));
    }

    /** Runs the command line; returns the exit code (for tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("tlsrpt-sender: " + ErrorWords.of(e));
            return EXIT_FAILED;
        });
        return cl.execute(args);
    }

    /** Without a command: the usage, and exit code 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_USAGE;
    }

    /** {@code HOST:PORT} of option {@code option}; a bad one is a usage error. */
    static InetSocketAddress hostPort(String option, String value) {
        int colon = value.lastIndexOf(':');
        try {
            return new InetSocketAddress(value.substring(0, colon).replace("[", "")
                    .replace("]", ""), Integer.parseInt(value.substring(colon + 1)));
        } catch (RuntimeException e) {
            throw new CommandLine.ParameterException(new CommandLine(new Main()), option
                    + ": want HOST:PORT, not '" + value + "'");
        }
    }

    /** {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}; a bare number is seconds. */
    static Duration parseDuration(String s) {
        String t = s.strip();
        if (t.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        }
        char unit = t.charAt(t.length() - 1);
        long n = Character.isDigit(unit) ? Long.parseLong(t)
                : Long.parseLong(t.substring(0, t.length() - 1));
        return switch (unit) {
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
    }
}
