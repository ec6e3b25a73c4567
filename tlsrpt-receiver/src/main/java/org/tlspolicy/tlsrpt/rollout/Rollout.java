package org.tlspolicy.tlsrpt.rollout;

import org.tlspolicy.tlsrpt.summary.ReceivedSummary;
import org.tlspolicy.tlsrpt.summary.ReceivedSummary.FailureGroup;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Decides between MTA-STS testing and enforce (RFC 8461 §5) from what the domain serves now
 * (the audit) and what senders reported (the stored reports), the way an operator would:
 *
 * <ul>
 *   <li>no policy published: start ({@code tlsrpt-receiver publish});</li>
 *   <li>testing: enforce once the audit has no failure, and the last {@code cleanDays} days
 *       that have reports show no failure on the domain's side or of unknown side ({@link
 *       Blame}), seen by at least {@code reporters} organizations; otherwise stay, saying
 *       what blocks;</li>
 *   <li>enforce: a failure on the domain's side on the last two report days, or an audit
 *       failure now, means back to testing with a new id at once (senders that cached the
 *       enforced policy keep it until they see a new id); with twice {@code cleanDays} clean
 *       days, raise {@code max_age} to a week, with five times to four weeks.</li>
 * </ul>
 *
 * Counting days with reports rather than calendar days: a domain that gets few reports takes
 * longer to prove itself, as it should.
 */
public final class Rollout {

    /** What the rollout is run with. */
    public record Settings(int cleanDays, int reporters) {
        public static final Settings DEFAULT = new Settings(7, 2);

        public Settings {
            if (cleanDays < 1 || reporters < 1) {
                throw new IllegalArgumentException("--clean-days and --reporters are 1 or more");
            }
        }
    }

    /** One week: the first max_age advised once enforced (RFC 8461 §3.2 suggests weeks). */
    static final long WEEK = 604_800L;

    /** Four weeks: the max_age advised after a month enforced without failure. */
    static final long FOUR_WEEKS = 2_419_200L;

    /** A day: the max_age while testing, so that a change reaches senders soon. */
    static final long DAY = 86_400L;

    private static final DateTimeFormatter ID = DateTimeFormatter.ofPattern("yyyyMMddHHmmss")
            .withZone(ZoneOffset.UTC);

    private Rollout() {
    }

    /** A policy id from a time: UTC yyyyMMddHHmmss (RFC 8461 §3.1: 1-32 alphanumerics). */
    public static String id(Instant t) {
        return ID.format(t);
    }

    /**
     * The advice for {@code audit.domain()} from {@code days} (the summary's days of the
     * domain, oldest first) and {@code failures} over the same window, at {@code now}.
     */
    public static Advice decide(AuditView audit, List<ReceivedSummary.Day> days,
                                List<FailureGroup> failures, Settings s, Instant now) {
        String domain = audit.domain();
        List<String> reasons = new ArrayList<>();
        if (audit.policy().isEmpty()) {
            reasons.add("no MTA-STS policy is served (audit: " + audit.failures().stream()
                    .filter(f -> f.check().startsWith("mta-sts")).map(AuditView.Finding::found)
                    .findFirst().orElse("no _mta-sts record") + ")");
            reasons.add("start with: tlsrpt-receiver publish " + domain);
            return new Advice(domain, Advice.Action.PUBLISH, reasons, Optional.empty());
        }
        AuditView.Policy policy = audit.policy().get();
        List<AuditView.Finding> auditFailures = audit.failures();
        // Each day's verdicts: which failures block.
        List<LocalDate> blockedDays = new ArrayList<>();
        List<Blame.Verdict> blocking = new ArrayList<>();
        List<Blame.Verdict> senderSide = new ArrayList<>();
        for (Blame.Verdict v : Blame.judge(failures, audit)) {
            if (v.side() == Blame.Side.SENDER) {
                senderSide.add(v);
            } else {
                blocking.add(v);
            }
        }
        Set<String> blockingKinds = blocking.stream().map(v -> v.resultType() + "\u0000"
                + v.receivingMx()).collect(Collectors.toSet());
        for (FailureGroup g : failures) {
            if (blockingKinds.contains(g.resultType() + "\u0000" + g.receivingMx())) {
                blockedDays.add(g.day());
            }
        }
        LocalDate lastBlocked = blockedDays.stream().max(LocalDate::compareTo).orElse(null);
        List<ReceivedSummary.Day> clean = days.stream().filter(d -> lastBlocked == null
                || d.day().isAfter(lastBlocked)).toList();
        Set<String> cleanReporters = new TreeSet<>();
        clean.forEach(d -> cleanReporters.addAll(d.byOrganization().keySet()));
        for (Blame.Verdict v : blocking) {
            reasons.add((v.side() == Blame.Side.DOMAIN ? "your side: " : "unexplained: ")
                    + v.sessions() + " failed session" + (v.sessions() == 1 ? "" : "s") + " "
                    + v.resultType() + (v.receivingMx().isEmpty() ? "" : " on "
                    + v.receivingMx()) + ", reported by " + String.join(", ",
                    v.organizations()) + " (" + v.why() + ")");
        }
        for (Blame.Verdict v : senderSide) {
            reasons.add("sender's side, not blocking: " + v.sessions() + " " + v.resultType()
                    + (v.receivingMx().isEmpty() ? "" : " on " + v.receivingMx())
                    + " reported by " + String.join(", ", v.organizations()) + " (" + v.why()
                    + ")");
        }
        for (AuditView.Finding f : auditFailures) {
            reasons.add("audit fails now: " + f.check() + " " + f.subject() + ": " + f.found()
                    + (f.advice().isEmpty() ? "" : " -> " + f.advice()));
        }
        String cleanText = clean.size() + " clean day" + (clean.size() == 1 ? "" : "s")
                + " with reports" + (lastBlocked == null ? "" : " since " + lastBlocked)
                + ", from " + cleanReporters.size() + " reporter" + (cleanReporters.size() == 1
                ? "" : "s") + (cleanReporters.isEmpty() ? "" : " (" + String.join(", ",
                cleanReporters) + ")");
        boolean recentBlock = lastBlocked != null && !days.isEmpty() && days.stream()
                .map(ReceivedSummary.Day::day).sorted(java.util.Comparator.reverseOrder())
                .limit(2).anyMatch(d -> !d.isAfter(lastBlocked));
        String mode = policy.mode();
        if (mode.equals("enforce")) {
            if (!auditFailures.isEmpty() || recentBlock) {
                reasons.add(0, "enforced, and mail to the domain fails on its side now: back "
                        + "to testing at once, with a new id so that senders fetch it");
                return new Advice(domain, Advice.Action.ROLLBACK, reasons, Optional.of(
                        new Advice.Change(id(now), "testing", DAY, policy.mx())));
            }
            reasons.add(0, "enforced; " + cleanText);
            // The clean days counted include those still in testing: a raise waits for twice
            // (and five times) the days it took to enforce.
            if (clean.size() >= 5 * s.cleanDays() && policy.maxAge() < FOUR_WEEKS) {
                return new Advice(domain, Advice.Action.RAISE_MAX_AGE, reasons, Optional.of(
                        new Advice.Change(id(now), "enforce", FOUR_WEEKS, policy.mx())));
            }
            if (clean.size() >= 2 * s.cleanDays() && policy.maxAge() < WEEK) {
                return new Advice(domain, Advice.Action.RAISE_MAX_AGE, reasons, Optional.of(
                        new Advice.Change(id(now), "enforce", WEEK, policy.mx())));
            }
            return new Advice(domain, Advice.Action.STAY_ENFORCE, reasons, Optional.empty());
        }
        if (!mode.equals("testing")) {
            reasons.add(0, "mode " + mode + ": the policy is withdrawn; publish a testing "
                    + "policy to start again (tlsrpt-receiver publish " + domain + ")");
            return new Advice(domain, Advice.Action.PUBLISH, reasons, Optional.empty());
        }
        List<String> missing = new ArrayList<>();
        if (!auditFailures.isEmpty()) {
            missing.add("the audit fails now: fix that first");
        }
        if (clean.size() < s.cleanDays()) {
            missing.add(clean.size() + " of " + s.cleanDays() + " clean days with reports");
        }
        if (cleanReporters.size() < s.reporters()) {
            missing.add(cleanReporters.size() + " of " + s.reporters() + " reporters");
        }
        if (!missing.isEmpty()) {
            reasons.add(0, "stay in testing: " + String.join("; ", missing) + " (" + cleanText
                    + ")");
            return new Advice(domain, Advice.Action.STAY_TESTING, reasons, Optional.empty());
        }
        reasons.add(0, "ready: " + cleanText + ", and the audit finds nothing failing");
        reasons.add("enforce with max_age " + DAY + " first: rollout advises raising it once "
                + "enforced days are clean too");
        return new Advice(domain, Advice.Action.ENFORCE, reasons, Optional.of(
                new Advice.Change(id(now), "enforce", Math.min(DAY, policy.maxAge() == 0
                        ? DAY : policy.maxAge()), policy.mx())));
    }
}
