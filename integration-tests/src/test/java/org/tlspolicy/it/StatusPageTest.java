package org.tlspolicy.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.daemon.PolicyDaemon;
import org.tlspolicy.testworld.DaneWorld;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.Delivery;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The status page in a real browser: Debian's chromium, headless, loads GET /status from a
 * daemon that answered real lookups (DANE against {@link DaneWorld}'s knotd and unbound), with
 * tlsrpt-sender's real store beside it. The page as the browser built it must show the plot
 * with data, the deferred domain, the DNSSEC check, yesterday's reports and a domain search;
 * it loads nothing from elsewhere (chromium may resolve no name at all here), and meets the
 * basics of accessibility: a language, labelled form fields, a titled plot, and text colours
 * of at least 4.5:1 against the background. A screenshot is kept as
 * {@code target/status-page.png}.
 */
@Timeout(180)
class StatusPageTest {

    @TempDir
    Path dir;

    static String chromium(Path profile, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("chromium", "--headless=new", "--no-sandbox",
                "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-default-apps",
                "--disable-extensions",
                // No name resolves: the page cannot load anything from elsewhere.
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--user-data-dir=" + profile));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(profile.resolveSibling(
                "chromium.err").toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "chromium did not finish");
        assertEquals(0, p.exitValue(), Files.readString(profile.resolveSibling("chromium.err")));
        return new String(out, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** WCAG 2 relative luminance contrast of #rrggbb against white. */
    static double contrastOnWhite(String hex) {
        double l = 0;
        double[] weights = {0.2126, 0.7152, 0.0722};
        for (int i = 0; i < 3; i++) {
            double c = Integer.parseInt(hex.substring(1 + 2 * i, 3 + 2 * i), 16) / 255.0;
            c = c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
            l += weights[i] * c;
        }
        return 1.05 / (l + 0.05);
    }

    static String lookup(Socket s, String key) throws Exception {
        byte[] request = ("postfix " + key).getBytes();
        s.getOutputStream().write((request.length + ":").getBytes());
        s.getOutputStream().write(request);
        s.getOutputStream().write(',');
        StringBuilder len = new StringBuilder();
        for (int c; (c = s.getInputStream().read()) != ':'; ) {
            len.append((char) c);
        }
        byte[] reply = s.getInputStream().readNBytes(Integer.parseInt(len.toString()) + 1);
        return new String(reply, 0, reply.length - 1);
    }

    @Test
    void thePageShowsTheDayInARealBrowser() throws Exception {
        DaneWorld world = DaneWorld.start(dir);
        LocalDate yesterday = LocalDate.now(ZoneOffset.UTC).minusDays(1);
        Path reports = dir.resolve("tlsrpt.db");
        try (SessionStore store = SessionStore.open(reports)) {
            AppliedPolicy p = new AppliedPolicy(PolicyType.STS, "report.test",
                    List.of("version: STSv1", "mode: enforce"), List.of("mx.report.test"));
            store.add(List.of(new SessionCount(yesterday, p, new SessionResult.Success(), "",
                    "", 10), new SessionCount(yesterday, p, new SessionResult.Failure(
                    ResultType.CERTIFICATE_EXPIRED, ""), "mx.report.test", "192.0.2.1", 2)),
                    "test", "end");
            store.plan(yesterday, "report.test", "mailto:tlsrpt@report.test", "id-1");
            store.update(new Delivery(yesterday, "report.test", "mailto:tlsrpt@report.test",
                    "id-1", "sent", 1, 0, ""));
        }
        int metricsPort = MailDeliveryScenarios.freePort();
        Path config = Files.writeString(dir.resolve("tlspolicyd.yml"), """
                socketmap: {listen: ["127.0.0.1:0"]}
                metrics: {listen: "127.0.0.1:%d", tlsrpt_store: "%s"}
                control: {socket: ""}
                dns: {servers: ["127.0.0.1:%d"], timeout: 2s, attempts: 1}
                dane: {dnssec: validate, trust_anchor_file: "%s"}
                mta_sts: {enabled: false}
                cache: {path: ""}
                tlsrpt: "off"
                overrides:
                  - {domain: over.test, policy: encrypt, reason: "policy host broken, ticket 5"}
                """.formatted(metricsPort, reports, world.iteratingResolver().getPort(),
                world.trustAnchorFile()));
        try (PolicyDaemon d = PolicyDaemon.start(ConfigLoader.load(config), Optional.of(config));
             Socket s = new Socket()) {
            s.connect(d.boundAddresses().get(0));
            for (int i = 0; i < 5; i++) {
                assertEquals("OK dane-only", lookup(s, "dane-only.test"));
            }
            String insecure = lookup(s, "insecure.test");
            assertTrue(insecure.startsWith("NOTFOUND"), insecure);
            String bogus = lookup(s, "bogus.test");
            assertTrue(bogus.startsWith("TEMP"), bogus);
            assertEquals("OK encrypt", lookup(s, "over.test"));

            String url = "http://127.0.0.1:" + metricsPort + "/status?domain=dane-only.test";
            HttpResponse<String> direct = HttpClient.newHttpClient().send(HttpRequest
                    .newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                    + "form-action 'self'", direct.headers().firstValue(
                    "content-security-policy").orElse(""));

            String dom = chromium(dir.resolve("profile"), "--dump-dom", url);
            assertTrue(dom.contains("<title>tlspolicyd status</title>"), dom);
            // The plot has data: the dane-only line counts the five answers and leaves the
            // baseline at the newest point.
            Matcher line = Pattern.compile("<polyline class=\"series\" data-kind=\"dane-only\" "
                    + "data-total=\"(\\d+)\"[^>]* points=\"([^\"]*)\"").matcher(dom);
            assertTrue(line.find(), dom);
            assertEquals("5", line.group(1));
            String[] points = line.group(2).strip().split(" ");
            String[] baseline = points[0].split(",");
            String[] newest = points[points.length - 1].split(",");
            assertTrue(Double.parseDouble(newest[1]) < Double.parseDouble(baseline[1]),
                    "the newest point is above the baseline: " + line.group(2));
            assertTrue(dom.contains("data-kind=\"NOTFOUND\" data-total=\"1\""), dom);
            assertTrue(dom.contains("data-kind=\"TEMP\" data-total=\"1\""), dom);
            assertTrue(dom.contains("data-kind=\"other policy\" data-total=\"1\""), dom);
            assertTrue(dom.contains("<p class=\"ok\" id=\"health\">Healthy"), dom);
            assertTrue(dom.contains("<p id=\"dnssec\">DNSSEC self-check: ok: the SOA of test. "
                    + "validates</p>"), dom);
            assertTrue(Pattern.compile("<ul id=\"deferred\">\\s*<li><code>bogus.test: DANE "
                    + "bogus: ").matcher(dom).find(), dom);
            assertTrue(dom.contains("<code>over.test: policy=\"encrypt\" reason=\"policy host "
                    + "broken, ticket 5\"</code>"), dom);
            assertTrue(dom.contains("<code>" + yesterday + " report.test: 12 sessions, "
                    + "failures: certificate-expired 2; report sent to "
                    + "mailto:tlsrpt@report.test</code>"), dom);
            assertTrue(dom.contains("<pre id=\"search\">dane-only.test reply=\"OK "
                    + "dane-only\"\ndane-only.test dane applies"), dom);

            // Accessibility basics, on the page as the browser has it.
            assertTrue(dom.contains("<html lang=\"en\">"), dom);
            assertTrue(dom.contains("<label for=\"domain\">Domain</label>"), dom);
            assertTrue(dom.contains("<svg id=\"answers\" role=\"img\" "
                    + "aria-labelledby=\"answers-title\""), dom);
            Matcher colour = Pattern.compile("(?:color:|fill=\"|background:)(#[0-9a-f]{6})")
                    .matcher(dom);
            int colours = 0;
            while (colour.find()) {
                if (colour.group(1).equals("#ffffff")) {
                    continue; // the background itself
                }
                colours++;
                assertTrue(contrastOnWhite(colour.group(1)) >= 4.5, colour.group(1) + " has "
                        + contrastOnWhite(colour.group(1)) + ":1 on white");
            }
            assertTrue(colours >= 8, "colours checked: " + colours);
            // Nothing from elsewhere: the only URL is the SVG namespace.
            assertFalse(dom.replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
                    .matches("(?s).*https?://.*"), dom);

            Path shot = Path.of("target", "status-page.png").toAbsolutePath();
            Files.deleteIfExists(shot);
            chromium(dir.resolve("profile"), "--screenshot=" + shot, "--window-size=1280,2000",
                    "--hide-scrollbars", url);
            assertTrue(Files.size(shot) > 20_000, "screenshot " + shot + " of "
                    + Files.size(shot) + " bytes");
        } finally {
            world.close();
        }
    }
}
