package org.tlspolicy.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 31 §1: {@code tlspolicyd audit}, the packaged jar, against the mail world: knotd with
 * the signed zone, unbound validating, HTTPS policy hosts, and a real Postfix answering on
 * port 25 for every MX host with the certificate its case needs. Each problem the issue names
 * is put in the world once and the audit must name it, on its host, with the RFC 8460 result
 * type senders report for it; a clean domain audits clean and exits 0, one that only warns
 * exits 1, any failure 2.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class AuditTest {

    @TempDir
    static Path dir;

    static MailWorld world;
    static Path config;

    @BeforeAll
    static void startWorld() throws Exception {
        world = MailWorld.start(dir, List.of(
                // Everything right: DANE and MTA-STS enforced for a week.
                new MailWorld.Domain("good", List.of(
                        new MailWorld.Mx("mx", "127.0.2.61", MailWorld.Cert.VALID,
                                MailWorld.Tlsa.MATCHING)),
                        new MailWorld.Sts("enforce", List.of("mx.good.test"),
                                MailWorld.Served.POLICY, 0, 604800), false),
                // One problem per MX host; the policy forgets the backup MX and keeps a
                // pattern for a host that left.
                new MailWorld.Domain("broken", List.of(
                        new MailWorld.Mx("mx1", "127.0.2.62", MailWorld.Cert.VALID,
                                MailWorld.Tlsa.MATCHING),
                        new MailWorld.Mx("mx2", "127.0.2.63", MailWorld.Cert.EXPIRED,
                                MailWorld.Tlsa.NONE),
                        new MailWorld.Mx("mx3", "127.0.2.64", MailWorld.Cert.LEAF_ONLY,
                                MailWorld.Tlsa.ROLLOVER),
                        new MailWorld.Mx("mx4", "127.0.2.65", MailWorld.Cert.WRONG_NAME,
                                MailWorld.Tlsa.MISMATCHING),
                        new MailWorld.Mx("backup", "127.0.2.66", MailWorld.Cert.NO_STARTTLS,
                                MailWorld.Tlsa.NONE)),
                        new MailWorld.Sts("testing", List.of("mx1.broken.test",
                                "mx2.broken.test", "mx3.broken.test", "mx4.broken.test",
                                "old.broken.test")), false),
                new MailWorld.Domain("redirect", List.of(
                        new MailWorld.Mx("mx", "127.0.2.67", MailWorld.Cert.VALID,
                                MailWorld.Tlsa.NONE)),
                        new MailWorld.Sts("enforce", List.of("mx.redirect.test"),
                                MailWorld.Served.REDIRECT, 0), false),
                new MailWorld.Domain("stshost", List.of(
                        new MailWorld.Mx("mx", "127.0.2.68", MailWorld.Cert.VALID,
                                MailWorld.Tlsa.NONE)),
                        new MailWorld.Sts("enforce", List.of("mx.stshost.test"),
                                MailWorld.Served.EXPIRED_CERTIFICATE, 0), false),
                // Only a warning: the certificate ends in ten days.
                new MailWorld.Domain("expiring", List.of(
                        new MailWorld.Mx("mx", "127.0.2.69", MailWorld.Cert.EXPIRING,
                                MailWorld.Tlsa.MATCHING)),
                        new MailWorld.Sts("enforce", List.of("mx.expiring.test"),
                                MailWorld.Served.POLICY, 0, 604800), false)));
        config = Files.writeString(dir.resolve("audit.yml"), """
                dns: {servers: ["%s"], timeout: 2s, attempts: 1}
                mta_sts: {allow_private_addresses: true, extra_ca_file: "%s"}
                dane: {dnssec: resolver}
                """.formatted(MailWorld.RESOLVER.getAddress().getHostAddress() + ":53",
                world.caFile()));
    }

    @AfterAll
    static void stopWorld() throws Exception {
        if (world != null) {
            world.close();
        }
    }

    static DaemonProcess.Result audit(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("audit", "--config", config.toString(),
                "--timeout", "5"));
        all.addAll(List.of(args));
        return DaemonProcess.run(all.toArray(String[]::new));
    }

    static JsonNode domain(JsonNode report, String name) {
        for (JsonNode d : report.get("domains")) {
            if (d.get("domain").asText().equals(name)) {
                return d;
            }
        }
        throw new AssertionError(name + " not in the report: " + report);
    }

    /** The findings of {@code check} about {@code subject}. */
    static List<JsonNode> findings(JsonNode domain, String check, String subject) {
        return StreamSupport.stream(domain.get("findings").spliterator(), false)
                .filter(f -> f.get("check").asText().equals(check)
                        && f.get("subject").asText().equals(subject)).toList();
    }

    static JsonNode only(JsonNode domain, String check, String subject, String level) {
        List<JsonNode> found = findings(domain, check, subject).stream()
                .filter(f -> f.get("level").asText().equals(level)).toList();
        assertEquals(1, found.size(), check + " " + subject + " " + level + " in "
                + domain.toPrettyString());
        return found.get(0);
    }

    @Test
    void aCleanDomainAuditsCleanAndExitsZero() throws Exception {
        DaemonProcess.Result r = audit("good.test");
        assertEquals(0, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().contains("good.test  ok"), r.out());
        assertTrue(r.out().contains("1 domain: 1 ok, 0 warn, 0 FAIL"), r.out());
        DaemonProcess.Result j = audit("--json", "good.test");
        JsonNode good = domain(new ObjectMapper().readTree(j.out()), "good.test");
        assertEquals("ok", good.get("level").asText());
        assertEquals("enforce", good.at("/policy/mode").asText());
        assertEquals(604800, good.at("/policy/max_age").asLong());
        assertTrue(only(good, "tlsa", "_25._tcp.mx.good.test", "ok").get("found").asText()
                .contains("matches the chain served"));
        long days = good.at("/certificates/0/days_left").asLong();
        assertTrue(days >= 88 && days <= 90, "days left " + days);
    }

    @Test
    void aCertificateEndingInTenDaysWarnsAndExitsOne() throws Exception {
        DaemonProcess.Result r = audit("--json", "expiring.test");
        assertEquals(1, r.exitCode(), r.out() + r.err());
        JsonNode d = domain(new ObjectMapper().readTree(r.out()), "expiring.test");
        assertTrue(only(d, "mx-certificate-expiry", "mx.expiring.test", "warn").get("found")
                .asText().startsWith("expires in 10 days"), d.toPrettyString());
        // Below the failure threshold, it fails.
        DaemonProcess.Result strict = audit("--expiry-days", "60,30,20", "expiring.test");
        assertEquals(2, strict.exitCode(), strict.out());
    }

    @Test
    void everyProblemIsNamedOnItsHostWithWhatSendersReport() throws Exception {
        DaemonProcess.Result r = audit("--json", "broken.test");
        assertEquals(2, r.exitCode(), r.out() + r.err());
        JsonNode d = domain(new ObjectMapper().readTree(r.out()), "broken.test");
        assertEquals("testing", d.at("/policy/mode").asText());
        assertEquals("ok", only(d, "mx-certificate", "mx1.broken.test", "ok").get("level")
                .asText());
        assertEquals("certificate-expired", only(d, "mx-certificate-expiry", "mx2.broken.test",
                "fail").get("result").asText());
        JsonNode intermediate = only(d, "mx-certificate", "mx3.broken.test", "fail");
        assertEquals("certificate-not-trusted", intermediate.get("result").asText());
        assertTrue(intermediate.get("found").asText().contains("intermediate is missing"),
                intermediate.toString());
        assertEquals("certificate-host-mismatch", only(d, "mx-certificate", "mx4.broken.test",
                "fail").get("result").asText());
        assertEquals("starttls-not-supported", only(d, "mx-starttls", "backup.broken.test",
                "fail").get("result").asText());
        // The policy forgot the backup MX, and keeps a pattern nobody answers to.
        assertEquals("backup.broken.test", only(d, "mx-pattern", "backup.broken.test", "fail")
                .get("host").asText());
        assertTrue(only(d, "mx-pattern", "old.broken.test", "warn").get("advice").asText()
                .contains("stale"));
        // DANE: matching, in roll-over, stale.
        assertTrue(only(d, "tlsa", "_25._tcp.mx1.broken.test", "ok").get("found").asText()
                .contains("matches the chain served"));
        assertTrue(only(d, "tlsa", "_25._tcp.mx3.broken.test", "ok").get("found").asText()
                .startsWith("key roll-over"));
        JsonNode stale = only(d, "tlsa", "_25._tcp.mx4.broken.test", "fail");
        assertEquals("tlsa-invalid", stale.get("result").asText());
        assertTrue(stale.get("advice").asText().contains("IN TLSA 3 1 1 "), stale.toString());
        JsonNode tlsa = d.get("tlsa");
        assertEquals(3, tlsa.size(), tlsa.toString());
        assertEquals("ok", only(d, "tlsrpt-record", "_smtp._tls.broken.test", "ok")
                .get("level").asText());
    }

    @Test
    void theRedirectAndThePolicyHostsExpiredCertificateAreNamed() throws Exception {
        DaemonProcess.Result r = audit("--json", "redirect.test", "stshost.test");
        assertEquals(2, r.exitCode(), r.out() + r.err());
        JsonNode report = new ObjectMapper().readTree(r.out());
        JsonNode redirect = only(domain(report, "redirect.test"), "mta-sts-policy",
                "https://mta-sts.redirect.test/.well-known/mta-sts.txt", "fail");
        assertEquals("sts-policy-fetch-error", redirect.get("result").asText());
        assertTrue(redirect.get("found").asText().contains("redirect"), redirect.toString());
        JsonNode host = domain(report, "stshost.test");
        assertEquals("sts-webpki-invalid", only(host, "policy-host-certificate",
                "mta-sts.stshost.test", "fail").get("result").asText());
        assertTrue(only(host, "policy-host-certificate", "mta-sts.stshost.test", "fail")
                .get("found").asText().startsWith("expired on"));
        assertEquals("sts-webpki-invalid", only(host, "mta-sts-policy",
                "https://mta-sts.stshost.test/.well-known/mta-sts.txt", "fail").get("result")
                .asText());
    }

    @Test
    void aListFromAFileGivesTheTableAndTheMetricsFile() throws Exception {
        Path list = Files.writeString(dir.resolve("domains.txt"), """
                # hosting customers
                good.test
                broken.test   # the one with every problem
                Expiring.Test
                good.test
                """);
        Path prom = dir.resolve("audit.prom");
        DaemonProcess.Result r = audit("--from", list.toString(), "--prometheus",
                prom.toString());
        assertEquals(2, r.exitCode(), r.out() + r.err());
        // Kept for docs/audit.md's example: what an operator sees.
        Files.writeString(Path.of("target/audit-table.txt"), r.out());
        assertTrue(r.out().contains("3 domains: 1 ok, 1 warn, 1 FAIL"), r.out());
        assertTrue(r.out().contains("FAIL  mx-starttls"), r.out());
        String metrics = Files.readString(prom);
        assertTrue(metrics.contains("tlspolicy_audit_level{domain=\"broken.test\"} 2"), metrics);
        assertTrue(metrics.contains("tlspolicy_audit_tlsa_match{domain=\"broken.test\","
                + "host=\"mx4.broken.test\"} 0"), metrics);
        assertTrue(metrics.matches("(?s).*tlspolicy_audit_certificate_days_left\\{domain="
                + "\"broken.test\",host=\"mx2.broken.test\",role=\"mx\"} -\\d+\n.*"), metrics);
        assertTrue(metrics.contains("role=\"policy-host\""), metrics);
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")));
        }
    }

    @Test
    void aBadArgumentIsUnknownNotAFailure() throws Exception {
        assertEquals(3, audit("not a domain").exitCode());
        assertEquals(3, audit("--no-such-option", "good.test").exitCode());
        assertEquals(3, audit("--expiry-days", "7,14,30", "good.test").exitCode());
    }
}
