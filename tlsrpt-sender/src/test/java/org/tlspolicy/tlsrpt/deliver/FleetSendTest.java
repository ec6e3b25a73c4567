package org.tlspolicy.tlsrpt.deliver;

import org.tlspolicy.postgres.PostgresTarget;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.PostgresServer;
import org.tlspolicy.testworld.TestCa;
import org.tlspolicy.tlsrpt.cli.Main;
import org.tlspolicy.tlsrpt.fleet.FleetStore;
import org.tlspolicy.tlsrpt.fleet.Forwarder;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.Delivery;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fleet reports: three relays' collectors forward to one real PostgreSQL, two senders report
 * from it at once, and the HTTPS collector receives one report per domain whose counts are
 * the three relays' sum, each failure naming the relay that saw it (sending-mta-ip). Then a
 * sender killed with SIGKILL while its report is in flight: the other stands by while it
 * lives, takes over once it is dead, and sends the same report (same report-id), once.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FleetSendTest {

    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    private static final List<String> DOMAINS = List.of("h1.test", "h2.test", "h3.test",
            "h4.test");
    private static final Pattern SUCCESSES =
            Pattern.compile("\"total-successful-session-count\" : (\\d+)");
    private static final Pattern DOMAIN = Pattern.compile("\"policy-domain\" : \"([^\"]+)\"");
    private static final Pattern SENDING_IP = Pattern.compile("\"sending-mta-ip\" : \"([^\"]+)\"");

    static PostgresServer postgres;
    static final AtomicInteger databases = new AtomicInteger();

    @TempDir
    Path dir;
    TestCa ca;
    ReportCollector collector;
    KnotServer knot;
    Path caFile;
    String fleet;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = PostgresServer.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    @BeforeEach
    void world() throws Exception {
        ca = TestCa.create("fleet collector CA");
        caFile = ca.writePem(dir.resolve("ca.pem"));
        collector = new ReportCollector(ca);
        StringBuilder zone = new StringBuilder("""
                $ORIGIN test.
                $TTL 60
                @ SOA ns.test. hostmaster.test. 1 3600 900 604800 60
                @ NS ns.test.
                ns A 127.0.0.1
                """).append(ReportCollector.ZONE_RECORD);
        for (String d : DOMAINS) {
            zone.append("_smtp._tls.").append(d, 0, d.indexOf('.'))
                    .append(" TXT \"v=TLSRPTv1; rua=").append(collector.uri()).append("\"\n");
        }
        knot = KnotServer.start(Files.createDirectories(dir.resolve("knot")),
                Map.of("test.", zone.toString()));
        String name = "send" + databases.incrementAndGet();
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        fleet = postgres.uri().replace("/postgres", "/" + name);
        // Three relays' collectors count yesterday's sessions and forward them.
        for (int r = 1; r <= 3; r++) {
            Path store = dir.resolve("relay" + r + ".db");
            try (SessionStore s = SessionStore.openForFleet(store)) {
                List<SessionCount> counts = new ArrayList<>();
                for (String d : DOMAINS) {
                    AppliedPolicy p = new AppliedPolicy(PolicyType.STS, d,
                            List.of("version: STSv1", "mode: enforce"), List.of("mx." + d));
                    counts.add(new SessionCount(YESTERDAY, d, p, new SessionResult.Success(),
                            "", "", "", "", 10L * r));
                    counts.add(new SessionCount(YESTERDAY, d, p, new SessionResult.Failure(
                            ResultType.CERTIFICATE_EXPIRED, "expired"), "192.0.2." + r,
                            "mx." + d, "", "198.51.100.25", 1));
                }
                s.add(counts, "log", "end");
            }
            try (Forwarder f = new Forwarder(store, new PostgresTarget(fleet, "postgres",
                    Optional.empty()), "relay" + r, Clock.systemUTC())) {
                assertTrue(f.forwardOnce());
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        collector.close();
        knot.close();
    }

    private List<String> sendArgs() {
        return List.of("--fleet", fleet, "--fleet-user", "postgres", "--store",
                dir.resolve("sender-local.db").toString(), "send", "--organization",
                "Fleet Org", "--contact", "mailto:postmaster@fleet.test", "--submitter",
                "fleet.test", "--from", "tlsrpt-noreply@fleet.test", "--smtp", "127.0.0.1:9",
                "--dns", "127.0.0.1:" + knot.address().getPort(), "--allow-private-destinations", "--ca-file",
                caFile.toString());
    }

    private String send() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(sendArgs().toArray(String[]::new), new PrintWriter(out),
                new PrintWriter(err));
        assertEquals(0, code, out + "\n" + err);
        return out.toString();
    }

    private List<Delivery> deliveries() throws Exception {
        try (FleetStore f = FleetStore.open(new PostgresTarget(fleet, "postgres",
                Optional.empty()))) {
            return f.deliveries();
        }
    }

    @Test
    void twoSendersSendOneReportPerDomainWithEveryRelaysSessions() throws Exception {
        CompletableFuture<String> a = CompletableFuture.supplyAsync(this::send);
        CompletableFuture<String> b = CompletableFuture.supplyAsync(this::send);
        a.get(120, TimeUnit.SECONDS);
        b.get(120, TimeUnit.SECONDS);
        Map<String, List<String>> byDomain = new TreeMap<>();
        for (String json : collector.reports()) {
            Matcher d = DOMAIN.matcher(json);
            assertTrue(d.find(), json);
            byDomain.computeIfAbsent(d.group(1), k -> new ArrayList<>()).add(json);
        }
        assertEquals(DOMAINS, List.copyOf(byDomain.keySet()));
        for (Map.Entry<String, List<String>> e : byDomain.entrySet()) {
            assertEquals(1, e.getValue().size(), e.getKey() + ": one report for the fleet");
            String json = e.getValue().get(0);
            Matcher m = SUCCESSES.matcher(json);
            assertTrue(m.find(), json);
            assertEquals(10 + 20 + 30, Integer.parseInt(m.group(1)), "the three relays' sum");
            List<String> ips = new ArrayList<>();
            Matcher ip = SENDING_IP.matcher(json);
            while (ip.find()) {
                ips.add(ip.group(1));
            }
            assertEquals(List.of("192.0.2.1", "192.0.2.2", "192.0.2.3"),
                    ips.stream().sorted().toList(), "each failure names its relay");
        }
        assertTrue(deliveries().stream().allMatch(d -> d.state().equals("sent")));
        send();
        assertEquals(DOMAINS.size(), collector.reports().size(), "sent: never again");
    }

    @Test
    void aSenderKilledMidSendIsTakenOverOnceAndOnlyWhenDead() throws Exception {
        collector.holdRequests();
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command()
                .orElse("java"), "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(sendArgs());
        Process first = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("first.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (collector.reportIds().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(1, collector.reportIds().size(), "the first report is in flight");
        String inFlight = deliveries().stream().filter(d -> d.state().equals("sending"))
                .map(Delivery::domain).findFirst().orElseThrow();

        // While the first sender lives, the second leaves its report alone and sends the rest.
        collector.answerNewRequests();
        send();
        assertEquals(DOMAINS.size(), collector.reportIds().size(), collector.reportIds().toString());
        assertEquals("sending", deliveries().stream().filter(d -> d.domain().equals(inFlight))
                .findFirst().orElseThrow().state());

        // Dead now: its report is taken over, with the same report-id, once.
        new ProcessBuilder("kill", "-KILL", Long.toString(first.pid())).start().waitFor();
        assertTrue(first.waitFor(30, TimeUnit.SECONDS));
        send();
        send();
        List<String> all = collector.reportIds();
        assertEquals(DOMAINS.size() + 1, all.size(), all.toString());
        assertEquals(all.get(0), all.get(all.size() - 1), "the same report again: " + all);
        assertEquals(DOMAINS.size(), all.stream().distinct().count(), all.toString());
        assertTrue(deliveries().stream().allMatch(d -> d.state().equals("sent")),
                deliveries().toString());
    }
}
