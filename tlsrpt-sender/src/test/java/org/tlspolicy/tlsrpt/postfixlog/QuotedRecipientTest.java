package org.tlspolicy.tlsrpt.postfixlog;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 34, finding 5: Postfix logs a quoted local part as it is, {@code to=<"a>, "@b>}; the
 * recipient is read with its quotes, so a session counts for the domain after the last
 * {@code @}, never for one named inside the quotes. (The same line, made by a real Postfix, in
 * integration-tests' MailDeliveryScenarios.)
 */
class QuotedRecipientTest {

    private static final Instant REFERENCE = Instant.parse("2026-12-01T00:00:00Z");

    private static List<TlsSession> sessions(String... lines) {
        List<TlsSession> out = new ArrayList<>();
        SessionAssembler a = new SessionAssembler(out::add);
        for (String l : lines) {
            a.accept(SyslogLine.parse(l, REFERENCE, ZoneOffset.UTC).orElseThrow());
        }
        return out;
    }

    private static final String TLS = "Nov 30 10:00:00 relay postfix/smtp[42]: Untrusted TLS "
            + "connection established to mx.attacker.test[192.0.2.9]:25: TLSv1.3 with cipher "
            + "TLS_AES_256_GCM_SHA384 (256/256 bits)";

    @Test
    void aQuotedLocalPartCannotMoveTheSessionToAnotherDomain() {
        List<TlsSession> s = sessions(TLS, "Nov 30 10:00:01 relay postfix/smtp[42]: 4AB12C3D4E: "
                + "to=<\"postmaster@victim.test>, \"@attacker.test>, relay=mx.attacker.test"
                + "[192.0.2.9]:25, delay=0.2, delays=0.1/0/0.05/0.05, dsn=2.0.0, status=sent "
                + "(250 2.0.0 Ok)");
        assertEquals(List.of("attacker.test"), s.stream().map(TlsSession::domain).toList());
    }

    @Test
    void escapedQuotesInsideAreText() {
        List<TlsSession> s = sessions(TLS, "Nov 30 10:00:01 relay postfix/smtp[42]: 4AB12C3D4E: "
                + "to=<\"a\\\"@victim.test>, \\\"\"@attacker.test>, relay=mx.attacker.test"
                + "[192.0.2.9]:25, delay=0.2, delays=0.1/0/0.05/0.05, dsn=2.0.0, status=sent "
                + "(250 2.0.0 Ok)");
        assertEquals(List.of("attacker.test"), s.stream().map(TlsSession::domain).toList());
    }

    @Test
    void aDomainThatIsNoHostNameCountsForNobody() {
        List<TlsSession> out = new ArrayList<>();
        SessionAssembler a = new SessionAssembler(out::add);
        for (String l : List.of(TLS, "Nov 30 10:00:01 relay postfix/smtp[42]: 4AB12C3D4E: "
                + "to=<x@[192.0.2.9]>, relay=mx.attacker.test[192.0.2.9]:25, delay=0.2, "
                + "delays=0.1/0/0.05/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok)")) {
            a.accept(SyslogLine.parse(l, REFERENCE, ZoneOffset.UTC).orElseThrow());
        }
        assertEquals(List.of(), out);
        assertEquals(1, a.dropped());
    }
}
