package org.tlspolicy.tlsrpt.cli;

import org.tlspolicy.postfix.Postconf;
import org.tlspolicy.postfix.TlsLogLevel;
import org.tlspolicy.secret.SecretFile;
import org.tlspolicy.smtp.Domain;
import org.tlspolicy.smtp.Mailbox;
import org.tlspolicy.tlsrpt.deliver.DkimSigner;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What {@code send} needs, checked before anything is sent, in the words {@code send --check}
 * prints (one line a check: {@code ok}, {@code warn} or {@code FAIL}, what was found, what to
 * do). The unit runs that check when the timer is enabled or started, so a wrong setting fails
 * then, loudly, not at the next hourly run.
 */
final class SendSettings {

    /** One check's outcome. */
    record Check(String level, String what) {
        boolean failed() {
            return level.equals("FAIL");
        }

        @Override
        public String toString() {
            return String.format("%-5s %s", level, what);
        }
    }

    /** The domains RFC 2606 reserves, as the shipped /etc/default/tlsrpt-sender uses them. */
    private static final List<String> PLACEHOLDERS = List.of("example.com", "example.net",
            "example.org");

    private final List<Check> checks = new ArrayList<>();
    private Domain submitter;
    private Mailbox from;
    private Optional<DkimSigner> dkim = Optional.empty();

    /** Checks the settings that need no network. */
    static SendSettings of(String organization, String contact, String submitterText,
                           String fromText, Path dkimKey, String selector) {
        SendSettings s = new SendSettings();
        s.identity(organization, contact, submitterText, fromText);
        if (s.submitter != null) {
            s.key(dkimKey, selector);
        }
        return s;
    }

    private static boolean placeholder(String domain) {
        String d = domain.toLowerCase(java.util.Locale.ROOT);
        return PLACEHOLDERS.stream().anyMatch(p -> d.equals(p) || d.endsWith("." + p));
    }

    private void identity(String organization, String contact, String submitterText,
                          String fromText) {
        try {
            submitter = Domain.parse(submitterText);
            if (placeholder(submitter.name())) {
                fail("--submitter " + submitter + " is the shipped placeholder: set your own "
                        + "domain in /etc/default/tlsrpt-sender (TLSRPT_SEND_ARGS)");
                submitter = null;
            } else {
                ok("--submitter " + submitter);
            }
        } catch (IllegalArgumentException e) {
            fail("--submitter '" + submitterText + "': " + e.getMessage());
        }
        try {
            from = Mailbox.parse(fromText);
            if (placeholder(from.domain().name())) {
                fail("--from " + from + " is the shipped placeholder: set the sender address of "
                        + "your report mail (and collect's --own-sender) in "
                        + "/etc/default/tlsrpt-sender");
                from = null;
            } else {
                ok("--from " + from);
            }
        } catch (IllegalArgumentException e) {
            fail("--from '" + fromText + "': " + e.getMessage());
        }
        if (placeholder(contact.replaceFirst("^mailto:", "").replaceFirst(".*@", "")
                .replaceFirst("^https?://", "").replaceFirst("[/:].*", ""))) {
            fail("--contact " + contact + " is the shipped placeholder: set where receivers "
                    + "can reach you");
        } else {
            ok("--contact " + contact);
        }
        if (organization.isBlank() || organization.equals("Example Org")) {
            fail("--organization '" + organization + "' is the shipped placeholder: set your "
                    + "organization's name");
        } else {
            ok("--organization " + organization);
        }
    }

    private void key(Path dkimKey, String selector) {
        if (dkimKey == null) {
            warn("no --dkim-key: report mail goes unsigned, and RFC 8460 §5.3 asks for a "
                    + "DKIM signature of the submitter's domain (many receivers drop unsigned "
                    + "reports)");
            return;
        }
        try {
            for (String w : SecretFile.check(dkimKey, "--dkim-key")) {
                warn(w);
            }
            if (SecretFile.groupReadable(dkimKey)) {
                // tlspolicyd joins group tlsrpt-sender to read the store for its status page:
                // a group-readable key would be its to sign with.
                warn("--dkim-key " + dkimKey + " is readable by its group: every member can "
                        + "sign mail as " + submitter + "; chown tlsrpt-sender " + dkimKey
                        + " && chmod 0400 " + dkimKey);
            }
            PrivateKey key = DkimSigner.readKey(dkimKey);
            dkim = Optional.of(new DkimSigner(submitter.name(), selector, key));
            String algorithm = key instanceof java.security.interfaces.RSAKey rsa
                    ? "RSA " + rsa.getModulus().bitLength() + " bits" : "Ed25519";
            ok("--dkim-key " + dkimKey + ": " + algorithm + ", selector " + selector
                    + " (publish " + selector + "._domainkey." + submitter + ")");
        } catch (java.nio.file.AccessDeniedException e) {
            fail("--dkim-key " + dkimKey + " cannot be read by " + System.getProperty(
                    "user.name") + ": chown tlsrpt-sender " + dkimKey + " && chmod 0400 "
                    + dkimKey);
        } catch (java.nio.file.NoSuchFileException e) {
            fail("--dkim-key " + dkimKey + " does not exist (docs/tlsrpt.md: \"Report mail\" "
                    + "makes one)");
        } catch (java.io.IOException | IllegalArgumentException e) {
            fail("--dkim-key " + dkimKey + ": " + e.getMessage());
        }
    }

    /** Connects to the MTA and reads its greeting: report mail would be handed over there. */
    void mta(InetSocketAddress smtp) {
        try (Socket s = new Socket()) {
            s.connect(smtp, 5000);
            // An MTA may greet late: Postfix's smtpd looks the client's name up first, which
            // takes the resolver's timeouts where DNS is slow or unreachable.
            s.setSoTimeout(30_000);
            String greeting = new BufferedReader(new InputStreamReader(s.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
            s.getOutputStream().write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            if (greeting != null && greeting.startsWith("220")) {
                ok("--smtp " + smtp.getHostString() + ":" + smtp.getPort() + " greets: "
                        + greeting.substring(0, Math.min(greeting.length(), 80)));
            } else {
                fail("--smtp " + smtp.getHostString() + ":" + smtp.getPort() + " answered "
                        + (greeting == null ? "nothing" : "'" + greeting + "'")
                        + ", not an SMTP greeting");
            }
        } catch (java.io.IOException e) {
            fail("--smtp " + smtp.getHostString() + ":" + smtp.getPort() + ": " + e.getMessage()
                    + " (is the MTA running? report mail is handed to it)");
        }
    }

    /**
     * Postfix here logs its TLS sessions, which counting from its log needs (a warning only:
     * Postfix 3.10's datagrams need no log, and reports already counted can still go).
     */
    void tlsLogging(Optional<Postconf> postconf) {
        if (postconf.isEmpty()) {
            return; // no Postfix on this host: its log is collected elsewhere
        }
        Optional<String> problem = TlsLogLevel.problem(postconf.get());
        if (problem.isPresent()) {
            warn("collect --journal/--log counts nothing: " + problem.get());
        } else {
            ok("smtp_tls_loglevel: Postfix logs its TLS sessions");
        }
    }

    /** The sendmail command exists and may be run. */
    void sendmail(String command) {
        Path p = Path.of(command.strip().split("\\s+")[0]);
        if (Files.isExecutable(p)) {
            warn("--sendmail " + p + ": under the shipped unit's NoNewPrivileges=yes, Postfix's "
                    + "setgid postdrop cannot run; use --smtp there");
        } else {
            fail("--sendmail " + p + " is not an executable file");
        }
    }

    private void ok(String what) {
        checks.add(new Check("ok", what));
    }

    private void warn(String what) {
        checks.add(new Check("warn", what));
    }

    private void fail(String what) {
        checks.add(new Check("FAIL", what));
    }

    List<Check> checks() {
        return List.copyOf(checks);
    }

    boolean failed() {
        return checks.stream().anyMatch(Check::failed);
    }

    Domain submitter() {
        return submitter;
    }

    Mailbox from() {
        return from;
    }

    Optional<DkimSigner> dkim() {
        return dkim;
    }
}
