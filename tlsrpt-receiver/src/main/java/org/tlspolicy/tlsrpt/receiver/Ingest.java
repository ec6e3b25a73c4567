package org.tlspolicy.tlsrpt.receiver;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.dkim.DkimVerifier;
import org.tlspolicy.log.LogValue;
import org.tlspolicy.tlsrpt.received.ReceivedReport;
import org.tlspolicy.tlsrpt.received.ReportJson;
import org.tlspolicy.tlsrpt.received.ReportLimits;
import org.tlspolicy.tlsrpt.received.ReportMessage;
import org.tlspolicy.tlsrpt.received.ReportRejected;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Takes in one report, by mail or HTTPS: read it (bounded), verify the mail's DKIM signature,
 * store it once. A report that cannot be read is refused with one log line and kept whole in the
 * quarantine; a report already stored (the same mail twice, or by mail and by HTTPS) is a
 * duplicate. Store writes are not committed here: the caller commits, per mail or per batch,
 * and only then lets go of the input (a Maildir file, Postfix's pipe), so nothing is lost and
 * nothing is half stored.
 */
public final class Ingest {

    private static final Logger log = LoggerFactory.getLogger(Ingest.class);

    /** What one input came to. */
    public sealed interface Outcome {
        /** The word printed for Postfix's pipe and logged: stored, duplicate or rejected. */
        String word();

        /** The report-id, or "" when none could be read. */
        String reportId();

        record Stored(String reportId, String organization) implements Outcome {
            @Override
            public String word() {
                return "stored";
            }
        }

        record Duplicate(String reportId, String organization) implements Outcome {
            @Override
            public String word() {
                return "duplicate";
            }
        }

        record Rejected(String reason, Path quarantined) implements Outcome {
            @Override
            public String word() {
                return "rejected";
            }

            @Override
            public String reportId() {
                return "";
            }
        }
    }

    /** The largest mail read (a report mail is tens of kilobytes). */
    public static final int MAX_MAIL = 8 << 20;

    private final ReceivedStore store;
    private final ReportJson json;
    private final ReportLimits limits;
    private final DkimVerifier dkim;
    private final Quarantine quarantine;
    private final Supplier<Instant> clock;

    public Ingest(ReceivedStore store, ReportLimits limits, DkimVerifier dkim,
                  Quarantine quarantine, Supplier<Instant> clock) {
        this.store = store;
        this.json = new ReportJson(limits);
        this.limits = limits;
        this.dkim = dkim;
        this.quarantine = quarantine;
        this.clock = clock;
    }

    /** A mail read, verified and judged, not yet stored: what {@link #take} stores. */
    public sealed interface Prepared {
        /** A report, the bytes to keep of it, and the mail's DKIM result. */
        record Report(ReceivedReport report, byte[] raw, DkimVerifier.Result signed)
                implements Prepared {
        }

        /** A mail refused, whole, with why. */
        record Refused(byte[] raw, String reason) implements Prepared {
        }
    }

    /**
     * One mail, as Postfix's pipe(8) or a Maildir hands it over.
     *
     * @throws SQLException when the store cannot take it (the caller retries later)
     * @throws IOException  when a refused mail cannot be put in the quarantine
     */
    public Outcome mail(byte[] raw) throws SQLException, IOException {
        return take(prepare(raw));
    }

    /**
     * Reads, bounds, parses and DKIM-verifies one mail: everything but storing it, so that
     * several mails can be prepared at once (a Maildir's batch; safe from any thread).
     */
    public Prepared prepare(byte[] raw) {
        if (raw.length > MAX_MAIL) {
            return new Prepared.Refused(raw, "mail of " + raw.length + " bytes is over "
                    + MAX_MAIL);
        }
        ReportMessage message;
        ReceivedReport report;
        try {
            message = ReportMessage.read(raw, limits.maxCompressed());
            report = json.parse(message.report());
        } catch (ReportRejected e) {
            return new Prepared.Refused(raw, e.getMessage());
        }
        return new Prepared.Report(report, message.report(), dkim.verify(raw));
    }

    /** Stores a prepared mail (or quarantines it); one thread at a time, as the store. */
    public Outcome take(Prepared p) throws SQLException, IOException {
        if (p instanceof Prepared.Refused r) {
            return reject(r.raw(), r.reason());
        }
        Prepared.Report r = (Prepared.Report) p;
        return store(r.report(), r.raw(), "mail", r.signed());
    }

    /** One HTTPS POST's body (RFC 8460 §5.4). */
    public Outcome https(byte[] body) throws SQLException, IOException {
        ReceivedReport report;
        try {
            report = json.parse(body);
        } catch (ReportRejected e) {
            return reject(body, e.getMessage());
        }
        return store(report, body, "https", new DkimVerifier.Result.None());
    }

    private Outcome store(ReceivedReport report, byte[] raw, String source,
                          DkimVerifier.Result signed) throws SQLException {
        ReceivedStore.Stored s = store.store(report, raw, source, signed.word(),
                signed.domain(), clock.get());
        Outcome o = s == ReceivedStore.Stored.STORED
                ? new Outcome.Stored(report.reportId(), report.organization())
                : new Outcome.Duplicate(report.reportId(), report.organization());
        store.count(o.word(), 1);
        log.info("ingest outcome={} source={} organization={} report_id={} domains={} dkim={}"
                        + "{}", o.word(), source, LogValue.of(report.organization()),
                LogValue.of(report.reportId()), report.policies().stream()
                        .map(ReceivedReport.Policy::domain).distinct()
                        .collect(Collectors.joining(",")), signed.word(),
                signed.domain().isEmpty() ? "" : " d=" + LogValue.of(signed.domain()));
        return o;
    }

    private Outcome reject(byte[] raw, String reason) throws IOException, SQLException {
        Path file = quarantine.keep(raw, reason, clock.get());
        store.count("rejected", 1);
        log.warn("ingest outcome=rejected reason={} quarantined={}", LogValue.quoted(reason),
                file);
        return new Outcome.Rejected(reason, file);
    }
}
