package org.tlspolicy.bench;

import org.tlspolicy.postgres.PostgresTarget;
import org.tlspolicy.testworld.PostgresServer;
import org.tlspolicy.tlsrpt.collect.Collector;
import org.tlspolicy.tlsrpt.fleet.FleetStore;
import org.tlspolicy.tlsrpt.fleet.Forwarder;
import org.tlspolicy.tlsrpt.policy.PolicySource;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.TlsReport;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The TLS-RPT sender's ingest rate on a synthetic day of Postfix log, and the time to build the
 * day's reports for every domain.
 *
 * <p>The log is made of the line shapes Postfix 3.7 writes (the end-to-end fixtures): per
 * message pickup, cleanup, the queue manager's from=, the SMTP client's TLS lines and outcome,
 * and removed, message after message, by 64 SMTP client processes in turn; one message in
 * ten fails verification (hostname mismatch, deferred), one in twenty has no STARTTLS. Domains are spread over
 * {@code DOMAINS}, each with an MTA-STS policy (a fixed table stands in for tlspolicyd: the
 * policy source is not what is measured).
 *
 * <p>Reference, in the same run: reading the same file line by line with a BufferedReader,
 * the ceiling for anything that looks at every line. Each figure is the median of 3 rounds,
 * each ingest into a new store.
 *
 * <p>With {@code fleet} as fourth argument, fleet mode: a PostgreSQL server (Debian's, a
 * cluster made for the run as the tests make it) receives the counts, the collector queueing
 * them in its outbox as it counts and a forwarder moving them every second, as {@code collect
 * --fleet} does. Two figures per round then: the ingest rate (the collector's, with the
 * forwarder running beside it) and the rate to PostgreSQL (lines / the time until the last
 * count is there).
 *
 * <p>Usage: {@code java -cp bench/target/tlspolicy-bench.jar org.tlspolicy.bench.IngestBenchmark
 * [LINES] [DOMAINS] [DIR] [fleet]} (defaults 10000000, 10000, a temporary directory).
 */
public final class IngestBenchmark {

    private static final DateTimeFormatter TRADITIONAL =
            DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss", Locale.ROOT);

    private IngestBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        long lines = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
        int domains = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        Path dir = args.length > 2 && !args[2].isEmpty()
                ? Files.createDirectories(Path.of(args[2]))
                : Files.createTempDirectory("tlsrpt-bench");
        boolean fleet = args.length > 3 && args[3].equals("fleet");
        PostgresServer postgres = fleet ? PostgresServer.start() : null;
        double[] toFleet = new double[3];
        Path log = dir.resolve("mail.log");
        LocalDate day = LocalDate.parse("2026-11-22");
        long written = generate(log, lines, domains, day);
        System.out.printf("log: %,d lines, %,d bytes, %,d domains%n", written, Files.size(log),
                domains);
        PolicySource policies = domain -> new AppliedPolicy(PolicyType.STS, domain, List.of(
                "version: STSv1", "mode: enforce", "mx: mx." + domain, "max_age: 86400"),
                List.of("mx." + domain));
        double[] reference = new double[3];
        double[] ingest = new double[3];
        Path lastStore = null;
        for (int round = 0; round < 3; round++) {
            long t0 = System.nanoTime();
            long n = 0;
            try (BufferedReader r = Files.newBufferedReader(log, StandardCharsets.UTF_8)) {
                while (r.readLine() != null) {
                    n++;
                }
            }
            reference[round] = n / ((System.nanoTime() - t0) / 1e9);
            lastStore = dir.resolve("tlsrpt-" + round + ".db");
            Files.deleteIfExists(lastStore);
            try (SessionStore store = fleet ? SessionStore.openForFleet(lastStore)
                    : SessionStore.open(lastStore)) {
                Collector c = new Collector(store, policies, Set.of(), ZoneOffset.UTC,
                        () -> Instant.parse("2026-11-23T12:00:00Z"));
                Forwarder forwarder = null;
                if (fleet) {
                    forwarder = new Forwarder(lastStore, new PostgresTarget(postgres.uri(),
                            "postgres", Optional.empty()), "bench-" + round,
                            Clock.systemUTC());
                    forwarder.start(1);
                }
                long t1 = System.nanoTime();
                long read = c.readToEnd(log);
                ingest[round] = read / ((System.nanoTime() - t1) / 1e9);
                if (forwarder != null) {
                    forwarder.close(); // forwards what is left
                    toFleet[round] = read / ((System.nanoTime() - t1) / 1e9);
                    if (!store.outbox(1).isEmpty()) {
                        throw new IllegalStateException("the outbox was not drained");
                    }
                }
            }
            System.out.printf("round %d: reference %,.0f lines/s, ingest %,.0f lines/s%s%n",
                    round + 1, reference[round], ingest[round], fleet ? String.format(
                            ", in PostgreSQL at %,.0f lines/s", toFleet[round]) : "");
        }
        if (fleet) {
            System.out.printf("fleet: ingest %,.0f lines/s, to PostgreSQL %,.0f lines/s "
                    + "(medians); target 300,000 lines/s%n", median(ingest), median(toFleet));
            postgres.close();
        }
        double ref = median(reference);
        double got = median(ingest);
        System.out.printf("ingest: %,.0f lines/s = %.2f of the reference (%,.0f lines/s); "
                + "target 300,000 lines/s%n", got, got / ref, ref);
        TlsReport.Submitter who = new TlsReport.Submitter("Bench", "mailto:bench@example.net",
                "example.net", "");
        double[] build = new double[3];
        int reports = 0;
        for (int round = 0; round < 3; round++) {
            try (SessionStore store = SessionStore.open(lastStore)) {
                long t0 = System.nanoTime();
                reports = 0;
                long bytes = 0;
                for (String d : store.domains(day)) {
                    bytes += TlsReport.build(who, d, day, store.counts(day, d)).gzip().length;
                    reports++;
                }
                build[round] = (System.nanoTime() - t0) / 1e9;
                System.out.printf("round %d: %,d reports (%,d bytes gzip) in %.2f s%n",
                        round + 1, reports, bytes, build[round]);
            }
        }
        System.out.printf("reports: %,d domains built in %.2f s (median)%n", reports,
                median(build));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** Writes about {@code lines} lines of one day; returns how many. */
    static long generate(Path file, long lines, int domains, LocalDate day) throws Exception {
        long written = 0;
        long message = 0;
        LocalDateTime start = day.atStartOfDay();
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            while (written < lines) {
                message++;
                String t = TRADITIONAL.format(start.plusSeconds(message * 86_400L * 6 / lines));
                String qid = String.format("%010X", 0x1000000000L + message);
                int pid = 1000 + (int) (message % 64);
                String domain = "d" + (message * 7919 % domains) + ".example";
                String mx = "mx." + domain;
                String ip = "192.0." + (message % 200) + "." + (1 + message % 250);
                List<String> m = new ArrayList<>(List.of(
                        t + " mail postfix/pickup[900]: " + qid + ": uid=0 from=<a@example.net>",
                        t + " mail postfix/cleanup[901]: " + qid + ": message-id=<" + qid
                                + "@example.net>",
                        t + " mail postfix/qmgr[902]: " + qid + ": from=<a@example.net>, "
                                + "size=1234, nrcpt=1 (queue active)"));
                String smtp = t + " mail postfix/smtp[" + pid + "]: ";
                if (message % 20 == 0) {
                    m.add(smtp + qid + ": to=<u@" + domain + ">, relay=" + mx + "[" + ip
                            + "]:25, delay=0.1, delays=0/0/0.1/0, dsn=4.7.4, status=deferred "
                            + "(TLS is required, but was not offered by host " + mx + "[" + ip
                            + "])");
                } else if (message % 10 == 0) {
                    m.add(smtp + "server certificate verification failed for " + mx + "[" + ip
                            + "]:25: num=62:hostname mismatch");
                    m.add(smtp + "Untrusted TLS connection established to " + mx + "[" + ip
                            + "]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
                    m.add(smtp + qid + ": to=<u@" + domain + ">, relay=" + mx + "[" + ip
                            + "]:25, delay=0.1, delays=0/0/0.1/0, dsn=4.7.5, status=deferred "
                            + "(Server certificate not verified)");
                } else {
                    m.add(smtp + "Verified TLS connection established to " + mx + "[" + ip
                            + "]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
                    m.add(smtp + qid + ": to=<u@" + domain + ">, relay=" + mx + "[" + ip
                            + "]:25, delay=0.2, delays=0.1/0/0.1/0, dsn=2.0.0, status=sent "
                            + "(250 2.0.0 Ok: queued as " + qid + ")");
                    m.add(t + " mail postfix/qmgr[902]: " + qid + ": removed");
                }
                for (String l : m) {
                    w.write(l);
                    w.write('\n');
                }
                written += m.size();
            }
        }
        return written;
    }
}
