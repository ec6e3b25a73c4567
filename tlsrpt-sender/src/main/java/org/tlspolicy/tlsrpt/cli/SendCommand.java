package org.tlspolicy.tlsrpt.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.tlsrpt.deliver.DkimSigner;
import org.tlspolicy.tlsrpt.deliver.HttpsPost;
import org.tlspolicy.tlsrpt.deliver.MailSubmission;
import org.tlspolicy.tlsrpt.deliver.ReportSender;
import org.tlspolicy.tlsrpt.deliver.RuaLookup;
import org.tlspolicy.tlsrpt.deliver.SendmailSubmission;
import org.tlspolicy.tlsrpt.deliver.SmtpSubmission;
import org.tlspolicy.tlsrpt.deliver.Trust;
import org.tlspolicy.tlsrpt.fleet.FleetStore;
import org.tlspolicy.tlsrpt.store.ReportStore;
import org.tlspolicy.tlsrpt.store.SessionStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;

import org.tlspolicy.postfix.Postconf;
import org.tlspolicy.smtp.Domain;
import org.tlspolicy.smtp.Mailbox;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code tlsrpt-sender send}: plans the reports of the finished days, discovering each
 * domain's rua, and delivers what is due, by mail (DKIM-signed when a key is given) or HTTPS,
 * exactly once each (see ReportSender). Run daily by tlsrpt-sender-send.timer.
 */
@Command(name = "send",
        description = "Sends the reports of finished UTC days that are due, exactly once "
                + "each; retries what failed for a while, then gives up.")
final class SendCommand implements Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    private static final Logger log = LoggerFactory.getLogger(SendCommand.class);

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    SubmitterOptions.Required who;

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

    @Option(names = "--allow-private-destinations", description = "Test worlds on loopback "
            + "only: post reports to https destinations that resolve to loopback or private "
            + "addresses too (by default refused: a domain's rua must not reach this host's or "
            + "this network's internal services)")
    boolean allowPrivateDestinations;

    @Option(names = "--give-up-days", defaultValue = "3", description = "Days after which "
            + "an unsent report is given up (default: ${DEFAULT-VALUE})")
    int giveUpDays;

    @Option(names = "--retention-days", defaultValue = "31", description = "Days of "
            + "counts and delivery states kept (default: ${DEFAULT-VALUE})")
    int retentionDays;

    @Option(names = "--check", description = "Check the settings and exit, sending "
            + "nothing: who you are (not the shipped placeholders), the DKIM key (readable, "
            + "private, valid), the MTA (answers with a greeting), and that Postfix logs its "
            + "TLS sessions (smtp_tls_loglevel). Exit 0 all ok, 1 a problem. "
            + "The send unit runs this when its timer is enabled or started.")
    boolean check;

    @Override
    public Integer call() throws Exception {
        SendSettings settings = SendSettings.of(who.organization, who.contact, who.submitter,
                from, dkimKey, dkimSelector);
        if (check) {
            if (sendmail != null) {
                settings.sendmail(sendmail);
            } else {
                settings.mta(Main.hostPort("--smtp", smtp));
            }
            settings.tlsLogging(Postconf.find(Optional.empty()));
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (check || settings.failed()) {
            for (SendSettings.Check c : settings.checks()) {
                (settings.failed() && !check ? err : out).println(c);
            }
            if (!check) {
                err.println("tlsrpt-sender: send: not sending until the settings above are "
                        + "fixed (tlsrpt-sender send --check)");
            }
            out.flush();
            err.flush();
            return settings.failed() ? Main.EXIT_FAILED : 0;
        }
        for (SendSettings.Check c : settings.checks()) {
            if (c.level().equals("warn")) {
                log.warn("send {}", c.what());
            }
        }
        Domain submitter = settings.submitter();
        Mailbox sender = settings.from();
        MailSubmission mta;
        if (sendmail != null) {
            mta = new SendmailSubmission(List.of(sendmail.strip().split("\\s+")),
                    Duration.ofSeconds(60));
        } else {
            mta = new SmtpSubmission(Main.hostPort("--smtp", smtp), submitter,
                    Duration.ofSeconds(60));
        }
        Optional<DkimSigner> dkim = settings.dkim();
        Resolver resolver;
        if (dns == null) {
            resolver = new ExtendedResolver();
        } else {
            int c = dns.lastIndexOf(':');
            // IP:PORT; a bare IPv6 address has colons of its own
            resolver = c > 0 && dns.indexOf(':') == c
                    ? new SimpleResolver(Main.hostPort("--dns", dns)) : new SimpleResolver(dns);
        }
        resolver.setTimeout(Duration.ofSeconds(10));
        HttpsPost https = new HttpsPost(Trust.context(caFile), resolver,
                allowPrivateDestinations, Duration.ofSeconds(30), Duration.ofSeconds(60));
        try (ReportStore s = main.fleet().isPresent() ? FleetStore.open(main.fleet().get())
                : SessionStore.open(main.store)) {
            ReportSender.Summary sum = new ReportSender(s, new RuaLookup(resolver),
                    who.submitter(),
                    new ReportSender.Mail(sender, mta, dkim), https, Clock.systemUTC()::instant,
                    giveUpDays, retentionDays).run();
            log.info("send planned={} sent={} retry={} failed={} expired={}{}", sum.planned(),
                    sum.sent(), sum.retry(), sum.failed(), sum.expired(),
                    sum.why().map(w -> " nothing_to_do=\"" + w + "\"").orElse(""));
            sum.why().ifPresent(w -> spec.commandLine().getOut().println(
                    "nothing to send: " + w));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
