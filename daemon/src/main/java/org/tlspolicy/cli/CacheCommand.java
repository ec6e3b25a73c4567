package org.tlspolicy.cli;

import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.control.ControlClient;
import org.tlspolicy.control.ControlReply;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code tlspolicyd cache list|show|purge|refresh}: acts on the running daemon through its
 * control socket (not the socketmap port): root or a member of the daemon's group may.
 */
@Command(name = "cache", description = "List, show, purge or refresh what the running daemon "
        + "has cached (through its control socket).",
        subcommands = {CacheCommand.ListCommand.class, CacheCommand.ShowCommand.class,
            CacheCommand.PurgeCommand.class, CacheCommand.RefreshCommand.class})
final class CacheCommand implements java.util.concurrent.Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    /** Also before the subcommand: {@code cache --config FILE list}, as an instance's. */
    @CommandLine.Mixin
    Where where;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return Main.EXIT_USAGE;
    }

    /** Where the daemon's control socket is, for every cache subcommand. */
    static final class Where {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE",
                description = "The daemon's configuration file, for control.socket (default: "
                        + "/etc/tlspolicyd/tlspolicyd.yml where it exists, else the embedded "
                        + "default).")
        Path configFile;

        @Option(names = "--control", paramLabel = "SOCKET",
                description = "The control socket itself (overrides the configuration's).")
        Path socket;

        /** These options, else {@code outer}'s (given before the subcommand). */
        Where or(Where outer) {
            Where w = new Where();
            w.configFile = configFile != null ? configFile : outer.configFile;
            w.socket = socket != null ? socket : outer.socket;
            return w;
        }
    }

    static int ask(CommandLine.Model.CommandSpec spec, Where where, String request) {
        return ask(spec, where, request, lines -> Main.EXIT_OK);
    }

    /** As above; {@code exit} turns the daemon's answer into the exit code. */
    static int ask(CommandLine.Model.CommandSpec spec, Where where, String request,
                   java.util.function.ToIntFunction<List<String>> exit) {
        PrintWriter err = spec.commandLine().getErr();
        Path socket = where.socket;
        if (socket == null) {
            Path file = Main.configFile(where.configFile);
            Optional<DaemonConfig> config = Main.config(file, spec);
            if (config.isEmpty()) {
                return Main.EXIT_CONFIG;
            }
            if (config.get().controlSocket().isEmpty()) {
                err.println("tlspolicyd: control.socket is empty in the configuration: the "
                        + "daemon has no control socket");
                return Main.EXIT_CONFIG;
            }
            socket = config.get().controlSocket().get();
        }
        ControlReply reply;
        try {
            reply = ControlClient.ask(socket, request, Duration.ofSeconds(90));
        } catch (IOException e) {
            err.println("tlspolicyd: cannot reach the daemon at " + socket + ": "
                    + ErrorWords.of(e) + " (is it running? systemctl status tlspolicyd; the "
                    + "socket is for root and the daemon's group)");
            return Main.EXIT_CONFIG;
        }
        if (!reply.ok()) {
            err.println("tlspolicyd: " + reply.error());
            return Main.EXIT_CONFIG;
        }
        PrintWriter out = spec.commandLine().getOut();
        reply.lines().forEach(out::println);
        out.flush();
        return exit.applyAsInt(reply.lines());
    }

    /** What every cache subcommand has: help, where the socket is, the request it sends. */
    abstract static class Subcommand implements java.util.concurrent.Callable<Integer> {
        @CommandLine.Mixin
        HelpOption help;
        @CommandLine.Mixin
        Where where;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.ParentCommand
        CacheCommand parent;

        /** The request line, e.g. {@code show example.com}. */
        abstract String request();

        /** Where the socket is: this subcommand's options, else those given before it. */
        Where where() {
            return parent == null ? where : where.or(parent.where);
        }

        @Override
        public Integer call() {
            return ask(spec, where(), request());
        }
    }

    @Command(name = "list", description = "Every domain cached in memory or stored, what "
            + "for, and until when.")
    static final class ListCommand extends Subcommand {
        @Override
        String request() {
            return "list";
        }
    }

    @Command(name = "show", description = "The answer Postfix gets for DOMAIN now, and what "
            + "is cached for it. Exits 3 when that answer is TEMP or TIMEOUT (mail to DOMAIN "
            + "would be deferred), as query does.")
    static final class ShowCommand extends Subcommand {
        @Parameters(paramLabel = "DOMAIN")
        String domain;

        @Override
        String request() {
            return "show " + domain;
        }

        @Override
        public Integer call() {
            return ask(spec, where(), request(), lines -> !lines.isEmpty()
                    && (lines.get(0).contains(" reply=\"TEMP ")
                    || lines.get(0).contains(" reply=\"TIMEOUT ")) ? Main.EXIT_DEFERRED
                    : Main.EXIT_OK);
        }
    }

    @Command(name = "purge", description = "Forget what is cached for DOMAIN (e.g. after its "
            + "operator fixed its policy): the next lookup resolves afresh.")
    static final class PurgeCommand extends Subcommand {
        @Parameters(paramLabel = "DOMAIN")
        String domain;
        @Option(names = "--reason", required = true, paramLabel = "TEXT",
                description = "Why (logged with your uid).")
        String reason;

        @Override
        String request() {
            return "purge " + domain + " " + reason;
        }
    }

    @Command(name = "refresh", description = "Resolve DOMAIN again now; a cached MTA-STS "
            + "policy is replaced only by a new valid one (RFC 8461 §3.3).")
    static final class RefreshCommand extends Subcommand {
        @Parameters(paramLabel = "DOMAIN")
        String domain;
        @Option(names = "--reason", required = true, paramLabel = "TEXT",
                description = "Why (logged with your uid).")
        String reason;

        @Override
        String request() {
            return "refresh " + domain + " " + reason;
        }
    }
}
