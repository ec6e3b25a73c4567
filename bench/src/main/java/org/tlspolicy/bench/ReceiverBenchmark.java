package org.tlspolicy.bench;

import org.tlspolicy.dkim.DkimVerifier;
import org.tlspolicy.smtp.Mailbox;
import org.tlspolicy.tlsrpt.deliver.DkimSigner;
import org.tlspolicy.tlsrpt.deliver.ReportMail;
import org.tlspolicy.tlsrpt.received.ReceivedReport;
import org.tlspolicy.tlsrpt.received.ReportLimits;
import org.tlspolicy.tlsrpt.receiver.Ingest;
import org.tlspolicy.tlsrpt.receiver.Maildir;
import org.tlspolicy.tlsrpt.receiver.Quarantine;
import org.tlspolicy.tlsrpt.receiver.ReceivedStore;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.report.TlsReport;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.summary.ReceivedSummary;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * tlsrpt-receiver's two figures of issue 31:
 *
 * <ul>
 *   <li>{@code ingest [MAILS]}: report mails taken from a Maildir per second, by the code
 *       {@code ingest --maildir} runs ({@link Maildir#takeAll}: read, MIME walk, gunzip,
 *       parse, DKIM verify, store in SQLite, mark seen), each mail a report tlsrpt-sender
 *       made and DKIM-signed (RSA 2048, as the large reporters sign). Reference, in the same
 *       run: reading the same files and nothing else, the ceiling for anything that takes
 *       every mail. Median of 3 rounds, each into a new store from a fresh copy of the
 *       Maildir. Goal: 2,000 mails/s on 2 cores. parsedmarc, the usual tool, is not packaged
 *       in Debian 12 or 13: not measured.</li>
 *   <li>{@code summary [REPORTS]}: the time of {@code summary} (every domain, a year) and of
 *       {@code summary DOMAIN} and the rollout's failure query over a store of REPORTS
 *       reports (default 1,000,000: a year of a large provider's reports), each one policy,
 *       one in ten with a failure group, 50 reporters, 20 domains, 365 days. Median of 3
 *       runs after one warm-up. Goal: 2 s.</li>
 * </ul>
 *
 * <p>Usage: {@code java -cp bench/target/tlspolicy-bench.jar
 * org.tlspolicy.bench.ReceiverBenchmark ingest|summary [N] [DIR]}.
 */
public final class ReceiverBenchmark {

    private ReceiverBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String what = args.length > 0 ? args[0] : "ingest";
        Path dir = args.length > 2 ? Path.of(args[2]) : Files.createTempDirectory("receiver");
        if (what.equals("ingest")) {
            ingest(args.length > 1 ? Integer.parseInt(args[1]) : 20_000, dir);
        } else {
            summary(args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000, dir);
        }
    }

    static void ingest(int mails, Path dir) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair key = g.generateKeyPair();
        String record = "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(
                key.getPublic().getEncoded());
        Path source = Files.createDirectories(dir.resolve("source"));
        Instant now = Instant.now();
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        long bytes = 0;
        for (int i = 0; i < mails; i++) {
            String org = "reporter" + (i % 50);
            TlsReport.Submitter submitter = new TlsReport.Submitter(org, "mailto:tlsrpt@"
                    + org + ".test", org + ".test", "192.0.2." + (i % 250));
            String domain = "d" + (i % 400) + ".example.test";
            // 400 reporter and domain pairs, a day each per 400 mails: every report-id new.
            LocalDate day = today.minusDays(1 + i / 400);
            AppliedPolicy p = new AppliedPolicy(PolicyType.STS, domain, List.of(
                    "version: STSv1", "mode: testing", "mx: mx." + domain, "max_age: 86400"),
                    List.of("mx." + domain));
            List<SessionCount> counts = new ArrayList<>(List.of(new SessionCount(day, p,
                    new SessionResult.Success(), "", "", 1000 + i)));
            if (i % 10 == 0) {
                counts.add(new SessionCount(day, p, new SessionResult.Failure(
                        ResultType.CERTIFICATE_EXPIRED, "certificate has expired"),
                        "mx." + domain, "198.51.100." + (i % 200), 3));
            }
            TlsReport r = TlsReport.build(submitter, domain, day, counts);
            byte[] mail = new DkimSigner(org + ".test", "sel", key.getPrivate()).sign(
                    ReportMail.build(r, submitter, Mailbox.parse("tlsrpt@" + org + ".test"),
                            Mailbox.parse("tlsrpt@" + domain), now), now);
            bytes += mail.length;
            Files.write(source.resolve(String.format(Locale.ROOT, "%d.%08d.bench", 1_700_000_000L,
                    i)), mail);
        }
        System.out.printf(Locale.ROOT, "%d mails, %.1f KiB on average%n", mails,
                bytes / 1024.0 / mails);
        DkimVerifier dkim = new DkimVerifier((selector, domain) -> Optional.of(record));
        double[] rates = new double[3];
        double[] ceilings = new double[3];
        for (int round = 0; round < 3; round++) {
            Path maildir = dir.resolve("round" + round);
            copy(source, maildir);
            long start = System.nanoTime();
            try (Stream<Path> files = Files.list(maildir.resolve("new"))) {
                for (Path f : files.toList()) {
                    Files.readAllBytes(f);
                }
            }
            ceilings[round] = mails / seconds(start);
            try (ReceivedStore store = ReceivedStore.sqlite(dir.resolve("round" + round
                    + ".db"))) {
                Ingest ingest = new Ingest(store, ReportLimits.DEFAULT, dkim,
                        new Quarantine(dir.resolve("quarantine")), Instant::now);
                start = System.nanoTime();
                Maildir.Tally t = new Maildir(maildir).takeAll(ingest, store);
                rates[round] = mails / seconds(start);
                if (t.stored() != mails) {
                    throw new IllegalStateException("stored " + t + " of " + mails);
                }
            }
            System.out.printf(Locale.ROOT, "round %d: ingest %,.0f mails/s, reading only "
                    + "%,.0f mails/s%n", round + 1, rates[round], ceilings[round]);
        }
        double rate = median(rates);
        double ceiling = median(ceilings);
        System.out.printf(Locale.ROOT, "ingest: %,.0f mails/s (median of 3); reading only "
                + "%,.0f mails/s: %.0f%% of it; goal 2,000 mails/s: %s%n", rate, ceiling,
                100 * rate / ceiling, rate >= 2000 ? "met" : "NOT met");
    }

    static void summary(int reports, Path dir) throws Exception {
        Path db = dir.resolve("summary.db");
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        long fill = System.nanoTime();
        try (ReceivedStore store = ReceivedStore.sqlite(db)) {
            byte[] raw = "{}".getBytes();
            for (int i = 0; i < reports; i++) {
                String org = "reporter" + (i % 50);
                String domain = "d" + (i % 20) + ".example.test";
                Instant start = today.minusDays(1 + (i % 365)).atStartOfDay()
                        .toInstant(ZoneOffset.UTC);
                List<ReceivedReport.Failure> failures = i % 10 == 0 ? List.of(
                        new ReceivedReport.Failure("certificate-expired", "198.51.100."
                                + (i % 200), "mx." + domain, "", "", 3, "", "")) : List.of();
                store.store(new ReceivedReport(org, "report-" + i, start,
                        start.plusSeconds(86_399), "", List.of(new ReceivedReport.Policy(
                        "sts", domain, List.of(), List.of("mx." + domain), 1000, failures.isEmpty()
                        ? 0 : 3, failures))), raw, "mail", i % 2 == 0 ? "pass" : "none",
                        org + ".test", start.plusSeconds(7200));
                if (i % 10_000 == 9_999) {
                    store.commit();
                }
            }
            store.commit();
        }
        System.out.printf(Locale.ROOT, "%,d reports stored in %.0f s (%.1f MiB)%n", reports,
                seconds(fill), Files.size(db) / 1048576.0);
        LocalDate since = today.minusDays(365);
        try (ReceivedStore store = ReceivedStore.sqlite(db)) {
            measure("summary (every domain, a year)", () -> {
                List<ReceivedSummary.Domain> all = ReceivedSummary.of(store.connection(), since,
                        Optional.empty());
                long sum = all.stream().mapToLong(d -> d.total().successful()).sum();
                if (sum != 1000L * reports) {
                    throw new IllegalStateException("successful " + sum);
                }
            });
            measure("summary d7.example.test (a year)", () -> ReceivedSummary.of(
                    store.connection(), since, Optional.of("d7.example.test")));
            measure("rollout's failures of d7.example.test (90 days)", () ->
                    ReceivedSummary.failures(store.connection(), today.minusDays(90),
                            "d7.example.test"));
        }
    }

    interface Step {
        void run() throws Exception;
    }

    static void measure(String what, Step step) throws Exception {
        step.run(); // warm-up
        double[] times = new double[3];
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            step.run();
            times[i] = seconds(start);
        }
        double t = median(times);
        System.out.printf(Locale.ROOT, "%s: %.2f s (median of 3; runs %s); goal 2 s: %s%n",
                what, t, Arrays.toString(Arrays.stream(times).map(x -> Math.round(x * 100)
                        / 100.0).toArray()), t <= 2 ? "met" : "NOT met");
    }

    private static void copy(Path from, Path maildir) throws Exception {
        for (String sub : List.of("tmp", "new", "cur")) {
            Files.createDirectories(maildir.resolve(sub));
        }
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, maildir.resolve("new").resolve(f.getFileName()));
            }
        }
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
