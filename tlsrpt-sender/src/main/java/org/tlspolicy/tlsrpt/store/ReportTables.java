package org.tlspolicy.tlsrpt.store;

import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The report tables, {@code session_count} and {@code delivery}, read and written in the SQL
 * that SQLite (a relay's {@link SessionStore}) and PostgreSQL (the fleet's store) both speak:
 * the same columns, days as ISO text ({@code 2026-11-28}; PostgreSQL's connection casts them,
 * {@code stringtype=unspecified}). Every call commits (or rolls back) before it returns.
 */
public final class ReportTables {

    private final Connection db;

    /** @param db a connection with autocommit off */
    public ReportTables(Connection db) {
        this.db = db;
    }

    /** Every count of {@code day}, for one report domain or (null) all. */
    public List<SessionCount> counts(LocalDate day, String domain) throws SQLException {
        List<SessionCount> out = new ArrayList<>();
        // Two statements, so that the one for a domain uses the primary key's (day, domain)
        // prefix instead of scanning the day (10,000 reports would scan it 10,000 times).
        String select = """
                SELECT day, report_domain, policy_domain, policy_type, policy_strings,
                       mx_patterns, result, reason_code, additional_info, sending_ip, mx_host,
                       mx_helo, mx_ip, count
                FROM session_count WHERE day = ?""";
        String order = """
                ORDER BY report_domain, policy_domain, policy_type, policy_strings, result,
                         mx_host, mx_ip, sending_ip, mx_helo, reason_code, additional_info""";
        try (PreparedStatement q = db.prepareStatement(select
                + (domain == null ? "" : " AND report_domain = ?") + " " + order)) {
            q.setString(1, day.toString());
            if (domain != null) {
                q.setString(2, domain);
            }
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    out.add(count(r, 1));
                }
            }
            db.commit();
        }
        return out;
    }

    /**
     * The count of the row at {@code r}, whose day is column {@code from} and the other
     * columns follow in the table's order (report domain … count).
     */
    public static SessionCount count(ResultSet r, int from) throws SQLException {
        AppliedPolicy policy = new AppliedPolicy(PolicyType.fromToken(r.getString(from + 3)),
                r.getString(from + 2), lines(r.getString(from + 4)),
                lines(r.getString(from + 5)));
        String result = r.getString(from + 6);
        SessionResult sr = result.equals("success") ? new SessionResult.Success()
                : new SessionResult.Failure(ResultType.fromToken(result), r.getString(from + 7),
                        r.getString(from + 8));
        return new SessionCount(LocalDate.parse(r.getString(from)), r.getString(from + 1),
                policy, sr, r.getString(from + 9), r.getString(from + 10),
                r.getString(from + 11), r.getString(from + 12), r.getLong(from + 13));
    }

    /** The report domains with sessions on {@code day}. */
    public List<String> domains(LocalDate day) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement(
                "SELECT DISTINCT report_domain FROM session_count WHERE day = ? ORDER BY 1")) {
            q.setString(1, day.toString());
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    out.add(r.getString(1));
                }
            }
            db.commit();
        }
        return out;
    }

    /**
     * Deletes counts and delivery states of days before {@code first} (bounded retention);
     * returns how many count rows went.
     */
    public int forgetBefore(LocalDate first) throws SQLException {
        try (PreparedStatement d = db.prepareStatement(
                "DELETE FROM session_count WHERE day < ?");
             PreparedStatement del = db.prepareStatement("DELETE FROM delivery WHERE day < ?")) {
            d.setString(1, first.toString());
            int n = d.executeUpdate();
            del.setString(1, first.toString());
            del.executeUpdate();
            db.commit();
            return n;
        } catch (SQLException e) {
            db.rollback();
            throw e;
        }
    }

    /** Records that {@code d}'s report is due to {@code destination}, unless already known. */
    public void plan(LocalDate day, String domain, String destination, String reportId)
            throws SQLException {
        try (PreparedStatement i = db.prepareStatement("""
                INSERT INTO delivery VALUES (?, ?, ?, ?, 'pending', 0, 0, '')
                ON CONFLICT DO NOTHING""")) {
            i.setString(1, day.toString());
            i.setString(2, domain);
            i.setString(3, destination);
            i.setString(4, reportId);
            i.executeUpdate();
            db.commit();
        } catch (SQLException e) {
            db.rollback();
            throw e;
        }
    }

    /** Sets a delivery's state, committed before this returns. */
    public void update(Delivery d) throws SQLException {
        try (PreparedStatement u = db.prepareStatement("""
                UPDATE delivery SET state = ?, attempts = ?, next_attempt = ?, last_error = ?
                WHERE day = ? AND domain = ? AND destination = ?""")) {
            u.setString(1, d.state());
            u.setInt(2, d.attempts());
            u.setLong(3, d.nextAttempt());
            u.setString(4, d.lastError());
            u.setString(5, d.day().toString());
            u.setString(6, d.domain());
            u.setString(7, d.destination());
            if (u.executeUpdate() != 1) {
                throw new SQLException("no delivery " + d);
            }
            db.commit();
        } catch (SQLException e) {
            db.rollback();
            throw e;
        }
    }

    /** Deliveries in {@code states} (all if none given), oldest day first. */
    public List<Delivery> deliveries(String... states) throws SQLException {
        List<Delivery> out = new ArrayList<>();
        List<String> wanted = Arrays.asList(states);
        try (PreparedStatement q = db.prepareStatement("""
                SELECT day, domain, destination, report_id, state, attempts, next_attempt,
                       last_error
                FROM delivery ORDER BY day, domain, destination""");
             ResultSet r = q.executeQuery()) {
            while (r.next()) {
                Delivery d = delivery(r);
                if (wanted.isEmpty() || wanted.contains(d.state())) {
                    out.add(d);
                }
            }
        }
        db.commit();
        return out;
    }

    /** The delivery at {@code r}, selected as {@link #deliveries} selects it. */
    public static Delivery delivery(ResultSet r) throws SQLException {
        return new Delivery(LocalDate.parse(r.getString(1)), r.getString(2), r.getString(3),
                r.getString(4), r.getString(5), r.getInt(6), r.getLong(7), r.getString(8));
    }

    private static List<String> lines(String s) {
        return s.isEmpty() ? List.of() : Arrays.asList(s.split("\n", -1));
    }
}
