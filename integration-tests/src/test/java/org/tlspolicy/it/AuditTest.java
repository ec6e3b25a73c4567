package org.tlspolicy.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import org.tlspolicy.smtp.Mailbox;
import org.tlspolicy.tlsrpt.deliver.ReportMail;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.report.TlsReport;
import org.tlspolicy.tlsrpt.store.SessionCount;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    /** A report mail of {@code org} about {@code domain}'s {@code day}, as tlsrpt-sender makes it. */
    static byte[] reportMail(String org, String orgDomain, String domain, LocalDate day,
                             long ok, String failedMx, long failed) {
        TlsReport.Submitter submitter = new TlsReport.Submitter(org, "mailto:tlsrpt@"
                + orgDomain, orgDomain, "192.0.2." + (org.length() % 200));
        AppliedPolicy p = new AppliedPolicy(PolicyType.STS, domain, List.of("version: STSv1"),
                List.of());
        List<SessionCount> counts = new ArrayList<>(List.of(new SessionCount(day, p,
                new SessionResult.Success(), "", "", ok)));
        if (failed > 0) {
            counts.add(new SessionCount(day, p, new SessionResult.Failure(
                    ResultType.CERTIFICATE_EXPIRED, "certificate has expired"), failedMx,
                    "127.0.2.63", failed));
        }
        TlsReport r = TlsReport.build(submitter, domain, day, counts);
        return ReportMail.build(r, submitter, Mailbox.parse("tlsrpt@" + orgDomain),
                Mailbox.parse("tlsrpt@" + domain), Instant.now());
    }

    static Path receiverJar() {
        return Path.of(System.getProperty("tlsrpt-receiver.jar",
                "../tlsrpt-receiver/target/tlsrpt-receiver.jar"));
    }

    /**
     * Issue 31 §2-4 end to end: report mails from two reporters land in a Maildir; the
     * receiver's jar takes them in; its rollout runs the packaged tlspolicyd's audit against
     * the world and joins it with the reports (broken.test: stay in testing, the expired
     * certificate on mx2 is the domain's, seen by the audit now; good.test: enforced and
     * clean); the daemon, pointed at the receiver's store, shows the domains in a real browser
     * and exports the receiver's series.
     */
    @Test
    void reportsInRolloutOutAndTheDomainsViewInABrowser() throws Exception {
        Path maildir = dir.resolve("Maildir");
        for (String sub : List.of("tmp", "new", "cur")) {
            Files.createDirectories(maildir.resolve(sub));
        }
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        int n = 0;
        for (int back = 1; back <= 9; back++) {
            LocalDate day = today.minusDays(back);
            for (String[] org : new String[][] {{"Google LLC", "google.test"},
                {"Microsoft Corporation", "microsoft.test"}}) {
                Files.write(maildir.resolve("new").resolve("good." + n++), reportMail(org[0],
                        org[1], "good.test", day, 1000 + back, "", 0));
                boolean google = org[0].startsWith("Google");
                Files.write(maildir.resolve("new").resolve("broken." + n++), reportMail(org[0],
                        org[1], "broken.test", day, 500, "mx2.broken.test", google ? 41 : 0));
            }
        }
        Path store = dir.resolve("receiver/reports.db");
        DaemonProcess.Result ingest = DaemonProcess.runJar(receiverJar(), List.of("--store",
                store.toString(), "--quarantine", dir.resolve("quarantine").toString(),
                "ingest", "--maildir", maildir.toString()));
        assertEquals(0, ingest.exitCode(), ingest.toString());
        assertTrue(ingest.out().contains("stored 36, duplicate 0, rejected 0"), ingest.out());

        // tlspolicyd as the rollout runs it: the packaged jar on the world's configuration.
        Path tlspolicyd = Files.writeString(dir.resolve("tlspolicyd.sh"), "#!/bin/sh\n"
                + "exec " + DaemonProcess.java() + " -jar " + DaemonProcess.jar().toAbsolutePath()
                + " \"$@\" --config " + config + " --timeout 5\n");
        tlspolicyd.toFile().setExecutable(true);
        DaemonProcess.Result broken = DaemonProcess.runJar(receiverJar(), List.of("--store",
                store.toString(), "rollout", "broken.test", "--tlspolicyd",
                tlspolicyd.toString()));
        assertEquals(0, broken.exitCode(), broken.toString());
        assertTrue(broken.out().startsWith("broken.test: stay-testing\n"), broken.out());
        assertTrue(broken.out().contains("your side: 369 failed sessions certificate-expired on "
                + "mx2.broken.test, reported by Google LLC (the audit finds it now: "
                + "mx-certificate-expiry mx2.broken.test: expired on"), broken.out());
        DaemonProcess.Result good = DaemonProcess.runJar(receiverJar(), List.of("--store",
                store.toString(), "rollout", "good.test", "--json", "--tlspolicyd",
                tlspolicyd.toString()));
        JsonNode advice = new ObjectMapper().readTree(good.out());
        assertEquals("stay-enforce", advice.get("action").asText(), good.out());
        assertTrue(advice.get("reasons").get(0).asText().startsWith("enforced; 9 clean days "
                + "with reports, from 2 reporters"), good.out());

        int port = MailDeliveryScenarios.freePort();
        Path daemonConfig = Files.writeString(dir.resolve("daemon.yml"), """
                socketmap: {listen: ["127.0.0.1:0"]}
                metrics: {listen: "127.0.0.1:%d", tlsrpt_store: "", tlsrpt_receiver_store: "%s"}
                control: {socket: ""}
                cache: {path: ""}
                dns: {servers: ["%s"], timeout: 2s, attempts: 1}
                dane: {dnssec: resolver}
                """.formatted(port, store, MailWorld.RESOLVER.getAddress().getHostAddress()
                + ":53"));
        try (DaemonProcess d = DaemonProcess.serve(daemonConfig)) {
            String dom = StatusPageTest.chromium(dir.resolve("profile"), "--dump-dom",
                    "http://127.0.0.1:" + port + "/domains");
            assertTrue(dom.contains("<title>tlspolicyd: your domains</title>"), dom);
            assertTrue(dom.contains("<p id=\"outcomes\">Reports taken in: 36 stored, 0 "
                    + "duplicate, 0 rejected"), dom);
            int section = dom.indexOf("<section id=\"domain-broken.test\">");
            assertTrue(section >= 0, dom);
            String b = dom.substring(section, dom.indexOf("</section>", section));
            assertTrue(b.contains("9000 successful, 369 failed sessions in 18 reports"), b);
            Matcher sts = Pattern.compile("<polyline class=\"series\" data-type=\"sts\"[^>]* "
                    + "points=\"([^\"]*)\"").matcher(b);
            assertTrue(sts.find(), b);
            assertEquals(9, sts.group(1).split(" ").length, sts.group(1));
            assertTrue(b.contains("<th scope=\"row\">certificate-expired</th><td>369</td>"), b);
            assertTrue(b.contains("<code>FAIL mx-certificate-expiry mx2.broken.test: expired "
                    + "on"), b);
            assertTrue(b.contains("<td>Google LLC</td><td>9</td>"), b);
            assertTrue(b.contains("<td>Microsoft Corporation</td><td>9</td>"), b);
            HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest
                    .newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(metrics.body().contains("tlsrpt_receiver_sessions_total{domain="
                    + "\"broken.test\",policy_type=\"sts\",result=\"failed\"} 369\n"),
                    metrics.body());
            assertTrue(metrics.body().contains("tlsrpt_receiver_failed_sessions_total{domain="
                    + "\"broken.test\",policy_type=\"sts\",result_type=\"certificate-expired\"} "
                    + "369\n"), metrics.body());
            assertTrue(metrics.body().contains("tlsrpt_receiver_reports_total{outcome="
                    + "\"stored\"} 36\n"), metrics.body());
            Matcher age = Pattern.compile("tlsrpt_receiver_newest_report_age_seconds\\{domain="
                    + "\"good.test\"} (\\d+)\n").matcher(metrics.body());
            assertTrue(age.find(), metrics.body());
            assertTrue(Long.parseLong(age.group(1)) < 600, age.group(1));
        }
    }

    @Test
    void aBadArgumentIsUnknownNotAFailure() throws Exception {
        assertEquals(3, audit("not a domain").exitCode());
        assertEquals(3, audit("--no-such-option", "good.test").exitCode());
        assertEquals(3, audit("--expiry-days", "7,14,30", "good.test").exitCode());
    }
}
