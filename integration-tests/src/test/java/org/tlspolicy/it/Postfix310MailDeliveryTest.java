package org.tlspolicy.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link MailDeliveryScenarios} with Debian 13's Postfix 3.10 (TLSRPT attributes, built with
 * libtlsrpt), and what only 3.10 has: its smtp_tls_enforce_sts_mx_patterns set both ways, and
 * its TLSRPT client sending one datagram per TLS session to tlsrpt-sender's collector, whose
 * reports must count exactly what the scenarios did.
 *
 * <p>The datagrams pass through a relay ({@code tlsrpt-tap.py}) that keeps a copy of each
 * under {@code target/postfix-tlsrpt-datagrams/}: real Postfix datagrams for the parser's
 * tests.
 */
class Postfix310MailDeliveryTest extends MailDeliveryScenarios {

    private static final Path DATAGRAMS = Path.of("target", "postfix-tlsrpt-datagrams");

    private Path runDir;
    private Process tap;
    private DaemonProcess collector;

    Postfix310MailDeliveryTest() {
        super(PostfixRelease.DEBIAN_13);
    }

    @Override
    void beforeSender() throws Exception {
        // Postfix's TLSRPT socket, relative to its queue directory so that the chrooted smtp(8)
        // finds it (TLSRPT_README), is this directory on the host.
        runDir = Files.createDirectories(dir.resolve("tlsrpt-run"));
        runDir.toFile().setExecutable(true, false);
        Path collectorSocket = dir.resolve("collector.sock");
        collector = DaemonProcess.start(tlsrptSenderJar(), List.of("--store",
                dir.resolve("tlsrpt-datagrams.db").toString(), "collect", "--datagram-socket",
                collectorSocket.toString()), "listening");
        if (Files.isDirectory(DATAGRAMS)) {
            try (Stream<Path> old = Files.list(DATAGRAMS)) {
                for (Path f : old.toList()) {
                    Files.delete(f);
                }
            }
        }
        Path script = Path.of(getClass().getResource("/tlsrpt-tap.py").toURI());
        tap = new ProcessBuilder("/usr/bin/python3", script.toString(),
                runDir.resolve("tlsrpt.sock").toString(), collectorSocket.toString(),
                DATAGRAMS.toAbsolutePath().toString()).redirectErrorStream(true).start();
        String first = new BufferedReader(new InputStreamReader(tap.getInputStream(),
                StandardCharsets.UTF_8)).readLine();
        assertEquals("ready", first, "the datagram relay did not start");
    }

    /** The README's TLSRPT client lines (postfix-conf/main.cf), turned on. */
    @Override
    String senderMainCf() throws Exception {
        return MailWorld.readmeTlsrptLines();
    }

    @Override
    Map<Path, String> senderBinds() {
        return Map.of(runDir, "/var/spool/postfix/run/tlsrpt");
    }

    @Override
    void afterScenarios() throws Exception {
        if (tap != null) {
            tap.destroyForcibly();
        }
        if (collector != null) {
            collector.close();
        }
    }

    // --- smtp_tls_enforce_sts_mx_patterns = no ---------------------------------------------

    /**
     * Postfix 3.10.5's smtp_tls_enforce_sts_mx_patterns set to no: the mx_host_pattern
     * attributes no longer restrict the MX hosts, and certificates are matched against
     * tlspolicyd's match list (Postfix's old behaviour, as on 3.7): the unlisted MX is tried and
     * refused for its name, and the MX two labels below the wildcard is used.
     */
    @Test
    @Order(23)
    void withoutMxPatternEnforcementTheMatchListDecides() throws Exception {
        try (PostfixContainer old = world.startSender(release, "sender-nopatterns",
                daemon.port(), "smtp_tls_enforce_sts_mx_patterns = no\n", Map.of())) {
            assertEquals("no\n", old.exec("postconf", "-h", "smtp_tls_enforce_sts_mx_patterns"));
            SentMail oldMail = new SentMail(old, world.receiver(), FROM);
            SentMail.Attempt unlisted = oldMail.deliver("sts-unlisted", "zoe",
                    "patterns not enforced, preferred MX not in the policy");
            oldMail.assertDelivered(unlisted);
            assertEquals("mx.sts-unlisted.test[127.0.2.7]:25", unlisted.delivery().relay());
            SentMail.assertLogged(unlisted, "mx-rogue.sts-unlisted.test[127.0.2.6]");
            SentMail.assertNotLogged(unlisted, "does not match STS MX pattern");
            SentMail.Attempt wild = oldMail.deliver("sts-wild", "abe",
                    "patterns not enforced, MX two labels below the wildcard");
            oldMail.assertDelivered(wild);
            SentMail.assertLogged(wild, "Verified TLS connection established to "
                    + "a.b.sts-wild.test[127.0.2.22]:25");
        }
    }

    // --- TLS-RPT from Postfix's own datagrams ----------------------------------------------

    /** What one report domain's sessions under one policy type came to. */
    private record Tally(int success, Map<String, Integer> failures) {
    }

    private static Tally ok(int n) {
        return new Tally(n, Map.of());
    }

    private static Tally failed(String type, int n) {
        return new Tally(0, Map.of(type, n));
    }

    /**
     * The reports tlsrpt-sender builds from the datagrams of every scenario above count each
     * TLS session exactly as the scenario made it: per report domain (the recipient domain,
     * whose TLSRPT record Postfix found), per policy type, successes and failures by result
     * type; domains whose mail never reached a TLS handshake (bogus DNSSEC, no MX allowed) have
     * none. Failure details carry what Postfix said: the sending and receiving IP, the MX's
     * EHLO name and, where Postfix gave one, its reason.
     */
    @Test
    @Order(45)
    void reportsFromPostfixsDatagramsCountEverySession() throws Exception {
        // Everything sent has been handled; give the last datagrams a moment, then stop the
        // collector gracefully (it commits what arrived).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (datagramFiles() < 10 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        Thread.sleep(1000);
        collector.signal("TERM");
        collector.awaitExit(30);

        Map<String, Map<String, Tally>> expected = new TreeMap<>();
        // Two: alice's, and the quoted recipient's (scenario 20), at sts-good.test only. The
        // second resumes the first's TLS session (the sender keeps sessions, as Debian's
        // main.cf does), and counts with postfix-conf/main.cf's
        // smtp_tlsrpt_skip_reused_handshakes = no (Postfix's default would skip it).
        expected.put("sts-good.test", Map.of("sts", ok(2)));
        expected.put("sts-wrongname.test", Map.of("sts",
                failed("certificate-host-mismatch", 1)));
        expected.put("sts-selfsigned.test", Map.of("sts", failed("validation-failure", 1)));
        // Three attempts (the scenario's); none resumed: Postfix caches no failed session.
        expected.put("sts-expired.test", Map.of("sts", failed("certificate-expired", 3)));
        expected.put("sts-nostarttls.test", Map.of("sts",
                failed("starttls-not-supported", 1)));
        expected.put("sts-unlisted.test", Map.of("sts", ok(1)));
        // Testing mode is NOTFOUND for Postfix (RFC 8461 §5: deliver anyway): no policy.
        expected.put("sts-testing.test", Map.of("no-policy-found", ok(1)));
        // heidi, and sybil once tlspolicyd was back (the attempt while it was down never
        // connected).
        expected.put("nopolicy.test", Map.of("no-policy-found", ok(2)));
        expected.put("sts-untrusted.test", Map.of("sts", failed("validation-failure", 1)));
        expected.put("dane-good.test", Map.of("tlsa", ok(1)));
        expected.put("dane-bad.test", Map.of("tlsa", failed("certificate-not-trusted", 1)));
        expected.put("both.test", Map.of("tlsa", ok(1)));
        expected.put("dane-mixed.test", Map.of("tlsa", ok(1)));
        expected.put("dane-unusable.test", Map.of("no-policy-found", ok(1)));
        // dane-only: the DANE host fails, the other (no TLSA, no STARTTLS) is never tried.
        expected.put("dane-partial-sts.test", Map.of("tlsa",
                failed("certificate-not-trusted", 1)));
        // Postfix reports unusable-only TLSA as no policy; TLS was required and not offered.
        expected.put("dane-unusable-plain.test", Map.of("no-policy-found",
                failed("starttls-not-supported", 1)));
        expected.put("sts-fallback.test", Map.of("sts", new Tally(1,
                Map.of("certificate-host-mismatch", 1))));
        expected.put("sts-long.test", Map.of("sts", ok(1)));
        expected.put("sts-fetcherror.test", Map.of("no-policy-found", ok(1)));
        expected.put("sts-invalid.test", Map.of("no-policy-found", ok(1)));
        expected.put("sts-webpki.test", Map.of("no-policy-found", ok(1)));
        expected.put("cached.test", Map.of("sts", failed("certificate-host-mismatch", 3)));

        Map<String, JsonNode> reports = reports(todaysReports("tlsrpt-datagrams.db"));
        Map<String, Map<String, Tally>> got = new TreeMap<>();
        reports.forEach((domain, report) -> got.put(domain, tallies(report)));
        assertEquals(expected, got, "per report domain and policy type; reports:\n" + reports);

        // Details as Postfix gave them.
        JsonNode wrongName = failure(reports.get("sts-wrongname.test"));
        assertEquals("127.0.0.1", wrongName.path("sending-mta-ip").asText(), wrongName.toString());
        assertEquals("127.0.2.2", wrongName.path("receiving-ip").asText(), wrongName.toString());
        assertEquals("mx.sts-wrongname.test", wrongName.path("receiving-mx-hostname").asText());
        assertEquals("mx.sts-wrongname.test", wrongName.path("receiving-mx-helo").asText(),
                wrongName.toString());
        JsonNode selfSigned = failure(reports.get("sts-selfsigned.test"));
        assertFalse(selfSigned.path("failure-reason-code").asText().isEmpty(),
                selfSigned.toString());
        // The policies as Postfix applied them.
        JsonNode good = reports.get("sts-good.test").path("policies").get(0).path("policy");
        assertEquals("sts-good.test", good.path("policy-domain").asText());
        assertEquals("[\"mx.sts-good.test\"]", good.path("mx-host").toString());
        assertTrue(good.path("policy-string").toString().contains("mode: enforce"),
                good.toString());
        JsonNode dane = reports.get("dane-good.test").path("policies").get(0).path("policy");
        // RFC 8460 §4.4: the domain the DANE policy is defined at, the TLSA base domain.
        assertEquals("mx.dane-good.test", dane.path("policy-domain").asText(), dane.toString());
        assertTrue(dane.path("policy-string").get(0).asText().startsWith("3 1 1 "),
                dane.toString());
        JsonNode longPolicy = reports.get("sts-long.test").path("policies").get(0)
                .path("policy");
        assertEquals(LONG_POLICY_FILLER + 1, longPolicy.path("mx-host").size(),
                longPolicy.toString());
        assertTrue(longPolicy.path("policy-string").isMissingNode(), "strings shed");
    }

    private static int datagramFiles() throws Exception {
        if (!Files.isDirectory(DATAGRAMS)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(DATAGRAMS)) {
            return (int) s.count();
        }
    }

    /** The reports of a {@code report}, by the domain their report-id names. */
    private static Map<String, JsonNode> reports(String out) throws Exception {
        Map<String, JsonNode> byDomain = new LinkedHashMap<>();
        try (MappingIterator<JsonNode> it = new ObjectMapper().readerFor(JsonNode.class)
                .readValues(out)) {
            while (it.hasNext()) {
                JsonNode r = it.next();
                String[] id = r.path("report-id").asText().split("_");
                byDomain.put(id[1], r);
            }
        }
        return byDomain;
    }

    private static Map<String, Tally> tallies(JsonNode report) {
        Map<String, Tally> out = new TreeMap<>();
        for (JsonNode p : report.path("policies")) {
            String type = p.path("policy").path("policy-type").asText();
            Map<String, Integer> failures = new TreeMap<>();
            for (JsonNode f : p.path("failure-details")) {
                failures.merge(f.path("result-type").asText(),
                        f.path("failed-session-count").asInt(), Integer::sum);
            }
            Tally t = new Tally(p.path("summary").path("total-successful-session-count").asInt(),
                    failures);
            out.merge(type, t, (a, b) -> {
                Map<String, Integer> f = new TreeMap<>(a.failures());
                b.failures().forEach((k, v) -> f.merge(k, v, Integer::sum));
                return new Tally(a.success() + b.success(), f);
            });
        }
        return out;
    }

    private static JsonNode failure(JsonNode report) {
        List<JsonNode> all = new ArrayList<>();
        report.path("policies").forEach(p -> p.path("failure-details").forEach(all::add));
        assertEquals(1, all.size(), report.toString());
        return all.get(0);
    }
}
