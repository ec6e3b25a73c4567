package org.tlspolicy.tlsrpt.fleet;

import org.tlspolicy.postgres.PostgresTarget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Moves a relay's counted sessions from its local store's outbox to the fleet's PostgreSQL
 * store, exactly once, every few seconds (and once more when the collector stops). While
 * PostgreSQL is unreachable the counts wait in the outbox (the local store keeps counting
 * regardless), and go when it is back; each change between reaching it and not is one log
 * line ({@code fleet-store state=up|down}). A failure of the local store (locked for longer
 * than its busy timeout, unreadable) is told apart, as it sends the operator to this relay,
 * not to PostgreSQL: a line of its own ({@code fleet-forward local-store state=down|up}), the
 * connection to PostgreSQL kept, the counts left in the outbox.
 *
 * <p>Exactly once: the fleet store adds a batch and moves the relay's sequence number past it
 * in one transaction; only then are the rows dropped here. Killed in between, the batch is
 * sent again and the fleet store skips it (see {@link FleetStore#forward}).
 */
public final class Forwarder implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Forwarder.class);

    /** Rows per transaction at most. */
    static final int BATCH = 20_000;

    private final Path file;
    private final PostgresTarget settings;
    private final String relayName;
    private final Clock clock;
    private SessionStore local;
    private FleetStore fleet;
    private Boolean up;
    private boolean localDown;
    private ScheduledExecutorService thread;

    /**
     * @param file      the local store, whose outbox is forwarded (its own connection)
     * @param relayName this relay's name in the fleet (default: the host name)
     */
    public Forwarder(Path file, PostgresTarget settings, String relayName, Clock clock) {
        this.file = file;
        this.settings = settings;
        this.relayName = relayName;
        this.clock = clock;
    }

    /**
     * Forwards everything the outbox holds now; true if it is empty afterwards. Never throws:
     * a failure is logged (on a change of state) and the counts wait for the next time.
     */
    public synchronized boolean forwardOnce() {
        boolean atFleet = false; // which store the call that failed was made to
        try {
            if (local == null) {
                local = SessionStore.openForFleet(file);
            }
            String relay = relayName + "/" + local.fleetId();
            if (fleet == null) {
                atFleet = true;
                fleet = FleetStore.open(settings);
                atFleet = false;
            }
            long moved = 0;
            while (true) {
                Instant readAt = clock.instant();
                List<SessionStore.Outboxed> rows = local.outbox(BATCH);
                boolean drained = rows.size() < BATCH;
                atFleet = true;
                long have = fleet.forward(relay, rows, clock.instant(),
                        drained ? Optional.of(readAt) : Optional.empty());
                atFleet = false;
                if (!rows.isEmpty()) {
                    // Failing here, the batch is sent again next time and the fleet store
                    // skips it (its sequence number is past it).
                    local.dropOutbox(Math.min(have, rows.get(rows.size() - 1).seq()));
                    moved += rows.size();
                }
                if (drained) {
                    localState(true, null);
                    state(true, relay + " forwarded=" + moved, null);
                    return true;
                }
            }
        } catch (SQLException | RuntimeException e) {
            if (atFleet) {
                state(false, null, e);
                fleet = closed(fleet);
            } else {
                localState(false, e);
                local = closed(local);
            }
            return false;
        }
    }

    /** Closes {@code c}, whatever happens; null, to be opened again (if ever) next time. */
    private static <T extends AutoCloseable> T closed(T c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // opened again next time
            }
        }
        return null;
    }

    /** Logs a change between the local store answering and failing. */
    private void localState(boolean nowUp, Exception error) {
        if (localDown == !nowUp) {
            return; // no change
        }
        localDown = !nowUp;
        if (nowUp) {
            log.info("fleet-forward local-store state=up file={}", file);
        } else {
            log.warn("fleet-forward local-store state=down file={} reason=\"{}\": counts wait "
                    + "in its outbox and are forwarded once it answers", file,
                    String.valueOf(error.getMessage()).replace('"', '\''));
        }
    }

    /** Whether the last forward failed at the local store (tests). */
    boolean localStoreDown() {
        return localDown;
    }

    /** Whether the fleet store answered the last forward that reached it (tests). */
    boolean fleetStoreUp() {
        return up != null && up;
    }

    private void state(boolean nowUp, String detail, Exception error) {
        if (up != null && up == nowUp) {
            return;
        }
        up = nowUp;
        if (nowUp) {
            log.info("fleet-store state=up store={} relay={}", settings.uri(), detail);
        } else {
            log.warn("fleet-store state=down store={} reason=\"{}\": counts wait in the local "
                    + "store and are forwarded once it answers", settings.uri(),
                    String.valueOf(error.getMessage()).replace('"', '\''));
        }
    }

    /** Forwards every {@code seconds} seconds on a thread of its own, from now on. */
    public void start(long seconds) {
        thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fleet-forwarder");
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(this::forwardOnce, 0, seconds, TimeUnit.SECONDS);
    }

    /** Stops the thread, forwards what is left once more, and closes both connections. */
    @Override
    public synchronized void close() {
        if (thread != null) {
            thread.shutdownNow();
        }
        forwardOnce();
        fleet = closed(fleet);
        local = closed(local);
    }
}
