package org.tlspolicy.tlsrpt.report;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tlspolicy.tlsrpt.postfixlog.NextHops;
import org.tlspolicy.tlsrpt.postfixlog.SessionAssembler;
import org.tlspolicy.tlsrpt.postfixlog.SyslogLine;
import org.tlspolicy.tlsrpt.postfixlog.TlsSession;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every message shape Postfix's SMTP client logs about TLS (taken from its source, 3.4 to
 * 3.10: src/test/resources/postfix-logs/corpus/smtp-tls-lines.txt), each delivery attempt
 * with the RFC 8460 outcome of every session it must count, and what it must not count
 * (connection failures before TLS, content filters on loopback, a relayhost, other programs).
 */
class SmtpTlsLineCorpusTest {

    /** One case of the corpus. */
    record Case(String name, String policy, List<String> expected, List<String> relayhosts,
                List<String> lines) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> cases() throws IOException {
        String text;
        try (InputStream in = SmtpTlsLineCorpusTest.class.getResourceAsStream(
                "/postfix-logs/corpus/smtp-tls-lines.txt")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<Case> cases = new ArrayList<>();
        Case open = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("== ")) {
                String[] f = line.substring(3).split("\\|");
                List<String> relayhosts = new ArrayList<>();
                for (int i = 3; i < f.length; i++) {
                    String opt = f[i].trim();
                    if (opt.startsWith("relayhost=")) {
                        relayhosts.add(opt.substring("relayhost=".length()));
                    }
                }
                String exp = f[2].trim();
                open = new Case(f[0].trim(), f[1].trim(), exp.equals("none") ? List.of()
                        : List.of(exp.split("\\s*,\\s*")), relayhosts, new ArrayList<>());
                cases.add(open);
            } else if (!line.isBlank() && !line.startsWith("#") && open != null) {
                open.lines().add(line);
            }
        }
        return cases;
    }

    private static AppliedPolicy policy(String kind, String domain) {
        return switch (kind) {
            case "sts" -> new AppliedPolicy(PolicyType.STS, domain,
                    List.of("version: STSv1", "mode: enforce"), List.of("*." + domain));
            case "sts-testing" -> new AppliedPolicy(PolicyType.STS, domain,
                    List.of("version: STSv1", "mode: testing"), List.of("*." + domain));
            case "tlsa" -> new AppliedPolicy(PolicyType.TLSA, domain, List.of("3 1 1 00"),
                    List.of());
            case "none" -> AppliedPolicy.none(domain);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eachShapeGivesItsOutcome(Case c) {
        List<TlsSession> sessions = new ArrayList<>();
        SessionAssembler a = new SessionAssembler(sessions::add, new NextHops(c.relayhosts()));
        Instant reference = Instant.parse("2026-11-24T00:00:00Z");
        for (String l : c.lines()) {
            SyslogLine.parse(l, reference, ZoneOffset.UTC).ifPresentOrElse(a::accept,
                    () -> {
                        throw new AssertionError("not a syslog line: " + l);
                    });
        }
        List<String> outcomes = new ArrayList<>();
        for (TlsSession s : sessions) {
            SessionClassifier.classify(s.facts(), policy(c.policy(), s.domain())).ifPresent(
                    r -> outcomes.add(r instanceof SessionResult.Failure f ? f.type().token()
                            : "success"));
        }
        assertEquals(c.expected(), outcomes, c.name() + ": " + sessions);
        for (TlsSession s : sessions) {
            assertEquals(s.domain(), s.domain().toLowerCase(Locale.ROOT));
        }
    }
}
