package org.tlspolicy.tlsrpt.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.postfix.Postconf;
import org.tlspolicy.tlsrpt.collect.Collector;
import org.tlspolicy.tlsrpt.collect.JournalCollector;
import org.tlspolicy.tlsrpt.collect.TlsLogging;
import org.tlspolicy.tlsrpt.datagram.DatagramCollector;
import org.tlspolicy.tlsrpt.fleet.Forwarder;
import org.tlspolicy.tlsrpt.policy.DaemonPolicySource;
import org.tlspolicy.tlsrpt.postfixlog.NextHops;
import org.tlspolicy.tlsrpt.store.SessionStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code tlsrpt-sender collect}: reads Postfix's TLS outcomes (its log file, the journal, or
 * Postfix 3.10's TLSRPT datagrams) into the store, resuming where it stopped; follows until
 * SIGTERM unless {@code --once}.
 */
@Command(name = "collect",
        description = "Reads Postfix's log into the store, resuming where it stopped.")
final class CollectCommand implements Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    private static final Logger log = LoggerFactory.getLogger(CollectCommand.class);

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

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

    @Option(names = "--postfix-user", defaultValue = "postfix", description = "With "
            + "--journal: the user Postfix's smtp(8) and qmgr(8) run as (main.cf mail_owner), "
            + "a name or a uid; only journal entries its processes wrote are counted "
            + "(default: ${DEFAULT-VALUE})")
    String postfixUser;

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

    @Option(names = "--postfix-config", description = "The configuration directory of the "
            + "Postfix whose log this is (postconf -c; default: Postfix's own). Its "
            + "smtp_tls_loglevel must be 1 or more: at 0 a session with TLS looks like one in "
            + "the clear, and nothing is counted. Where postconf is not installed, nothing "
            + "is checked")
    Path postfixConfig;

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

    /** The local store; in fleet mode queueing for the forwarder. */
    private SessionStore openStore() throws Exception {
        return main.fleet().isPresent() ? SessionStore.openForFleet(main.store)
                : SessionStore.open(main.store);
    }

    /**
     * In fleet mode, the forwarder of the local store's counts to the fleet's, running from
     * now on; closing it forwards once more.
     */
    private AutoCloseable forwarder() {
        if (main.fleet().isEmpty()) {
            return () -> { };
        }
        Forwarder f = new Forwarder(main.store, main.fleet().get(), main.relayName(),
                Clock.systemUTC());
        f.start(FORWARD_SECONDS);
        return f;
    }

    /** How often counts go to the fleet's store. */
    private static final int FORWARD_SECONDS = 5;

    private int datagrams(Clock clock) throws Exception {
        try (SessionStore s = openStore(); AutoCloseable forwarding = forwarder();
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
        TlsLogging logging = TlsLogging.of(Postconf.find(Optional.ofNullable(postfixConfig)));
        if (!logging.checks()) {
            log.info("collect postconf=none: smtp_tls_loglevel not checked (every session "
                    + "counts; at level 0 Postfix's log does not show TLS)");
        }
        try (SessionStore s = openStore(); AutoCloseable forwarding = forwarder();
             DaemonPolicySource policies = new DaemonPolicySource(policyServer,
                     Duration.ofSeconds(30), Duration.ofMinutes(5), clock::millis)) {
            long pollMillis = Main.parseDuration(poll).toMillis();
            if (source.journal) {
                List<String> journalctl = journalFile == null ? List.of("journalctl")
                        : List.of("journalctl", "--file=" + journalFile);
                JournalCollector j = new JournalCollector(s, policies, own, journalctl,
                        identifiers, uid(postfixUser), new NextHops(relayhosts), logging);
                stopOnTerm();
                if (once) {
                    log.info("collect source=journal entries={}", j.readToEnd());
                } else {
                    j.follow(pollMillis);
                }
                return 0;
            }
            Collector c = new Collector(s, policies, own, zone, clock::instant,
                    new NextHops(relayhosts), logging);
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

    /**
     * The uid of {@code user} (a name, through NSS: {@code getent passwd}, or a number).
     *
     * @throws CommandLine.ParameterException naming the user when there is none such
     */
    private long uid(String user) throws Exception {
        if (user.chars().allMatch(Character::isDigit) && !user.isEmpty()) {
            return Long.parseLong(user);
        }
        Process p = new ProcessBuilder("getent", "passwd", user).redirectErrorStream(true)
                .start();
        String line = new String(p.getInputStream().readNBytes(4096),
                java.nio.charset.StandardCharsets.UTF_8).strip();
        String[] f = line.split(":");
        if (p.waitFor() != 0 || f.length < 3 || !f[2].chars().allMatch(Character::isDigit)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--postfix-user "
                    + user + ": no such user (journal entries count only when Postfix's own "
                    + "processes wrote them: give the user main.cf's mail_owner names)");
        }
        return Long.parseLong(f[2]);
    }
}
