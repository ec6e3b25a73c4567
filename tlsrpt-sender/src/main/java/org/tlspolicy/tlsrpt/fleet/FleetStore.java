package org.tlspolicy.tlsrpt.fleet;

import org.tlspolicy.postgres.PostgresTarget;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.Delivery;
import org.tlspolicy.tlsrpt.store.ReportStore;
import org.tlspolicy.tlsrpt.store.ReportTables;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The fleet's TLS-RPT store in PostgreSQL: every relay's session counts, summed, and the
 * state of every report's delivery, for the senders of the fleet.
 *
 * <ul>
 *   <li>Counts arrive from each relay's outbox ({@link #forward}), exactly once: in one
 *       transaction the rows above the relay's {@code last_seq} are added and {@code last_seq}
 *       moves past them, so a batch sent again (the relay died, or lost the connection, after
 *       the commit and before it dropped the batch) adds nothing.</li>
 *   <li>A relay is known by its name and its local store's id, so a reinstalled relay, whose
 *       sequence starts again, is a new one.</li>
 *   <li>A day's reports wait until every relay seen in the last week has forwarded everything
 *       it counted up to {@value #LAG_MINUTES} minutes past the day's end ({@link
 *       #incomplete}), for at most {@value #WAIT_HOURS} hours: a relay that is down does not
 *       hold the fleet's reports back for longer.</li>
 *   <li>A sender attempts a delivery under a session-level advisory lock of it ({@link
 *       #claim}): a second sender skips it, and takes it over if the first dies (its
 *       connection, and so its lock, goes with it).</li>
 * </ul>
 *
 * One connection, one thread: the collector's forwarder and a report run each open their own.
 */
public final class FleetStore implements ReportStore {

    /** Counts collected this long after a day's end still belong in its report. */
    static final int LAG_MINUTES = 5;

    /** A day's reports wait this long past its end, at most, for relays to forward. */
    static final int WAIT_HOURS = 12;

    private final Connection db;
    private final ReportTables tables;

    private FleetStore(Connection db) {
        this.db = db;
        this.tables = new ReportTables(db);
    }

    /** Connects and brings the schema up to date; fails within about 10 s if it cannot. */
    public static FleetStore open(PostgresTarget s) throws SQLException {
        Connection db = s.connect("tlsrpt-sender", w -> org.slf4j.LoggerFactory.getLogger(
                FleetStore.class).warn("fleet-store {}", w));
        try {
            db.setAutoCommit(false);
            Schema.migrate(db);
            return new FleetStore(db);
        } catch (SQLException e) {
            db.close();
            throw e;
        }
    }

    /**
     * Adds {@code rows} of {@code relay}'s outbox that this store does not have yet, and
     * records that everything {@code relay} counted before {@code drainedAt} is here (when
     * given: the outbox was read empty behind these rows). Returns the relay's highest
     * sequence number here: the outbox may drop every row up to it.
     */
    public long forward(String relay, List<SessionStore.Outboxed> rows, Instant now,
                        Optional<Instant> drainedAt) throws SQLException {
        try {
            try (PreparedStatement p = db.prepareStatement("""
                    INSERT INTO relay_progress VALUES (?, 0, ?, NULL)
                    ON CONFLICT DO NOTHING""")) {
                p.setString(1, relay);
                p.setTimestamp(2, Timestamp.from(now));
                p.executeUpdate();
            }
            long last;
            try (PreparedStatement q = db.prepareStatement(
                    "SELECT last_seq FROM relay_progress WHERE relay = ? FOR UPDATE")) {
                q.setString(1, relay);
                try (ResultSet r = q.executeQuery()) {
                    r.next();
                    last = r.getLong(1);
                }
            }
            long highest = last;
            // Rows of one key (the same sessions' outcome, counted in successive local
            // commits) are summed first: one upsert each.
            Map<SessionCount, Long> sums = new LinkedHashMap<>();
            for (SessionStore.Outboxed o : rows) {
                if (o.seq() <= last) {
                    continue; // forwarded before: exactly once
                }
                SessionCount c = o.count();
                sums.merge(new SessionCount(c.day(), c.reportDomain(), c.policy(), c.result(),
                        c.sendingIp(), c.mxHost(), c.mxHelo(), c.mxIp(), 0), c.count(),
                        Long::sum);
                highest = Math.max(highest, o.seq());
            }
            try (PreparedStatement up = db.prepareStatement("""
                    INSERT INTO session_count VALUES
                      (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (day, report_domain, key_hash)
                    DO UPDATE SET count = session_count.count + excluded.count""")) {
                for (Map.Entry<SessionCount, Long> e : sums.entrySet()) {
                    SessionCount k = e.getKey();
                    bind(up, new SessionCount(k.day(), k.reportDomain(), k.policy(), k.result(),
                            k.sendingIp(), k.mxHost(), k.mxHelo(), k.mxIp(), e.getValue()));
                    up.addBatch();
                }
                up.executeBatch();
            }
            try (PreparedStatement u = db.prepareStatement("""
                    UPDATE relay_progress SET last_seq = ?, forwarded_at = ?,
                      drained_at = coalesce(?, drained_at)
                    WHERE relay = ?""")) {
                u.setLong(1, highest);
                u.setTimestamp(2, Timestamp.from(now));
                u.setTimestamp(3, drainedAt.map(Timestamp::from).orElse(null));
                u.setString(4, relay);
                u.executeUpdate();
            }
            db.commit();
            return highest;
        } catch (SQLException e) {
            rollbackQuietly();
            throw e;
        }
    }

    private static void bind(PreparedStatement st, SessionCount c) throws SQLException {
        AppliedPolicy p = c.policy();
        String strings = String.join("\n", p.strings());
        String mx = String.join("\n", p.mxHosts());
        String result = "success";
        String reason = "";
        String info = "";
        if (c.result() instanceof SessionResult.Failure f) {
            result = f.type().token();
            reason = f.reasonCode();
            info = f.additionalInformation();
        }
        String[] key = {p.domain(), p.type().token(), strings, mx, result, reason, info,
            c.sendingIp(), c.mxHost(), c.mxHelo(), c.mxIp()};
        st.setString(1, c.day().toString());
        st.setString(2, c.reportDomain());
        st.setBytes(3, keyHash(key));
        for (int i = 0; i < key.length; i++) {
            st.setString(4 + i, key[i]);
        }
        st.setLong(15, c.count());
    }

    /** SHA-256 of the fields, each preceded by its length: no two keys share a hash input. */
    private static byte[] keyHash(String[] fields) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (String f : fields) {
                byte[] b = f.getBytes(StandardCharsets.UTF_8);
                d.update(ByteBuffer.allocate(4).putInt(b.length).array());
                d.update(b);
            }
            return d.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    @Override
    public ReportTables tables() {
        return tables;
    }

    @Override
    public Optional<Claim> claim(Delivery d) throws SQLException {
        long key = lockKey(d);
        try (PreparedStatement l = db.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            l.setLong(1, key);
            try (ResultSet r = l.executeQuery()) {
                r.next();
                if (!r.getBoolean(1)) {
                    db.commit();
                    return Optional.empty();
                }
            }
        }
        Delivery now;
        try (PreparedStatement q = db.prepareStatement("""
                SELECT day, domain, destination, report_id, state, attempts, next_attempt,
                       last_error
                FROM delivery WHERE day = ? AND domain = ? AND destination = ?""")) {
            q.setString(1, d.day().toString());
            q.setString(2, d.domain());
            q.setString(3, d.destination());
            try (ResultSet r = q.executeQuery()) {
                now = r.next() ? ReportTables.delivery(r) : null;
            }
            db.commit();
        }
        Claim c = new Claim() {
            @Override
            public Delivery delivery() {
                return now;
            }

            @Override
            public void close() throws SQLException {
                try (PreparedStatement u = db.prepareStatement(
                        "SELECT pg_advisory_unlock(?)")) {
                    u.setLong(1, key);
                    u.execute();
                    db.commit();
                }
            }
        };
        if (now == null || !(now.state().equals("pending") || now.state().equals("sending"))) {
            c.close(); // settled by another sender meanwhile
            return Optional.empty();
        }
        return Optional.of(c);
    }

    /** The advisory lock of a delivery: 64 bits of SHA-256 of its key. */
    private static long lockKey(Delivery d) {
        byte[] h = keyHash(new String[] {"delivery", d.day().toString(), d.domain(),
            d.destination()});
        return ByteBuffer.wrap(h).getLong();
    }

    @Override
    public Optional<String> incomplete(LocalDate day, Instant now) throws SQLException {
        Instant end = day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        if (now.isAfter(end.plus(Duration.ofHours(WAIT_HOURS)))) {
            return Optional.empty();
        }
        List<String> behind = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement("""
                SELECT relay FROM relay_progress
                WHERE forwarded_at > ? AND (drained_at IS NULL OR drained_at < ?)
                ORDER BY relay""")) {
            q.setTimestamp(1, Timestamp.from(now.minus(Duration.ofDays(7))));
            q.setTimestamp(2, Timestamp.from(end.plus(Duration.ofMinutes(LAG_MINUTES))));
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    behind.add(r.getString(1));
                }
            }
            db.commit();
        }
        if (behind.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("relays " + String.join(", ", behind) + " have not forwarded their "
                + "counts up to " + LAG_MINUTES + " min past the day's end; its reports wait "
                + "for them until " + end.plus(Duration.ofHours(WAIT_HOURS)));
    }

    private void rollbackQuietly() {
        try {
            db.rollback();
        } catch (SQLException ignored) {
            // the connection is gone: nothing was committed
        }
    }

    @Override
    public void close() throws SQLException {
        db.close();
    }
}
