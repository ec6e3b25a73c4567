package org.tlspolicy.tlsrpt.receiver.cli;

import org.tlspolicy.cli.ErrorWords;
import org.tlspolicy.dkim.DkimVerifier;
import org.tlspolicy.postgres.PostgresTarget;
import org.tlspolicy.tlsrpt.receiver.ReceivedStore;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code tlsrpt-receiver}: takes in the RFC 8460 TLS reports other domains send about mail to
 * yours, shows them, and says when your MTA-STS policy can go from testing to enforce. One
 * class per command; the common options may come before or after the command.
 */
@Command(name = "tlsrpt-receiver", mixinStandardHelpOptions = true,
        version = "tlsrpt-receiver 0.1.0",
        description = "Takes in the TLS reports (RFC 8460) other domains send you, shows them, "
                + "and says when to enforce your MTA-STS policy.",
        subcommands = {IngestCommand.class, ListenCommand.class, SummaryCommand.class,
            RolloutCommand.class, PublishCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done (ingest: stored, duplicate or rejected, as printed)",
            "1:failed (the message says why)", "2:usage error",
            "75:ingest: the report could not be stored now (Postfix tries again later)"})
public final class Main implements Callable<Integer> {

    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    /** sysexits.h EX_TEMPFAIL: Postfix's pipe(8) defers the mail and tries again. */
    public static final int EXIT_TEMPFAIL = 75;

    @Option(names = "--store", scope = ScopeType.INHERIT, paramLabel = "FILE",
            defaultValue = "/var/lib/tlsrpt-receiver/reports.db",
            description = "SQLite file of the reports received (default: ${DEFAULT-VALUE})")
    Path store;

    @Option(names = "--quarantine", scope = ScopeType.INHERIT, paramLabel = "DIR",
            defaultValue = "/var/lib/tlsrpt-receiver/quarantine",
            description = "Where refused mail and reports are kept whole, each with its reason "
                    + "(default: ${DEFAULT-VALUE})")
    Path quarantine;

    @Option(names = "--fleet", scope = ScopeType.INHERIT, paramLabel = "URI",
            description = "The fleet's PostgreSQL store instead of --store, "
                    + "postgresql://HOST[:PORT]/DATABASE: several MX hosts, one view")
    String fleet;

    @Option(names = "--fleet-user", scope = ScopeType.INHERIT, defaultValue = "tlsrpt_receiver",
            description = "The PostgreSQL user (default: ${DEFAULT-VALUE})")
    String fleetUser;

    @Option(names = "--fleet-password-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "A file holding that user's password")
    Path fleetPasswordFile;

    @Option(names = "--fleet-ca-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "PEM CA certificates that vouch for the PostgreSQL server (default: "
                    + "the JVM's)")
    Path fleetCaFile;

    @Option(names = "--dns", scope = ScopeType.INHERIT, paramLabel = "HOST:PORT",
            description = "The DNS server asked for DKIM keys and MX records (default: those "
                    + "of /etc/resolv.conf)")
    String dns;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8)));
    }

    /** Runs the command line; returns the exit code (for tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("tlsrpt-receiver: " + ErrorWords.of(e));
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

    /** The store: the fleet's when --fleet is given, else the SQLite file. */
    ReceivedStore openStore() throws SQLException {
        if (fleet != null) {
            PostgresTarget target = new PostgresTarget(fleet, fleetUser,
                    Optional.ofNullable(fleetPasswordFile), Optional.ofNullable(fleetCaFile));
            return ReceivedStore.postgres(target.connect("tlsrpt-receiver", w -> org.slf4j
                    .LoggerFactory.getLogger(Main.class).warn("fleet-store {}", w)));
        }
        return ReceivedStore.sqlite(store);
    }

    /** The resolver of --dns, else the system's. */
    Resolver resolver() {
        if (dns == null) {
            ExtendedResolver r = new ExtendedResolver();
            r.setTimeout(Duration.ofSeconds(5));
            return r;
        }
        int colon = dns.lastIndexOf(':');
        try {
            SimpleResolver r = new SimpleResolver(new InetSocketAddress(dns.substring(0, colon)
                    .replace("[", "").replace("]", ""), Integer.parseInt(dns.substring(
                    colon + 1))));
            r.setTimeout(Duration.ofSeconds(5));
            return r;
        } catch (RuntimeException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--dns: want "
                    + "HOST:PORT, not '" + dns + "'");
        }
    }

    /** Keys kept at most (the least used go first). */
    static final int MAX_KEYS = 10_000;

    /**
     * DKIM verification, its keys from {@link #resolver()} (RFC 6376 §3.6.2.1), each key kept
     * for an hour: a Maildir's reports come from a few reporters, each signing with one key,
     * and asking the DNS once per mail would make the DNS the pace of ingest.
     */
    DkimVerifier dkim() {
        com.github.benmanes.caffeine.cache.Cache<String, Optional<String>> keys =
                com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
                        .expireAfterWrite(java.time.Duration.ofHours(1))
                        .maximumSize(MAX_KEYS)
                        .build();
        java.util.function.BiFunction<String, String, Optional<String>> lookup = lookup();
        return new DkimVerifier((selector, domain) -> keys.get(selector + "._domainkey." + domain,
                name -> lookup.apply(selector, domain)));
    }

    private java.util.function.BiFunction<String, String, Optional<String>> lookup() {
        Resolver resolver = resolver();
        return (selector, domain) -> {
            try {
                Lookup l = new Lookup(Name.fromString(selector + "._domainkey." + domain + "."),
                        Type.TXT);
                l.setResolver(resolver);
                l.setCache(null);
                Record[] records = l.run();
                if (records == null) {
                    return Optional.empty();
                }
                for (Record r : records) {
                    if (r instanceof TXTRecord t) {
                        return Optional.of(String.join("", t.getStrings()));
                    }
                }
                return Optional.empty();
            } catch (TextParseException e) {
                return Optional.empty();
            }
        };
    }
}
