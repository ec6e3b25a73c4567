package org.tlspolicy.cli;

import io.netty.channel.EventLoopGroup;
import org.tlspolicy.audit.AuditJson;
import org.tlspolicy.audit.AuditTable;
import org.tlspolicy.audit.AuditTextfile;
import org.tlspolicy.audit.Auditor;
import org.tlspolicy.audit.DomainAudit;
import org.tlspolicy.audit.Level;
import org.tlspolicy.audit.ServedChain;
import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.daemon.PolicyEngine;
import org.tlspolicy.log.JournalLog;
import org.tlspolicy.mtasts.PolicyFetcher;
import org.tlspolicy.mtasts.PolicyHostTrust;
import org.tlspolicy.nexthop.NextHop;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code tlspolicyd audit DOMAIN…}: the domains as a sending MTA sees them (see {@link
 * Auditor}), as a table, {@code --json} or node_exporter metrics; the exit code is the gravest
 * finding, as Nagios plugins do.
 */
@Command(name = "audit", description = "Audit your own domains as sending MTAs see them: "
        + "MTA-STS record and policy, policy host certificate, MX hosts (STARTTLS, chain, name, "
        + "expiry), TLSA, TLSRPT record.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every check ok", "1:warnings, no failure", "2:a check failed",
            "3:the audit could not run (usage, configuration, unreadable --from file)"})
final class AuditCommand implements Callable<Integer> {

    static final int EXIT_WARN = 1;
    static final int EXIT_FAIL = 2;
    static final int EXIT_UNKNOWN = 3;

    /** Domains of a {@code --from} file at most: a large hosting operator's list. */
    static final int MAX_DOMAINS = 100_000;

    @CommandLine.Mixin
    HelpOption help;

    @Parameters(paramLabel = "DOMAIN", arity = "0..*", description = "Domains to audit.")
    List<String> domains = new ArrayList<>();

    @Option(names = "--from", paramLabel = "FILE", description = "Also audit the domains of "
            + "FILE, one a line (# starts a comment).")
    Path from;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = Main.CONFIG_HELP)
    Path configFile;

    @Option(names = "--json", description = "Print the audit as one JSON object "
            + "(docs/audit.md).")
    boolean json;

    @Option(names = "--prometheus", paramLabel = "FILE", description = "Also write "
            + "node_exporter textfile metrics to FILE (atomically).")
    Path prometheus;

    @Option(names = "--expiry-days", paramLabel = "WARN,URGENT,FAIL", defaultValue = "30,14,7",
            description = "Certificate days-to-expiry thresholds (default: ${DEFAULT-VALUE}).")
    String expiryDays;

    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "16",
            description = "Domains audited at once (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "Limit of each network step: connect, SMTP reply, TLS handshake "
                    + "(default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--ehlo", paramLabel = "NAME", description = "The name given in EHLO "
            + "(default: this host's name).")
    String ehlo;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        Optional<List<String>> names = names(err);
        if (names.isEmpty()) {
            return EXIT_UNKNOWN;
        }
        ServedChain.Thresholds thresholds;
        try {
            String[] t = expiryDays.split(",", -1);
            if (t.length != 3) {
                throw new IllegalArgumentException("three numbers, e.g. 30,14,7");
            }
            thresholds = new ServedChain.Thresholds(Integer.parseInt(t[0].strip()),
                    Integer.parseInt(t[1].strip()), Integer.parseInt(t[2].strip()));
        } catch (IllegalArgumentException e) {
            err.println("tlspolicyd: --expiry-days " + expiryDays + ": " + e.getMessage());
            return EXIT_UNKNOWN;
        }
        if (concurrency < 1 || concurrency > 256 || timeoutSeconds < 1 || timeoutSeconds > 300) {
            err.println("tlspolicyd: --concurrency takes 1 to 256, --timeout 1 to 300 seconds");
            return EXIT_UNKNOWN;
        }
        Path file = Main.configFile(configFile);
        Optional<DaemonConfig> loaded = Main.config(file, spec);
        if (loaded.isEmpty()) {
            return EXIT_UNKNOWN;
        }
        DaemonConfig config = loaded.get();
        JournalLog.install("warn");
        EventLoopGroup loop = PolicyEngine.fetchLoop();
        List<DomainAudit> audits;
        Clock clock = Clock.systemUTC();
        try (Auditor auditor = new Auditor(PolicyEngine.daneDnsClient(config),
                new PolicyFetcher(PolicyEngine.policyHostTls(config),
                        config.mtaSts().connectTimeout(), config.mtaSts().fetchTimeout(), 443,
                        loop, config.mtaSts().allowPrivateAddresses()),
                new ServedChain(PolicyHostTrust.trustManager(config.mtaSts().extraCaFile())),
                new Auditor.Settings(thresholds, Duration.ofSeconds(timeoutSeconds), 25,
                        ehlo != null ? ehlo : hostName(), config.mtaSts()
                        .allowPrivateAddresses(), concurrency), clock)) {
            audits = auditor.audit(names.get());
        } catch (ConfigException | GeneralSecurityException e) {
            err.println("tlspolicyd: " + e.getMessage());
            return EXIT_UNKNOWN;
        } finally {
            loop.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            AuditJson.write(audits, clock.instant(), out);
        } else {
            out.println("config " + Main.describeConfig(file));
            AuditTable.print(audits, out);
        }
        out.flush();
        if (prometheus != null) {
            try {
                AuditTextfile.write(audits, clock.instant(), prometheus);
            } catch (IOException e) {
                err.println("tlspolicyd: cannot write " + prometheus + ": " + e.getMessage());
                return EXIT_UNKNOWN;
            }
        }
        Level level = AuditJson.overall(audits);
        return level == Level.FAIL ? EXIT_FAIL : level == Level.WARN ? EXIT_WARN : Main.EXIT_OK;
    }

    /** The domains to audit, each once, in order; empty after saying what is wrong. */
    private Optional<List<String>> names(PrintWriter err) {
        List<String> given = new ArrayList<>(domains);
        if (from != null) {
            try (BufferedReader r = Files.newBufferedReader(from, StandardCharsets.UTF_8)) {
                String line;
                int n = 0;
                while ((line = r.readLine()) != null) {
                    if (++n > MAX_DOMAINS) {
                        err.println("tlspolicyd: " + from + ": more than " + MAX_DOMAINS
                                + " lines");
                        return Optional.empty();
                    }
                    int hash = line.indexOf('#');
                    String d = (hash >= 0 ? line.substring(0, hash) : line).strip();
                    if (!d.isEmpty()) {
                        given.add(d);
                    }
                }
            } catch (IOException e) {
                err.println("tlspolicyd: cannot read " + from + ": " + e.getMessage());
                return Optional.empty();
            }
        }
        if (given.isEmpty()) {
            err.println("tlspolicyd: audit: give a DOMAIN or --from FILE");
            return Optional.empty();
        }
        Set<String> names = new LinkedHashSet<>();
        for (String d : given) {
            if (!(NextHop.parse(d.toLowerCase(Locale.ROOT)) instanceof NextHop.Domain domain)) {
                err.println("tlspolicyd: audit: not a domain name: "
                        + org.tlspolicy.log.LogValue.of(d));
                return Optional.empty();
            }
            names.add(domain.name());
        }
        return Optional.of(List.copyOf(names));
    }

    /** The kernel's host name: no DNS lookup, which could stall where DNS is broken. */
    private static String hostName() {
        try {
            String n = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            return NextHop.parse(n) instanceof NextHop.Domain d ? d.name() : "localhost";
        } catch (IOException e) {
            return "localhost";
        }
    }
}
