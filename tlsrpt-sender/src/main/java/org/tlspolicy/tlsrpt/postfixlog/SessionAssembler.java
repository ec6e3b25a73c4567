package org.tlspolicy.tlsrpt.postfixlog;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Turns Postfix's log lines into {@link TlsSession}s. One SMTP client process works on one
 * message at a time, so its lines between two outcomes belong to one delivery: the TLS lines for
 * each MX host tried ({@code certificate verification failed}, {@code … TLS connection
 * established}), a {@code QUEUEID: REASON} line for each host given up, and the final {@code
 * to=<…>, relay=…, status=…} line, which names the recipient domain the sessions count for.
 * State is kept per process ID; lines of other processes interleave freely.
 *
 * <p>Counted: every MX host a message was tried with, once per delivery attempt (further
 * recipients of the same attempt add nothing), and every attempt stopped by a failed TLS policy
 * lookup. Not counted: connection failures before TLS (unreachable hosts are not a TLS matter)
 * and deliveries that were never tried.
 *
 * <p>Not thread-safe: one assembler reads one log in order.
 */
public final class SessionAssembler {

    /** Queue IDs whose sender is remembered; beyond this the oldest are forgotten. */
    static final int MAX_SENDERS = 65_536;
    /** Processes whose state is kept; Postfix runs far fewer SMTP clients at once. */
    static final int MAX_PROCESSES = 4_096;

    private final Consumer<TlsSession> out;
    private final java.util.function.Predicate<Endpoint> mx;
    /** Files begun since this assembler was made ({@link #newFile()}). */
    private long file;
    private long dropped;
    private final Map<Long, ProcessState> processes = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, ProcessState> eldest) {
            return size() > MAX_PROCESSES;
        }
    };
    /** MX hosts whose last verification failure is remembered (resumed sessions). */
    static final int MAX_CAUSES = 4_096;
    /**
     * Each MX host's (name and address) last certificate verification failure, from whichever
     * process logged it: a session resumed with an untrusted peer is logged without one
     * ("look for details earlier in the log"), and this is where they are.
     */
    private final Map<String, String> causes = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > MAX_CAUSES;
        }
    };
    private final Map<String, String> senders = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > MAX_SENDERS;
        }
    };

    public SessionAssembler(Consumer<TlsSession> out) {
        this(out, NextHops.MX_PORT_ONLY);
    }

    /**
     * @param nextHops which next hops are not the recipient domain's MX hosts (their sessions
     *                 are not counted)
     */
    public SessionAssembler(Consumer<TlsSession> out, NextHops nextHops) {
        this.out = out;
        this.mx = e -> !nextHops.excluded(e);
    }

    /** One MX host tried: what its TLS lines said so far. */
    private static final class Attempt {
        final Endpoint mx;
        SmtpLogEvent.Trust trust;
        String verificationFailure;
        String handshakeFailure;
        boolean refused;
        boolean notOffered;

        Attempt(Endpoint mx) {
            this.mx = mx;
        }

        boolean is(Endpoint other) {
            return other != null && mx.host().equalsIgnoreCase(other.host())
                    && mx.ip().equals(other.ip());
        }

        SessionFacts facts(boolean delivered) {
            if (!notOffered && trust == null && handshakeFailure != null) {
                return new SessionFacts.HandshakeFailed(handshakeFailure);
            }
            if (!notOffered && trust == null && verificationFailure != null) {
                // tls_client.c logs a failed verification after the handshake, and the
                // session's summary line only at smtp_tls_loglevel 1 or more: TLS was
                // negotiated, with a peer not verified.
                return new SessionFacts.Negotiated(SmtpLogEvent.Trust.UNTRUSTED,
                        verificationFailure, refused);
            }
            if (notOffered || trust == null) {
                return new SessionFacts.StarttlsNotOffered(delivered && !notOffered);
            }
            return new SessionFacts.Negotiated(trust, verificationFailure, refused);
        }
    }

    private static final class ProcessState {
        Attempt current;
        final List<Attempt> givenUp = new ArrayList<>();
        String lastQueueId;
        String lastDelays;
        Endpoint lastRelay;
        String serverError;
        SmtpLogEvent.PolicyLookupFailed policyFailure;
        /** Where the first line of the open session began, or -1 if none is open. */
        long openSince = -1;
        /** The file ({@link #newFile()} count) that line is in. */
        long openedIn;

        boolean open() {
            return current != null || !givenUp.isEmpty() || serverError != null
                    || policyFailure != null;
        }
    }

    /** Reads one log line (anything; lines that are not Postfix's are ignored). */
    public void accept(SyslogLine line) {
        accept(line, -1);
    }

    /**
     * Reads one log line that begins at {@code offset} in its file: sessions it ends are
     * emitted before this returns, and {@link #openSince()} accounts for sessions it begins.
     */
    public void accept(SyslogLine line, long offset) {
        SmtpLogParser.parse(line).ifPresent(e -> accept(line.time(), line.pid(), e, offset));
    }

    /**
     * The offset of the first line of the oldest session still open (begun, not yet ended), or
     * {@code Long.MAX_VALUE} if none is. Reading again from there after a restart rebuilds
     * every open session. (The queue manager's {@code from=} lines are not held open: after a
     * restart, a session whose message's {@code from=} line came earlier has sender "".)
     */
    public long openSince() {
        long oldest = Long.MAX_VALUE;
        for (ProcessState p : processes.values()) {
            if (p.open() && p.openedIn == file && p.openSince >= 0 && p.openSince < oldest) {
                oldest = p.openSince;
            }
        }
        return oldest;
    }

    /**
     * The lines that follow are from another file (the log was rotated): offsets start again,
     * and sessions still open began in the previous file ({@link #previousFilePids()}).
     */
    public void newFile() {
        file++;
    }

    /** The processes whose session begun in a previous file is still open. */
    public java.util.Set<Long> previousFilePids() {
        java.util.Set<Long> pids = new java.util.HashSet<>();
        processes.forEach((pid, p) -> {
            if (p.open() && p.openedIn < file) {
                pids.add(pid);
            }
        });
        return pids;
    }

    /**
     * Gives up the sessions begun in a previous file that are still open (their outcome never
     * came: a process killed, lines lost): they are not counted.
     */
    public void forgetPreviousFile() {
        processes.values().removeIf(p -> p.open() && p.openedIn < file);
    }

    private void accept(Instant time, long pid, SmtpLogEvent event, long offset) {
        if (event instanceof SmtpLogEvent.QueuedFrom q) {
            senders.put(q.queueId(), q.sender());
            return;
        }
        ProcessState p = processes.computeIfAbsent(pid, k -> new ProcessState());
        boolean wasOpen = p.open();
        handle(time, p, event);
        if (!p.open()) {
            p.openSince = -1;
        } else if (!wasOpen) {
            p.openSince = offset;
            p.openedIn = file;
        }
    }

    private void handle(Instant time, ProcessState p, SmtpLogEvent event) {
        if (event instanceof SmtpLogEvent.VerificationFailed v) {
            Attempt a = attempt(p, v.mx());
            if (a.verificationFailure == null
                    || !a.verificationFailure.startsWith("all TLSA records unusable")) {
                // The first cause stands: unusable TLSA records explain what fails after.
                a.verificationFailure = v.reason();
            }
            causes.put(key(v.mx()), v.reason());
        } else if (event instanceof SmtpLogEvent.SessionResumedUntrusted r) {
            Attempt a = attempt(p, r.mx());
            if (a.verificationFailure == null) {
                a.verificationFailure = causes.getOrDefault(key(r.mx()),
                        "re-using session with untrusted certificate");
            }
        } else if (event instanceof SmtpLogEvent.HandshakeFailed h) {
            attempt(p, h.mx()).handshakeFailure = "SSL_connect error: " + h.reason();
        } else if (event instanceof SmtpLogEvent.TlsLibraryProblem t) {
            Attempt a = p.current;
            if (a != null && a.handshakeFailure != null && a.handshakeFailure.indexOf(';') < 0) {
                a.handshakeFailure += "; " + t.detail(); // OpenSSL's reason, the first only
            }
        } else if (event instanceof SmtpLogEvent.TlsEstablished t) {
            attempt(p, t.mx()).trust = t.trust();
        } else if (event instanceof SmtpLogEvent.PolicyServerError e) {
            p.serverError = e.reason();
        } else if (event instanceof SmtpLogEvent.PolicyLookupFailed f) {
            // Counted with the outcome line that follows, which names the message (and so
            // its sender).
            p.policyFailure = f;
            p.current = null;
        } else if (event instanceof SmtpLogEvent.HostFailed h) {
            hostFailed(p, h);
        } else if (event instanceof SmtpLogEvent.Delivery d) {
            delivery(time, p, d);
        }
    }

    private static boolean isHostName(String s) {
        return org.tlspolicy.smtp.Domain.problem(s) == null;
    }

    /**
     * Sessions not counted because the recipient's domain is not a host name (a quoted local
     * part cannot move a session to another domain: it is parsed with its quotes, and what
     * follows the last {@code @} must be a host name), since this assembler was made.
     */
    public long dropped() {
        return dropped;
    }

    private static String key(Endpoint mx) {
        return mx.host().toLowerCase(java.util.Locale.ROOT) + "[" + mx.ip() + "]";
    }

    private static Attempt attempt(ProcessState p, Endpoint mx) {
        if (p.current == null || !p.current.is(mx)) {
            p.current = new Attempt(mx);
        }
        return p.current;
    }

    /**
     * The part of {@code delays=a/b/c/d} that identifies a delivery request: {@code a} (before
     * the queue manager) and {@code b} (in it) are the same for every recipient of one request,
     * whatever happens to each in the session ({@code c}, {@code d} differ for a recipient
     * refused at RCPT TO), and differ for the next attempt.
     */
    private static String request(String delays) {
        int first = delays.indexOf('/');
        int second = first < 0 ? -1 : delays.indexOf('/', first + 1);
        return second < 0 ? delays : delays.substring(0, second);
    }

    // smtp_proto.c: no STARTTLS in the EHLO reply, or STARTTLS answered with an error.
    private static final String NOT_OFFERED = "TLS is required, but was not offered by host ";
    private static final String REFUSED = "TLS is required, but host ";
    private static final String REFUSED_END = " refused to start TLS: ";

    /** The MX host a "no STARTTLS" reason names, or null if it is not one. */
    private static Endpoint noStarttls(String r) {
        if (r.startsWith(NOT_OFFERED)) {
            return Endpoint.parse(r, NOT_OFFERED.length(), r.length());
        }
        int end = r.startsWith(REFUSED) ? r.indexOf(REFUSED_END, REFUSED.length()) : -1;
        return end < 0 ? null : Endpoint.parse(r, REFUSED.length(), end);
    }

    private void hostFailed(ProcessState p, SmtpLogEvent.HostFailed h) {
        Endpoint mx = noStarttls(h.reason());
        if (mx != null) {
            Attempt a = attempt(p, mx);
            a.notOffered = true;
            p.givenUp.add(a);
            p.current = null;
        } else if (p.current != null) {
            p.current.refused |= tlsReason(h.reason());
            p.givenUp.add(p.current);
            p.current = null;
        }
    }

    private void delivery(Instant time, ProcessState p, SmtpLogEvent.Delivery d) {
        String sender = senders.getOrDefault(d.queueId(), "");
        String request = request(d.delays());
        if (d.queueId().equals(p.lastQueueId) && request.equals(p.lastDelays)
                && java.util.Objects.equals(d.relay(), p.lastRelay) && p.current == null
                && p.givenUp.isEmpty() && p.policyFailure == null) {
            // Another recipient of the attempt already counted: the same message, next hop
            // and delivery request. A later attempt (a retry) is another request, with other
            // times before it: a new session.
            return;
        }
        p.lastQueueId = d.queueId();
        p.lastDelays = request;
        p.lastRelay = d.relay();
        if (d.domain().isEmpty()) {
            // Not a host name after the last "@": counted for nobody (issue 34, finding 5).
            if (p.current != null || !p.givenUp.isEmpty() || p.policyFailure != null) {
                dropped++;
            }
            p.givenUp.clear();
            p.current = null;
            p.policyFailure = null;
            p.serverError = null;
            return;
        }
        String domain = d.domain().get().name();
        if (d.relay() != null && !mx.test(d.relay())) {
            // Not a session with the domain's MX: a content filter on loopback, a relayhost.
            p.givenUp.clear();
            p.current = null;
            return;
        }
        for (Attempt a : p.givenUp) {
            emit(new TlsSession(time, domain, sender, a.mx, a.facts(false)));
        }
        p.givenUp.clear();
        Attempt last = p.current;
        p.current = null;
        if (d.relay() == null) {
            SmtpLogEvent.PolicyLookupFailed f = p.policyFailure;
            String why = f != null ? f.reason() : d.reason();
            String policyDomain = f == null || !isHostName(f.domain()) ? domain : f.domain();
            if (daneUnavailable(why)) {
                emit(new TlsSession(time, policyDomain, sender, f != null
                        ? new Endpoint(f.mxHost(), "", 0) : tlsaHost(why),
                        new SessionFacts.DaneUnavailable(why)));
            } else if (f != null) {
                emit(new TlsSession(time, policyDomain, sender, new Endpoint(f.mxHost(), "", 0),
                        new SessionFacts.PolicyLookupFailed(p.serverError)));
            }
            p.policyFailure = null;
            p.serverError = null;
            return; // otherwise no connection: DNS or queue trouble, not a TLS matter
        }
        if (d.status().equals("sent")) {
            Attempt a = last != null && last.is(d.relay()) ? last : new Attempt(d.relay());
            emit(new TlsSession(time, domain, sender, a.mx, a.facts(true)));
            return;
        }
        if (noStarttls(d.reason()) != null) {
            Attempt a = last != null && last.is(d.relay()) ? last : new Attempt(d.relay());
            a.notOffered = true;
            emit(new TlsSession(time, domain, sender, a.mx, a.facts(false)));
            return;
        }
        if (last != null && last.is(d.relay())) {
            // After TLS: either Postfix refused the peer (a TLS failure) or the peer refused
            // the mail (an SMTP matter; the TLS session itself stands).
            last.refused |= tlsReason(d.reason());
            emit(new TlsSession(time, domain, sender, last.mx, last.facts(false)));
        } else if (pastEhlo(d.reason())) {
            // No TLS line, and the MX answered commands after EHLO: a session in the clear
            // (the mail then refused or deferred by the MX, an SMTP matter).
            emit(new TlsSession(time, domain, sender, d.relay(),
                    new SessionFacts.StarttlsNotOffered(false)));
        }
    }

    /**
     * Whether Postfix's reason shows a session that went past EHLO (where STARTTLS is offered
     * or not): the MX answered a later command, or the connection broke while sending one.
     * Failures at the greeting or EHLO itself come before TLS, and are not TLS matters.
     */
    private static boolean pastEhlo(String reason) {
        return reason.contains("(in reply to MAIL FROM command)")
                || reason.contains("(in reply to RCPT TO command)")
                || reason.contains("(in reply to DATA command)")
                || reason.contains("(in reply to end of DATA command)")
                || reason.contains(" while sending ");
    }

    // smtp_tls_policy.c (dane-only, before any connection): Postfix's own DNS lookups leave no
    // way to do DANE with the MX host.
    private static final String[] DANE_UNAVAILABLE = {"non DNSSEC destination",
        "no TLSA records found", "TLSA lookup error for ", "TLSA records unusable"};

    private static boolean daneUnavailable(String reason) {
        for (String r : DANE_UNAVAILABLE) {
            if (reason.startsWith(r)) {
                return true;
            }
        }
        return false;
    }

    /** The MX host of {@code TLSA lookup error for HOST:PORT}, else an unknown one. */
    private static Endpoint tlsaHost(String reason) {
        String prefix = "TLSA lookup error for ";
        int colon = reason.lastIndexOf(':');
        if (reason.startsWith(prefix) && colon > prefix.length()) {
            return new Endpoint(reason.substring(prefix.length(), colon), "", 0);
        }
        return new Endpoint("", "", 0);
    }

    /** Postfix's words for giving up on a peer for TLS reasons. */
    private static boolean tlsReason(String reason) {
        return reason.startsWith("Server certificate not verified")
                || reason.startsWith("Server certificate not trusted")
                || reason.startsWith("Cannot start TLS")
                || reason.contains("TLS is required");
    }

    private void emit(TlsSession s) {
        out.accept(s);
    }

    /** Reads every line of {@code lines} (tests and one-shot imports). */
    public static List<TlsSession> assemble(Iterable<String> lines, Instant reference,
                                            java.time.ZoneId zone) {
        List<TlsSession> sessions = new ArrayList<>();
        SessionAssembler a = new SessionAssembler(sessions::add);
        for (String l : lines) {
            SyslogLine.parse(l, reference, zone).ifPresent(a::accept);
        }
        return sessions;
    }

    /** For tests: how many processes have state. */
    int processCount() {
        return processes.size();
    }
}
