package org.tlspolicy.tlsrpt.deliver;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.log.LogValue;
import org.tlspolicy.smtp.Mailbox;
import org.tlspolicy.tlsrpt.report.TlsReport;
import org.tlspolicy.tlsrpt.rua.ReportDestination;
import org.tlspolicy.tlsrpt.rua.TlsrptRecord;
import org.tlspolicy.tlsrpt.store.Delivery;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.ReportStore;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Sends the reports of finished UTC days, exactly once per (day, domain, destination).
 *
 * <p>Each report to each destination is a {@link Delivery} row. An attempt first marks it
 * {@code sending} (committed), then hands the report over, then marks the outcome (committed).
 * Killed in between, the row stays {@code sending}, and the next run sends again: the same
 * report, built again from the same counts, with the same report-id, so the receiver can tell
 * it is not a new one. A row marked {@code sent} is never sent again. Rows of days more than
 * {@code giveUpDays} ago that were never sent are marked {@code expired}; counts and states
 * older than {@code retentionDays} are deleted.
 *
 * <p>In fleet mode several senders share one {@link ReportStore}: each attempt is made under
 * the store's {@linkplain ReportStore#claim claim} of that delivery, so at most one sender
 * sends a given report at a time, and one that finds it settled by another skips it; a day is
 * planned only once every relay's counts of it are in ({@link ReportStore#incomplete}).
 *
 * <p>What a domain's record names is the domain owner's to choose, so it is bounded: at most
 * {@link TlsrptRecord#MAX_DESTINATIONS} distinct destinations, each a valid mailbox or HTTPS
 * endpoint (refusals logged, one line each, naming the domain); the destinations are checked
 * again when read back from the store (a fleet store is shared). Deliveries are attempted one
 * domain at a time in turn (the first of every domain, then the second of every domain, …),
 * and a domain whose attempts in this run took {@link #DOMAIN_BUDGET} in all waits for the
 * next run: a domain with unreachable endpoints cannot hold up the others' reports.
 */
public final class ReportSender {

    private static final Logger log = LoggerFactory.getLogger(ReportSender.class);

    /** Mail settings: envelope and header sender, the MTA, and the DKIM signer if any. */
    public record Mail(Mailbox from, MailSubmission mta, Optional<DkimSigner> dkim) {
    }

    /**
     * Time one domain's delivery attempts may take in one run; what is left waits for the next
     * run (hourly). Two https endpoints that time out (30 s to connect, 60 s in all) fit.
     */
    public static final java.time.Duration DOMAIN_BUDGET = java.time.Duration.ofMinutes(2);

    private final ReportStore store;
    private final RuaLookup rua;
    private final TlsReport.Submitter submitter;
    private final Mail mail;
    private final HttpsPost https;
    private final Supplier<Instant> clock;
    private final int giveUpDays;
    private final int retentionDays;
    private final long pauseAfterDeliveryMillis;
    private final long domainBudgetNanos;

    public ReportSender(ReportStore store, RuaLookup rua, TlsReport.Submitter submitter,
                        Mail mail, HttpsPost https, Supplier<Instant> clock, int giveUpDays,
                        int retentionDays) {
        this(store, rua, submitter, mail, https, clock, giveUpDays, retentionDays,
                DOMAIN_BUDGET);
    }

    /** As above, with another time budget per domain and run than {@link #DOMAIN_BUDGET}. */
    public ReportSender(ReportStore store, RuaLookup rua, TlsReport.Submitter submitter,
                        Mail mail, HttpsPost https, Supplier<Instant> clock, int giveUpDays,
                        int retentionDays, java.time.Duration domainBudget) {
        this.domainBudgetNanos = domainBudget.toNanos();
        if (retentionDays <= giveUpDays) {
            throw new IllegalArgumentException("retention (" + retentionDays + " days) must "
                    + "be longer than the give-up time (" + giveUpDays + " days)");
        }
        this.retentionDays = retentionDays;
        this.store = store;
        this.rua = rua;
        this.submitter = submitter;
        this.mail = mail;
        this.https = https;
        this.clock = clock;
        this.giveUpDays = giveUpDays;
        // Fault injection for the crash tests only: a pause between a report's delivery and
        // its being marked sent, wide enough to kill the process in.
        this.pauseAfterDeliveryMillis = Long.getLong("tlsrpt.sender.pauseAfterDeliveryMillis",
                0);
    }

    /**
     * What a run did, and {@link #why()} it did nothing when it did nothing.
     *
     * @param domainsInWindow  day-domain pairs with sessions on the finished days within the
     *                         give-up window
     * @param plannedBefore    of those, planned by an earlier run
     * @param noRua            of those, domains that publish no TLSRPT record
     * @param ruaFailed        of those, domains whose record could not be looked up now
     * @param olderDomains     day-domain pairs with sessions on days before the window
     * @param todayDomains     domains with sessions today (reported once the day is over)
     */
    public record Summary(int planned, int sent, int retry, int failed, int expired,
                          int domainsInWindow, int plannedBefore, int noRua, int ruaFailed,
                          int olderDomains, int todayDomains, int giveUpDays) {

        /** Why nothing was planned or attempted; empty when something was. */
        public Optional<String> why() {
            if (planned + sent + retry + failed + expired > 0) {
                return Optional.empty();
            }
            if (domainsInWindow == 0) {
                List<String> parts = new java.util.ArrayList<>();
                if (todayDomains > 0) {
                    parts.add("today's are reported once the day is over (UTC)");
                }
                if (olderDomains > 0) {
                    parts.add("those of days older than --give-up-days (" + giveUpDays
                            + ") are not reported any more");
                }
                return Optional.of(parts.isEmpty() ? "no sessions recorded"
                        : "no sessions recorded for the finished days of the last "
                        + giveUpDays + "; " + String.join("; ", parts));
            }
            List<String> parts = new java.util.ArrayList<>();
            if (plannedBefore > 0) {
                parts.add(plannedBefore + " report(s) already planned by an earlier run (sent, "
                        + "given up, or waiting to be retried: see status)");
            }
            if (noRua > 0) {
                parts.add(noRua + " domain(s) publish no TLSRPT record (no rua)");
            }
            if (ruaFailed > 0) {
                parts.add(ruaFailed + " rua lookup(s) failed; the next run tries again");
            }
            return Optional.of(String.join("; ", parts));
        }
    }

    /**
     * Plans the reports of the finished days within the give-up window (discovering each
     * domain's destinations), expires what is too old, and attempts every delivery that is due.
     */
    public Summary run() throws SQLException {
        Instant now = clock.get();
        LocalDate today = now.atZone(ZoneOffset.UTC).toLocalDate();
        store.forgetBefore(today.minusDays(retentionDays));
        int[] tally = new int[5]; // planned, in window, planned before, no rua, rua failed
        List<Delivery> known = store.deliveries();
        for (LocalDate day = today.minusDays(giveUpDays); day.isBefore(today);
             day = day.plusDays(1)) {
            Optional<String> waiting = store.incomplete(day, now);
            if (waiting.isPresent()) {
                log.info("plan day={} waiting=\"{}\"", day, waiting.get());
                continue;
            }
            plan(day, known, tally);
        }
        int older = 0;
        for (LocalDate day = today.minusDays(retentionDays);
             day.isBefore(today.minusDays(giveUpDays)); day = day.plusDays(1)) {
            older += store.domains(day).size();
        }
        int planned = tally[0];
        int expired = 0;
        for (Delivery d : store.deliveries("pending", "sending")) {
            if (d.day().isBefore(today.minusDays(giveUpDays))) {
                store.update(new Delivery(d.day(), d.domain(), d.destination(), d.reportId(),
                        "expired", d.attempts(), d.nextAttempt(), d.lastError()));
                log.warn("deliver day={} domain={} to={} report_id={} outcome=expired "
                        + "attempts={} last_error={}", d.day(), d.domain(),
                        LogValue.of(d.destination()), d.reportId(), d.attempts(),
                        LogValue.quoted(d.lastError()));
                expired++;
            }
        }
        int sent = 0;
        int retry = 0;
        int failed = 0;
        Map<String, Long> spent = new LinkedHashMap<>();
        for (Delivery d : inTurn(store.deliveries("pending", "sending"))) {
            if (d.nextAttempt() > clock.get().toEpochMilli()) {
                continue;
            }
            long used = spent.getOrDefault(d.domain(), 0L);
            if (used >= domainBudgetNanos) {
                log.info("deliver day={} domain={} to={} report_id={} outcome=next-run "
                        + "detail=\"the domain's deliveries took {} s of this run\"", d.day(),
                        d.domain(), LogValue.of(d.destination()), d.reportId(),
                        used / 1_000_000_000L);
                continue;
            }
            Optional<ReportStore.Claim> claim = store.claim(d);
            if (claim.isEmpty()) {
                continue; // another sender of the fleet has it, or has settled it
            }
            long start = System.nanoTime();
            try (ReportStore.Claim c = claim.get()) {
                if (c.delivery().nextAttempt() > clock.get().toEpochMilli()) {
                    continue; // another sender tried it meanwhile
                }
                switch (attempt(c.delivery())) {
                    case "sent" -> sent++;
                    case "failed" -> failed++;
                    default -> retry++;
                }
            } finally {
                spent.merge(d.domain(), System.nanoTime() - start, Long::sum);
            }
        }
        return new Summary(planned, sent, retry, failed, expired, tally[1], tally[2], tally[3],
                tally[4], older, store.domains(today).size(), giveUpDays);
    }

    /**
     * Plans the deliveries of {@code day}'s reports for domains not in {@code known} (planned
     * by an earlier run); counts into {@code tally}: deliveries planned, domains, domains
     * planned before, without rua, whose rua lookup failed.
     */
    private void plan(LocalDate day, List<Delivery> known, int[] tally) throws SQLException {
        for (String domain : store.domains(day)) {
            tally[1]++;
            if (known.stream().anyMatch(d -> d.day().equals(day)
                    && d.domain().equals(domain))) {
                tally[2]++;
                continue; // planned in an earlier run
            }
            Optional<TlsrptRecord> record;
            try {
                record = rua.find(domain);
            } catch (IOException e) {
                log.warn("rua day={} domain={} lookup failed, next run tries again: {}", day,
                        domain, e.getMessage());
                tally[4]++;
                continue;
            }
            String reportId = TlsReport.reportId(submitter, domain, day);
            for (TlsrptRecord.Refused r : record.map(TlsrptRecord::refused).orElse(List.of())) {
                log.warn("rua day={} domain={} refused={} reason={}", day, domain,
                        LogValue.quoted(r.text()), LogValue.quoted(r.reason()));
            }
            if (record.isEmpty() || record.get().rua().isEmpty()) {
                // Remembered, so that DNS is not asked again for this day.
                store.plan(day, domain, "", reportId);
                store.update(new Delivery(day, domain, "", reportId, "no-rua", 0, 0, ""));
                tally[3]++;
                continue;
            }
            for (ReportDestination u : record.get().rua()) {
                store.plan(day, domain, u.uri(), reportId);
                tally[0]++;
            }
        }
    }

    private String attempt(Delivery d) throws SQLException {
        int attempts = d.attempts() + 1;
        store.update(new Delivery(d.day(), d.domain(), d.destination(), d.reportId(),
                "sending", attempts, d.nextAttempt(), d.lastError()));
        List<SessionCount> counts = store.counts(d.day(), d.domain());
        TlsReport report = TlsReport.build(submitter, d.domain(), d.day(), counts);
        DeliveryOutcome outcome;
        try {
            // Checked again: the store may be shared (fleet), and older versions stored more.
            outcome = deliver(report, ReportDestination.parse(d.destination()));
        } catch (IllegalArgumentException e) {
            outcome = new DeliveryOutcome.Permanent("refused destination: " + e.getMessage());
        }
        String state;
        long next = d.nextAttempt();
        String error = "";
        if (outcome instanceof DeliveryOutcome.Delivered) {
            if (pauseAfterDeliveryMillis > 0) {
                try {
                    Thread.sleep(pauseAfterDeliveryMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            state = "sent";
        } else if (outcome instanceof DeliveryOutcome.Permanent p) {
            state = "failed";
            error = p.reason();
        } else {
            state = "pending";
            error = ((DeliveryOutcome.Temporary) outcome).reason();
            // 10 min, 20 min, 40 min … at most 6 h between attempts.
            next = clock.get().toEpochMilli()
                    + Math.min(6 * 3_600_000L, 600_000L << Math.min(attempts - 1, 10));
        }
        store.update(new Delivery(d.day(), d.domain(), d.destination(), d.reportId(), state,
                attempts, next, error));
        String detail = outcome instanceof DeliveryOutcome.Delivered ok ? ok.detail() : error;
        if (state.equals("sent")) {
            log.info("deliver day={} domain={} to={} report_id={} outcome=sent attempts={} "
                    + "detail={}", d.day(), d.domain(), LogValue.of(d.destination()),
                    d.reportId(), attempts, LogValue.quoted(detail));
        } else {
            log.warn("deliver day={} domain={} to={} report_id={} outcome={} attempts={} "
                    + "detail={}", d.day(), d.domain(), LogValue.of(d.destination()),
                    d.reportId(), state.equals("pending") ? "retry" : state, attempts,
                    LogValue.quoted(detail));
        }
        return state;
    }

    private DeliveryOutcome deliver(TlsReport report, ReportDestination destination) {
        if (destination instanceof ReportDestination.Https h) {
            return https.post(h, report.gzip());
        }
        Mailbox to = ((ReportDestination.Mail) destination).to();
        byte[] message = ReportMail.build(report, submitter, mail.from(), to, clock.get());
        if (mail.dkim().isPresent()) {
            try {
                message = mail.dkim().get().sign(message, clock.get());
            } catch (GeneralSecurityException e) {
                return new DeliveryOutcome.Temporary("DKIM signing failed: " + e.getMessage());
            }
        }
        return mail.mta().submit(mail.from(), to, message);
    }

    /**
     * {@code due} reordered so that domains take turns: every domain's first delivery (oldest
     * day first, as the store lists them), then every domain's second, and so on.
     */
    static List<Delivery> inTurn(List<Delivery> due) {
        Map<String, List<Delivery>> byDomain = new LinkedHashMap<>();
        for (Delivery d : due) {
            byDomain.computeIfAbsent(d.domain(), k -> new ArrayList<>()).add(d);
        }
        List<Delivery> out = new ArrayList<>(due.size());
        for (int round = 0; out.size() < due.size(); round++) {
            for (List<Delivery> ds : byDomain.values()) {
                if (round < ds.size()) {
                    out.add(ds.get(round));
                }
            }
        }
        return out;
    }
}
