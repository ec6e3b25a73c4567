package org.tlspolicy.tlsrpt.cli;

import org.tlspolicy.tlsrpt.collect.Collector;
import org.tlspolicy.tlsrpt.collect.JournalCollector;
import org.tlspolicy.tlsrpt.datagram.DatagramCollector;
import org.tlspolicy.tlsrpt.deliver.DkimSigner;
import org.tlspolicy.tlsrpt.deliver.HttpsPost;
import org.tlspolicy.tlsrpt.deliver.MailSubmission;
import org.tlspolicy.tlsrpt.deliver.ReportSender;
import org.tlspolicy.tlsrpt.deliver.RuaLookup;
import org.tlspolicy.tlsrpt.deliver.SendmailSubmission;
import org.tlspolicy.tlsrpt.deliver.SmtpSubmission;
import org.tlspolicy.tlsrpt.policy.DaemonPolicySource;
import org.tlspolicy.tlsrpt.postfixlog.NextHops;
import org.tlspolicy.tlsrpt.report.TlsReport;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code tlsrpt-sender}: collects Postfix's outbound TLS outcomes and builds RFC 8460 reports.
 * Exit codes: 0 done, 1 failed (the message says why), 2 bad usage.
 */
@Command(name = "tlsrpt-sender", mixinStandardHelpOptions = true,
        version = "tlsrpt-sender 0.1.0",
        description = "Collects Postfix's outbound TLS outcomes and builds RFC 8460 TLS reports.",
        subcommands = {Main.Collect.class, Main.Report.class, Main.Send.class, Main.Status.class})
public final class Main implements Callable<Integer> {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Main.class);

    @Option(names = "--store", description = "SQLite file of session counts and positions "
            + "(default: ${DEFAULT-VALUE})", defaultValue = "/var/lib/tlsrpt-sender/tlsrpt.db")
    Path store;

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
            // A file error's message is only the path: say what happened to it.
            String why = e instanceof java.nio.file.FileSystemException
                    ? e.getClass().getSimpleName() + ": " + e.getMessage() : e.getMessage();
            line.getErr().println("tlsrpt-sender: " + why);
            return 1;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 2;
    }

    @Command(name = "collect", mixinStandardHelpOptions = true,
            description = "Reads Postfix's log into the store, resuming where it stopped.")
    static final class Collect implements Callable<Integer> {

        @CommandLine.ParentCommand
        Main main;

        @CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
        Source source;

        static final class Source {
            @Option(names = "--log", description = "Postfix's log file (e.g. /var/log/mail.log,"
                    + " or Postfix's maillog_file)")
            Path log;

            @Option(names = "--journal", description = "The systemd journal (journalctl)")
            boolean journal;

            @Option(names = "--datagram-socket", description = "Postfix 3.10+: listen for its "
                    + "TLSRPT datagrams on this AF_UNIX socket (main.cf smtp_tlsrpt_socket_name)")
            Path datagramSocket;
        }

        @Option(names = "--journal-file", description = "With --journal: read this journal "
                + "file instead of the system's (journalctl --file)")
        Path journalFile;

        @Option(names = "--identifier", description = "With --journal: SYSLOG_IDENTIFIERs "
                + "to read (default: postfix/smtp, postfix/qmgr, postfix/relay)")
        List<String> identifiers = List.of("postfix/smtp", "postfix/qmgr", "postfix/relay");

        @Option(names = "--policy-server", defaultValue = "inet:127.0.0.1:8461",
                description = "tlspolicyd's socketmap listener, inet:HOST:PORT or unix:PATH "
                        + "(default: ${DEFAULT-VALUE})")
        String policyServer;

        @Option(names = "--own-sender", description = "Envelope sender of our report mail, "
                + "whose sessions are not counted (repeatable)")
        List<String> ownSenders = List.of();

        @Option(names = "--timezone", description = "Time zone of traditional syslog "
                + "timestamps (default: the system's)")
        String timezone;

        @Option(names = "--relayhost", description = "A next hop Postfix hands mail to "
                + "instead of the recipients' MX hosts (main.cf relayhost, a transport's "
                + "[host]), as host, [host]:port or address; its sessions are not the "
                + "recipient domain's and are not counted (repeatable; next hops on a port "
                + "other than 25, such as content filters, never are)")
        List<String> relayhosts = List.of();

        @Option(names = "--once", description = "Read to the end and exit instead of following")
        boolean once;

        @Option(names = "--poll", defaultValue = "1s", description = "How often to look for new "
                + "lines when following (default: ${DEFAULT-VALUE})")
        String poll;

        /** Set once the command has done its work: an exit then waits for nothing. */
        private static volatile boolean finished;

        /**
         * SIGTERM (systemctl stop) ends the reading loop, which returns after its batch (10 s
         * at most). The hook does not wait when the command is already done: System.exit runs
         * it on the very thread it would wait for (collect --once used to take 10 s to exit).
         */
        private static void stopOnTerm() {
            Thread main = Thread.currentThread();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (finished) {
                    return;
                }
                main.interrupt();
                long deadline = System.nanoTime() + 10_000_000_000L;
                try {
                    while (!finished && main.isAlive() && System.nanoTime() < deadline) {
                        main.join(50);
                    }
                } catch (InterruptedException ignored) {
                    // exiting anyway
                }
            }, "stop"));
        }

        private int datagrams(Clock clock) throws Exception {
            try (SessionStore s = SessionStore.open(main.store);
                 DatagramCollector c = DatagramCollector.listen(s, clock::instant,
                         source.datagramSocket)) {
                log.info(
                        "collect source=datagrams socket={} listening", source.datagramSocket);
                stopOnTerm();
                c.run();
                Thread.interrupted(); // clear, to commit what arrived before the stop
                c.commit(0);
            }
            return 0;
        }

        @Override
        public Integer call() throws Exception {
            try {
                return collect();
            } finally {
                finished = true;
            }
        }

        private Integer collect() throws Exception {
            if (source.datagramSocket != null) {
                return datagrams(Clock.systemUTC());
            }
            ZoneId zone = timezone == null ? ZoneId.systemDefault() : ZoneId.of(timezone);
            Set<String> own = new HashSet<>();
            ownSenders.forEach(s -> own.add(s.toLowerCase(Locale.ROOT)));
            Clock clock = Clock.systemUTC();
            try (SessionStore s = SessionStore.open(main.store);
                 DaemonPolicySource policies = new DaemonPolicySource(policyServer,
                         Duration.ofSeconds(30), Duration.ofMinutes(5), clock::millis)) {
                long pollMillis = parseDuration(poll).toMillis();
                if (source.journal) {
                    List<String> journalctl = journalFile == null ? List.of("journalctl")
                            : List.of("journalctl", "--file=" + journalFile);
                    JournalCollector j = new JournalCollector(s, policies, own, journalctl,
                            identifiers, new NextHops(relayhosts));
                    stopOnTerm();
                    if (once) {
                        log.info("collect source=journal entries={}", j.readToEnd());
                    } else {
                        j.follow(pollMillis);
                    }
                    return 0;
                }
                Collector c = new Collector(s, policies, own, zone, clock::instant,
                        new NextHops(relayhosts));
                stopOnTerm();
                if (once) {
                    long n = c.readToEnd(source.log);
                    log.info("collect file={} lines={}", source.log, n);
                } else {
                    c.follow(source.log, pollMillis);
                }
            }
            return 0;
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Builds the reports of one UTC day (--dry-run prints their JSON).")
    static final class Report implements Callable<Integer> {

        @CommandLine.ParentCommand
        Main main;

        @Option(names = "--day", description = "UTC day, YYYY-MM-DD (default: yesterday)")
        LocalDate day;

        @Option(names = "--domain", description = "Only this policy domain")
        String domain;

        @Option(names = "--dry-run", required = true, description = "Print the reports; send "
                + "nothing (sending is 'send')")
        boolean dryRun;

        @CommandLine.Mixin
        SubmitterOptions who;

        @Override
        public Integer call() throws Exception {
            LocalDate d = day != null ? day : LocalDate.now(ZoneOffset.UTC).minusDays(1);
            PrintWriter out = new CommandLine(this).getOut();
            try (SessionStore s = SessionStore.open(main.store)) {
                List<String> domains = domain != null ? List.of(domain) : s.domains(d);
                for (String dom : domains) {
                    List<SessionCount> counts = s.counts(d, dom);
                    if (counts.isEmpty()) {
                        continue;
                    }
                    byte[] json = TlsReport.build(who.submitter(), dom, d, counts).json();
                    out.println(new String(json, StandardCharsets.UTF_8));
                }
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "send", mixinStandardHelpOptions = true,
            description = "Sends the reports of finished UTC days that are due, exactly once "
                    + "each; retries what failed for a while, then gives up.")
    static final class Send implements Callable<Integer> {

        @CommandLine.ParentCommand
        Main main;

        @CommandLine.Mixin
        SubmitterOptions who;

        @Option(names = "--from", required = true, description = "Sender address of report "
                + "mail (give it to 'collect --own-sender' too)")
        String from;

        @Option(names = "--smtp", defaultValue = "127.0.0.1:25", description = "The MTA report "
                + "mail is handed to, HOST:PORT (default: ${DEFAULT-VALUE})")
        String smtp;

        @Option(names = "--sendmail", description = "Hand report mail to this sendmail(1) "
                + "command instead of SMTP, e.g. /usr/sbin/sendmail (arguments of its own may "
                + "follow, separated by spaces)")
        String sendmail;

        @Option(names = "--dkim-key", description = "PEM private key (RSA or Ed25519) to sign "
                + "report mail with; without it mail goes unsigned")
        Path dkimKey;

        @Option(names = "--dkim-selector", defaultValue = "tlsrpt", description = "DKIM "
                + "selector (default: ${DEFAULT-VALUE})")
        String dkimSelector;

        @Option(names = "--dns", description = "DNS server for rua discovery, IP or IP:PORT "
                + "(default: resolv.conf's)")
        String dns;

        @Option(names = "--ca-file", description = "PEM CA certificates trusted for https "
                + "destinations besides the JVM's")
        Path caFile;

        @Option(names = "--give-up-days", defaultValue = "3", description = "Days after which "
                + "an unsent report is given up (default: ${DEFAULT-VALUE})")
        int giveUpDays;

        @Option(names = "--retention-days", defaultValue = "31", description = "Days of "
                + "counts and delivery states kept (default: ${DEFAULT-VALUE})")
        int retentionDays;

        @Override
        public Integer call() throws Exception {
            String submitter = who.submitter;
            if (who.organization.isEmpty() || who.contact.isEmpty() || submitter.isEmpty()) {
                throw new CommandLine.ParameterException(new CommandLine(this),
                        "send needs --organization, --contact and --submitter");
            }
            MailSubmission mta;
            if (sendmail != null) {
                mta = new SendmailSubmission(List.of(sendmail.strip().split("\\s+")),
                        Duration.ofSeconds(60));
            } else {
                int colon = smtp.lastIndexOf(':');
                mta = new SmtpSubmission(new java.net.InetSocketAddress(
                        smtp.substring(0, colon), Integer.parseInt(smtp.substring(colon + 1))),
                        submitter, Duration.ofSeconds(60));
            }
            java.util.Optional<DkimSigner> dkim = dkimKey == null ? java.util.Optional.empty()
                    : java.util.Optional.of(new DkimSigner(submitter, dkimSelector,
                    DkimSigner.readKey(dkimKey)));
            org.xbill.DNS.Resolver resolver;
            if (dns == null) {
                resolver = new org.xbill.DNS.ExtendedResolver();
            } else {
                int c = dns.lastIndexOf(':');
                resolver = c > 0 && dns.indexOf(':') == c
                        ? new org.xbill.DNS.SimpleResolver(new java.net.InetSocketAddress(
                        dns.substring(0, c), Integer.parseInt(dns.substring(c + 1))))
                        : new org.xbill.DNS.SimpleResolver(dns);
            }
            resolver.setTimeout(Duration.ofSeconds(10));
            HttpsPost https = new HttpsPost(Trust.context(caFile), Duration.ofSeconds(30),
                    Duration.ofSeconds(60));
            try (SessionStore s = SessionStore.open(main.store)) {
                ReportSender.Summary sum = new ReportSender(s, new RuaLookup(resolver),
                        who.submitter(),
                        new ReportSender.Mail(from, mta, dkim), https, Clock.systemUTC()::instant,
                        giveUpDays, retentionDays).run();
                log.info(
                        "send planned={} sent={} retry={} failed={} expired={}", sum.planned(),
                        sum.sent(), sum.retry(), sum.failed(), sum.expired());
                return 0;
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Shows what the store holds for a UTC day.")
    static final class Status implements Callable<Integer> {

        @CommandLine.ParentCommand
        Main main;

        @Option(names = "--day", description = "UTC day, YYYY-MM-DD (default: today)")
        LocalDate day;

        @Override
        public Integer call() throws Exception {
            LocalDate d = day != null ? day : LocalDate.now(ZoneOffset.UTC);
            PrintWriter out = new CommandLine(this).getOut();
            try (SessionStore s = SessionStore.open(main.store)) {
                for (String dom : s.domains(d)) {
                    long ok = 0;
                    long failed = 0;
                    for (SessionCount c : s.counts(d, dom)) {
                        if (c.result() instanceof org.tlspolicy.tlsrpt.report.SessionResult
                                .Failure) {
                            failed += c.count();
                        } else {
                            ok += c.count();
                        }
                    }
                    out.printf("day=%s domain=%s successful=%d failed=%d%n", d, dom, ok,
                            failed);
                }
                for (org.tlspolicy.tlsrpt.store.Delivery del : s.deliveries()) {
                    out.printf("delivery day=%s domain=%s to=%s report_id=%s state=%s "
                            + "attempts=%d last_error=\"%s\"%n", del.day(), del.domain(),
                            del.destination(), del.reportId(), del.state(), del.attempts(),
                            del.lastError());
                }
            }
            out.flush();
            return 0;
        }
    }

    /** Who reports (RFC 8460 §4.4), for report (may be left out) and send (may not). */
    static final class SubmitterOptions {

        @Option(names = "--organization", defaultValue = "", description = "organization-name")
        String organization;

        @Option(names = "--contact", defaultValue = "", description = "contact-info, e.g. "
                + "mailto:postmaster@example.net")
        String contact;

        @Option(names = "--submitter", defaultValue = "", description = "Our domain: the "
                + "submitter of the reports, and the DKIM signing domain of report mail")
        String submitter;

        @Option(names = "--sending-ip", defaultValue = "", description = "sending-mta-ip of "
                + "failure details (Postfix's log does not name it)")
        String sendingIp;

        TlsReport.Submitter submitter() {
            return new TlsReport.Submitter(organization, contact, submitter, sendingIp);
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
