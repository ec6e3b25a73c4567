package org.tlspolicy.tlsrpt.fleet;

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
 * line ({@code fleet-store state=up|down}).
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
    private final FleetStore.Settings settings;
    private final String relayName;
    private final Clock clock;
    private SessionStore local;
    private FleetStore fleet;
    private Boolean up;
    private ScheduledExecutorService thread;

    /**
     * @param file      the local store, whose outbox is forwarded (its own connection)
     * @param relayName this relay's name in the fleet (default: the host name)
     */
    public Forwarder(Path file, FleetStore.Settings settings, String relayName, Clock clock) {
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
        try {
            if (local == null) {
                local = SessionStore.openForFleet(file);
            }
            String relay = relayName + "/" + local.fleetId();
            if (fleet == null) {
                fleet = FleetStore.open(settings);
            }
            long moved = 0;
            while (true) {
                Instant readAt = clock.instant();
                List<SessionStore.Outboxed> rows = local.outbox(BATCH);
                boolean drained = rows.size() < BATCH;
                long have = fleet.forward(relay, rows, clock.instant(),
                        drained ? Optional.of(readAt) : Optional.empty());
                if (!rows.isEmpty()) {
                    local.dropOutbox(Math.min(have, rows.get(rows.size() - 1).seq()));
                    moved += rows.size();
                }
                if (drained) {
                    state(true, relay + " forwarded=" + moved, null);
                    return true;
                }
            }
        } catch (SQLException | RuntimeException e) {
            state(false, null, e);
            if (fleet != null) {
                try {
                    fleet.close();
                } catch (SQLException ignored) {
                    // reconnected next time
                }
                fleet = null;
            }
            return false;
        }
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
        try {
            if (fleet != null) {
                fleet.close();
            }
            if (local != null) {
                local.close();
            }
        } catch (SQLException ignored) {
            // closing anyway
        }
    }
}
