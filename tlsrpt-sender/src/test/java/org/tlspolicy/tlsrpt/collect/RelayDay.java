package org.tlspolicy.tlsrpt.collect;

import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.TreeMap;

/**
 * A test fixture generator: a day of a busy relay's mail log, as Postfix 3.7 writes it at
 * smtp_tls_loglevel = 1, with the RFC 8460 totals it must give, known by construction. Every
 * message passes a content filter on 127.0.0.1:10024 first and comes back under a new queue
 * ID; some domains are reached through a relayhost; domains have one to three MX hosts, each
 * with its own behaviour (valid, wrong name, expired, no STARTTLS, failed handshake, refusing
 * connections); messages have one to three recipients; messages deferred by every MX are
 * retried later, by whichever SMTP client process is free (often the same one); the lines of
 * concurrent processes interleave.
 */
final class RelayDay {

    /** What an MX host does when Postfix connects. */
    enum Behaviour { VALID, WRONG_NAME, EXPIRED, NO_STARTTLS, HANDSHAKE, REFUSES }

    record Mx(String host, String ip, Behaviour behaviour) {
    }

    record Domain(String name, AppliedPolicy policy, List<Mx> mxs, boolean viaRelayhost) {
    }

    static final String RELAYHOST = "smtp.relay.example";
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss", Locale.ROOT);

    final LocalDate day;
    final List<Domain> domains = new ArrayList<>();
    final List<String> lines = new ArrayList<>();
    /** Expected sessions: domain → result type ("success" or RFC 8460's) → count. */
    final Map<String, Map<String, Long>> expected = new TreeMap<>();

    private final Random r;
    private int queueIds;
    private long sequence;
    /** Lines with their time in milliseconds of the day and an order among equals. */
    private final List<Object[]> timed = new ArrayList<>();

    RelayDay(long seed, LocalDate day, int domainCount, int messages) {
        this.r = new Random(seed);
        this.day = day;
        for (int d = 0; d < domainCount; d++) {
            domains.add(domain(d));
        }
        // Processes are free at these times (ms of the day); a delivery takes the first free.
        PriorityQueue<long[]> processes = new PriorityQueue<>(Comparator.comparingLong(
                (long[] p) -> p[1]).thenComparingLong(p -> p[0]));
        for (int p = 0; p < 6; p++) {
            processes.add(new long[] {2000 + p, 0});
        }
        List<long[]> pending = new ArrayList<>(); // [message index, due time, attempt]
        List<Object[]> messageInfo = new ArrayList<>();
        for (int m = 0; m < messages; m++) {
            long arrival = (long) (r.nextDouble() * 80_000_000L); // within the first ~22 h
            Domain d = domains.get(r.nextInt(domains.size()));
            int recipients = 1 + r.nextInt(3);
            String filtered = queueId();
            String queued = queueId();
            messageInfo.add(new Object[] {d, recipients, queued, arrival});
            // The content filter hand-off: a session with amavis, not with the domain's MX.
            long t = arrival + 100;
            for (int i = 0; i < recipients; i++) {
                line(t, "postfix/smtp", 1000 + (int) (m % 3), filtered + ": to=<user" + i
                        + "@" + d.name() + ">, relay=127.0.0.1[127.0.0.1]:10024, delay=0.3,"
                        + " delays=0.01/0/0/0.3, dsn=2.0.0, status=sent (250 2.0.0 from"
                        + " MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as " + queued
                        + ")");
            }
            line(t + 200, "postfix/qmgr", 900, queued + ": from=<sender" + m
                    + "@relay.example>, size=" + (1000 + r.nextInt(50_000)) + ", nrcpt="
                    + recipients + " (queue active)");
            pending.add(new long[] {m, t + 300, 0});
        }
        pending.sort(Comparator.comparingLong(p -> p[1]));
        // Deliveries in due order; retries join the queue as they come due.
        PriorityQueue<long[]> queue = new PriorityQueue<>(Comparator.comparingLong(
                (long[] p) -> p[1]).thenComparingLong(p -> p[0]));
        queue.addAll(pending);
        while (!queue.isEmpty()) {
            long[] job = queue.poll();
            Object[] info = messageInfo.get((int) job[0]);
            long[] process = processes.poll();
            long start = Math.max(job[1], process[1]);
            long end = deliver((Domain) info[0], (int) info[1], (String) info[2],
                    (long) info[3], start, process[0], (int) job[2], queue, job[0]);
            process[1] = end + 10;
            processes.add(process);
        }
        timed.sort(Comparator.comparingLong((Object[] o) -> (long) o[0])
                .thenComparingLong(o -> (long) o[1]));
        for (Object[] o : timed) {
            lines.add((String) o[2]);
        }
    }

    private Domain domain(int d) {
        String name = "d" + d + ".example";
        int kind = d % 5; // sts, sts, tlsa, none, none
        AppliedPolicy policy = switch (kind) {
            case 0, 1 -> new AppliedPolicy(PolicyType.STS, name, List.of("version: STSv1",
                    "mode: enforce", "mx: *." + name, "max_age: 86400"), List.of("*." + name));
            case 2 -> new AppliedPolicy(PolicyType.TLSA, name, List.of("3 1 1 00"), List.of());
            default -> AppliedPolicy.none(name);
        };
        List<Mx> mxs = new ArrayList<>();
        int count = 1 + r.nextInt(3);
        for (int i = 0; i < count; i++) {
            Behaviour b;
            int roll = r.nextInt(100);
            if (policy.type() == PolicyType.NO_POLICY_FOUND) {
                // Opportunistic TLS: Postfix delivers whatever the certificate says.
                b = roll < 70 ? Behaviour.VALID : roll < 85 ? Behaviour.NO_STARTTLS
                        : roll < 93 ? Behaviour.HANDSHAKE : Behaviour.REFUSES;
            } else {
                b = roll < 55 ? Behaviour.VALID : roll < 65 ? Behaviour.WRONG_NAME
                        : roll < 73 ? Behaviour.EXPIRED : roll < 83 ? Behaviour.NO_STARTTLS
                        : roll < 91 ? Behaviour.HANDSHAKE : Behaviour.REFUSES;
            }
            mxs.add(new Mx("mx" + i + "." + name, "192.0." + (d % 250) + "." + (10 + i), b));
        }
        return new Domain(name, policy, mxs, d % 17 == 16);
    }

    private String queueId() {
        return String.format("%X", 0x4A00000L + ++queueIds);
    }

    private void line(long ms, String program, long pid, String message) {
        LocalDateTime t = day.atStartOfDay().plusNanos(ms * 1_000_000L);
        timed.add(new Object[] {ms, sequence++, TIME.format(t) + " relay " + program + "[" + pid
                + "]: " + message});
    }

    private void expect(Domain d, String result) {
        expected.computeIfAbsent(d.name(), k -> new TreeMap<>()).merge(result, 1L, Long::sum);
    }

    private static String endpoint(Mx mx) {
        return mx.host() + "[" + mx.ip() + "]:25";
    }

    /** One delivery attempt of a message by process {@code pid}; returns when it ended. */
    private long deliver(Domain d, int recipients, String queueId, long arrival, long start,
                         long pid, int attempt, PriorityQueue<long[]> queue, long message) {
        long t = start;
        // delays=a/b/c/d: a (before the queue manager) grows with every retry.
        String delays = String.format(Locale.ROOT, "%.2f/%.2f/%.2f/%.2f",
                (start - arrival) / 1000.0, 0.01 + attempt / 100.0, 0.1, 0.05);
        if (d.viaRelayhost()) {
            t += 50;
            line(t, "postfix/smtp", pid, "Verified TLS connection established to " + RELAYHOST
                    + "[198.51.100.7]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256"
                    + " bits)");
            for (int i = 0; i < recipients; i++) {
                line(t + 20, "postfix/smtp", pid, queueId + ": to=<user" + i + "@" + d.name()
                        + ">, relay=" + RELAYHOST + "[198.51.100.7]:25, delay=1, delays="
                        + delays + ", dsn=2.0.0, status=sent (250 OK)");
            }
            return t + 40;
        }
        boolean enforced = d.policy().type() != PolicyType.NO_POLICY_FOUND;
        for (int h = 0; h < d.mxs().size(); h++) {
            Mx mx = d.mxs().get(h);
            boolean last = h == d.mxs().size() - 1;
            t += 30 + r.nextInt(200);
            String outcome; // the reason if this host is given up, null if delivered
            switch (mx.behaviour()) {
                case REFUSES -> {
                    line(t, "postfix/smtp", pid, "connect to " + endpoint(mx)
                            + ": Connection refused");
                    outcome = "connect to " + endpoint(mx) + ": Connection refused";
                }
                case VALID -> {
                    line(t, "postfix/smtp", pid, (enforced ? "Verified" : "Trusted")
                            + " TLS connection established to " + endpoint(mx)
                            + ": TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
                    expect(d, "success");
                    outcome = null;
                }
                case WRONG_NAME -> {
                    line(t, "postfix/smtp", pid, "server certificate verification failed for "
                            + endpoint(mx) + ": num=62:hostname mismatch");
                    line(t + 1, "postfix/smtp", pid, "Trusted TLS connection established to "
                            + endpoint(mx) + ": TLSv1.3 with cipher TLS_AES_256_GCM_SHA384"
                            + " (256/256 bits)");
                    expect(d, "certificate-host-mismatch");
                    outcome = "Server certificate not verified";
                }
                case EXPIRED -> {
                    line(t, "postfix/smtp", pid, "server certificate verification failed for "
                            + endpoint(mx) + ": certificate has expired");
                    line(t + 1, "postfix/smtp", pid, "Untrusted TLS connection established to "
                            + endpoint(mx) + ": TLSv1.3 with cipher TLS_AES_256_GCM_SHA384"
                            + " (256/256 bits)");
                    expect(d, "certificate-expired");
                    outcome = "Server certificate not trusted";
                }
                case NO_STARTTLS -> {
                    expect(d, "starttls-not-supported");
                    outcome = enforced ? "TLS is required, but was not offered by host "
                            + mx.host() + "[" + mx.ip() + "]" : null; // else: in the clear
                }
                case HANDSHAKE -> {
                    line(t, "postfix/smtp", pid, "SSL_connect error to " + endpoint(mx)
                            + ": lost connection");
                    expect(d, "validation-failure");
                    // Opportunistic TLS tries again in the clear, and delivers.
                    outcome = enforced ? "Cannot start TLS: handshake failure" : null;
                }
                default -> throw new IllegalStateException();
            }
            if (outcome == null) {
                for (int i = 0; i < recipients; i++) {
                    line(t + 20, "postfix/smtp", pid, queueId + ": to=<user" + i + "@"
                            + d.name() + ">, relay=" + endpoint(mx) + ", delay=1, delays="
                            + delays + ", dsn=2.0.0, status=sent (250 2.0.0 Ok)");
                }
                return t + 40;
            }
            if (!last) {
                if (mx.behaviour() != Behaviour.REFUSES) {
                    line(t + 10, "postfix/smtp", pid, queueId + ": " + outcome);
                }
                continue;
            }
            for (int i = 0; i < recipients; i++) {
                String relay = mx.behaviour() == Behaviour.REFUSES ? "none" : endpoint(mx);
                line(t + 20, "postfix/smtp", pid, queueId + ": to=<user" + i + "@" + d.name()
                        + ">, relay=" + relay + ", delay=1, delays=" + delays
                        + ", dsn=4.7.5, status=deferred (" + outcome + ")");
            }
            if (attempt < 2 && t + 900_000 < 86_000_000L) {
                queue.add(new long[] {message, t + 300_000 + r.nextInt(600_000), attempt + 1});
            }
            return t + 40;
        }
        throw new IllegalStateException("no MX");
    }

    /** The policy of each domain, as tlspolicyd would tell it. */
    Map<String, AppliedPolicy> policies() {
        Map<String, AppliedPolicy> m = new LinkedHashMap<>();
        domains.forEach(d -> m.put(d.name(), d.policy()));
        return m;
    }

    /** For the test output: lines and domains. */
    @Override
    public String toString() {
        return lines.size() + " lines, " + domains.size() + " domains";
    }
}
