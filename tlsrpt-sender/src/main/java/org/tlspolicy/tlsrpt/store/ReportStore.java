package org.tlspolicy.tlsrpt.store;

import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;

/**
 * What the report sender reads and records: the session counts of a day, and the state of
 * each report's delivery. A single relay's is its {@link SessionStore}; a fleet's is the
 * shared PostgreSQL database ({@code org.tlspolicy.tlsrpt.fleet.FleetStore}), where several
 * senders may run at once.
 */
public interface ReportStore extends AutoCloseable {

    /** The report tables this store keeps (session counts, deliveries). */
    ReportTables tables();

    /** Every count of {@code day}, for one report domain or (null) all. */
    default List<SessionCount> counts(LocalDate day, String domain) throws SQLException {
        return tables().counts(day, domain);
    }

    /** The report domains with sessions on {@code day}. */
    default List<String> domains(LocalDate day) throws SQLException {
        return tables().domains(day);
    }

    /** Deletes counts and delivery states of days before {@code first}; count rows deleted. */
    default int forgetBefore(LocalDate first) throws SQLException {
        return tables().forgetBefore(first);
    }

    /** Records that a report is due to {@code destination}, unless already known. */
    default void plan(LocalDate day, String domain, String destination, String reportId)
            throws SQLException {
        tables().plan(day, domain, destination, reportId);
    }

    /** Sets a delivery's state, committed before this returns. */
    default void update(Delivery d) throws SQLException {
        tables().update(d);
    }

    /** Deliveries in {@code states} (all if none given), oldest day first. */
    default List<Delivery> deliveries(String... states) throws SQLException {
        return tables().deliveries(states);
    }

    /**
     * The right to attempt {@code d} now, with its state as it is now; empty when another
     * sender holds it or it was settled meanwhile (sent, failed, expired). Held until closed;
     * a sender that dies holding it loses it.
     */
    Optional<Claim> claim(Delivery d) throws SQLException;

    /**
     * Why the reports of {@code day} must wait at {@code now}: sessions that are counted but
     * not yet in this store (a fleet relay that has not forwarded past the day's end). Empty:
     * they may be built.
     */
    Optional<String> incomplete(LocalDate day, Instant now) throws SQLException;

    /** A held right to attempt one delivery. */
    interface Claim extends AutoCloseable {
        /** The delivery as it was when claimed. */
        Delivery delivery();

        @Override
        void close() throws SQLException;
    }

    @Override
    void close() throws SQLException;
}
