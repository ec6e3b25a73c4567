package org.tlspolicy.dns;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;
import org.xbill.DNS.Type;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Whether in-process DNSSEC validation works at all: the SOA of the trust anchor's zone (the
 * root, by default) must validate. When the resolvers strip DNSSEC records, or the anchors do
 * not match, every DANE lookup is bogus and every DANE domain's mail waits (RFC 7672 §2.1: a
 * bogus answer never downgrades). One domain's decision line cannot say that; this check does,
 * once per change of state: ERROR when it starts failing, INFO when it works again.
 *
 * <p>Checked at start, then every minute while failing (so that a repaired resolver is seen
 * soon) and every hour while it works (so that one broken later is seen at all).
 */
public final class ValidationCheck implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ValidationCheck.class);

    private static final Duration FAILING_INTERVAL = Duration.ofMinutes(1);
    private static final Duration WORKING_INTERVAL = Duration.ofHours(1);

    /** The check's outcome. */
    public sealed interface State {
        /** Not answered yet (just started). */
        record Pending() implements State {
        }

        /** The zone's SOA validated. */
        record Validates(Name zone) implements State {
        }

        /**
         * The zone's SOA did not validate: {@code status} is bogus, insecure or indeterminate.
         */
        record Fails(Name zone, String status, String reason) implements State {
            /** What it means for mail, and what to change: for /health and systemd's status. */
            public String problem() {
                String start = "DNSSEC validation fails (" + zone + " SOA " + status + ": "
                        + reason + "): every DANE lookup defers mail; ";
                if (status.equals("indeterminate")) {
                    // No answer at all: the resolver (named in the reason) is down, cannot
                    // reach the internet, or its own upstream fails. Pointing elsewhere is not
                    // the cure for a resolver that was just set up.
                    return start + "the resolver gets no answer: check that it runs and reaches "
                            + "the internet (a SERVFAIL is the resolver's own failure upstream), "
                            + "then run tlspolicyd doctor";
                }
                return start + "point dns.servers at a resolver that passes DNSSEC records on "
                        + "(e.g. unbound on 127.0.0.1), check dane.trust_anchor_file, and run "
                        + "tlspolicyd doctor";
            }
        }
    }

    private final Name zone;
    private final DnsClient dns;
    private final ScheduledExecutorService timer;
    private final Consumer<State> onChange;
    private final Duration failingInterval;
    private volatile State state = new State.Pending();
    private volatile boolean closed;

    /**
     * @param onChange told each time the state changes (from the DNS client's thread)
     */
    public ValidationCheck(Name zone, DnsClient dns, ScheduledExecutorService timer,
                           Consumer<State> onChange) {
        this(zone, dns, timer, onChange, FAILING_INTERVAL);
    }

    /** As the public constructor, checking every {@code failingInterval} while failing. */
    ValidationCheck(Name zone, DnsClient dns, ScheduledExecutorService timer,
                    Consumer<State> onChange, Duration failingInterval) {
        this.failingInterval = failingInterval;
        this.zone = zone;
        this.dns = dns;
        this.timer = timer;
        this.onChange = onChange;
    }

    /** Checks now, then again and again until closed. */
    public void start() {
        check();
    }

    public State state() {
        return state;
    }

    /** The problem to report while the check fails. */
    public Optional<String> problem() {
        return state instanceof State.Fails f ? Optional.of(f.problem()) : Optional.empty();
    }

    private void check() {
        if (closed) {
            return;
        }
        dns.lookup(zone, Type.SOA).whenComplete((r, e) -> {
            Dnssec d = e != null ? new Dnssec.Indeterminate(
                    "lookup failed: " + e.getMessage()) : Dnssec.of(r);
            State next = d instanceof Dnssec.Secure ? new State.Validates(zone)
                    : new State.Fails(zone, d.status(), d instanceof Dnssec.Bogus b ? b.reason()
                    : d instanceof Dnssec.Indeterminate i ? i.reason() : "no signatures");
            State before = state;
            state = next;
            if (next instanceof State.Validates && !(before instanceof State.Validates)) {
                log.info("dane dnssec=validate check=ok zone={} SOA validates", zone);
                onChange.accept(next);
            } else if (next instanceof State.Fails f && !(before instanceof State.Fails)) {
                log.error("dane dnssec=validate check=failed zone={} SOA is {} ({}): DANE "
                        + "lookups will defer mail until dns.servers pass DNSSEC records on "
                        + "and the trust anchors match; see tlspolicyd doctor", zone,
                        f.status(), f.reason());
                onChange.accept(next);
            }
            if (!closed) {
                try {
                    timer.schedule(this::check, (next instanceof State.Fails
                            ? failingInterval : WORKING_INTERVAL).toMillis(),
                            TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException stopped) {
                    // the engine is stopping
                }
            }
        });
    }

    @Override
    public void close() {
        closed = true;
    }
}
