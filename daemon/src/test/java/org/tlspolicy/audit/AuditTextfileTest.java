package org.tlspolicy.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The audit's three renderings: the metrics file, the JSON fields, and hostile text in both. */
class AuditTextfileTest {

    static final Instant AT = Instant.parse("2026-12-07T10:00:00Z");

    static DomainAudit audit() {
        return new DomainAudit("example.test", List.of(
                new Finding("mx-certificate-expiry", "mx.example.test", Level.FAIL,
                        "expired on 2026-12-03 (4 days ago)", "renew", "certificate-expired",
                        "mx.example.test"),
                new Finding("mx-starttls", "mx.example.test", Level.FAIL,
                        "STARTTLS not offered (EHLO: 250-evil\r\nFAKE ok\u202e)", "turn it on",
                        "starttls-not-supported", "mx.example.test"),
                new Finding("tlsrpt-record", "_smtp._tls.example.test", Level.OK, "rua x", "",
                        "", "")),
                Optional.of(new DomainAudit.Policy("20261207", "testing", 86400,
                        List.of("mx.example.test"))),
                List.of(new DomainAudit.Certificate("mx.example.test", "mx", -4)),
                List.of(new DomainAudit.TlsaState("mx.example.test", false)));
    }

    @Test
    void theMetricsFileIsReplacedWhole() throws Exception {
        Path file = dir.resolve("audit.prom");
        Files.writeString(file, "old");
        AuditTextfile.write(List.of(audit()), AT, file);
        String text = Files.readString(file);
        assertTrue(text.contains("tlspolicy_audit_level{domain=\"example.test\"} 2\n"), text);
        assertTrue(text.contains("tlspolicy_audit_findings{domain=\"example.test\",check="
                + "\"mx-starttls\",level=\"fail\"} 1\n"), text);
        assertTrue(text.contains("tlspolicy_audit_certificate_days_left{domain=\"example.test\","
                + "host=\"mx.example.test\",role=\"mx\"} -4\n"), text);
        assertTrue(text.contains("tlspolicy_audit_tlsa_match{domain=\"example.test\",host="
                + "\"mx.example.test\"} 0\n"), text);
        assertTrue(text.contains("tlspolicy_audit_timestamp_seconds 1796637600\n"), text);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @TempDir
    Path dir;

    @Test
    void serverTextCannotBreakALineOrHideItself() throws Exception {
        Finding f = audit().findings().get(1);
        assertTrue(f.found().contains("\\x0d\\x0aFAKE ok\\u202e)"), f.found());
        StringWriter json = new StringWriter();
        AuditJson.write(List.of(audit()), AT, json);
        String text = json.toString();
        assertTrue(text.contains("\"level\" : \"fail\""), text);
        assertTrue(text.contains("\"days_left\" : -4"), text);
        assertTrue(text.contains("\"max_age\" : 86400"), text);
        assertTrue(text.contains("\"result\" : \"starttls-not-supported\""), text);
        StringWriter table = new StringWriter();
        AuditTable.print(List.of(audit()), new java.io.PrintWriter(table));
        assertEquals(1, table.toString().lines().filter(l -> l.contains("FAKE")).count());
        assertTrue(table.toString().contains("1 domain: 0 ok, 0 warn, 1 FAIL"));
    }
}
