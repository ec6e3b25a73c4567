package org.tlspolicy.dane;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The text form in which DANE results are persisted (the store's {@code dane_result} table),
 * one line per item:
 * <pre>
 * v1 applies|not-applicable|null-mx TTL MX-STATUS [REASON]
 * host STATUS HOST BASE|- DETAIL
 * tlsa USAGE SELECTOR MATCHING HEX
 * </pre>
 * Failed results are never persisted (they are kept for {@code cache.failure_ttl} only). The
 * stored text derives from DNS answers, and a damaged store must not break the daemon, so
 * {@link #parse} accepts only exactly this form and answers empty for anything else.
 */
public final class DaneLookupCodec {

    private static final Set<String> MX_STATUS = Set.of("secure", "insecure", "none");
    private static final int MAX_HOSTS = DaneResolver.MAX_HOSTS;
    private static final int MAX_RECORDS_PER_HOST = 64;
    private static final int MAX_TEXT = 1024;

    private DaneLookupCodec() {
    }

    /** The text of a result; empty for a failed one (not persisted). */
    public static Optional<String> format(DaneLookup lookup) {
        StringBuilder b = new StringBuilder("v1 ");
        if (lookup instanceof DaneLookup.Applies a) {
            b.append("applies ").append(a.ttl()).append(' ').append(a.mx());
        } else if (lookup instanceof DaneLookup.NotApplicable n) {
            b.append("not-applicable ").append(n.ttl()).append(' ').append(n.mx()).append(' ')
                    .append(oneLine(n.reason()));
        } else if (lookup instanceof DaneLookup.NullMx n) {
            b.append("null-mx ").append(n.ttl()).append(' ').append(n.mx());
        } else {
            return Optional.empty();
        }
        b.append('\n');
        for (HostTlsa h : lookup.hosts()) {
            b.append("host ").append(h.status().name().toLowerCase(Locale.ROOT)).append(' ')
                    .append(h.host()).append(' ').append(h.base().isEmpty() ? "-" : h.base())
                    .append(' ').append(oneLine(h.detail())).append('\n');
            for (Tlsa t : h.records()) {
                b.append("tlsa ").append(t).append('\n');
            }
        }
        return Optional.of(b.toString());
    }

    private static String oneLine(String s) {
        String t = s.replace('\n', ' ').replace('\r', ' ');
        return t.length() > MAX_TEXT ? t.substring(0, MAX_TEXT) : t;
    }

    /** The result {@code text} holds, or empty if it is not exactly in this form. */
    public static Optional<DaneLookup> parse(String text) {
        if (text.length() > 4 * 1024 * 1024 || !text.endsWith("\n")) {
            return Optional.empty();
        }
        String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
        String[] head = lines[0].split(" ", 5);
        if (head.length < 4 || !head[0].equals("v1") || !MX_STATUS.contains(head[3])) {
            return Optional.empty();
        }
        long ttl;
        try {
            ttl = Long.parseLong(head[2]);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (ttl < 0 || !head[2].equals(Long.toString(ttl))) {
            return Optional.empty();
        }
        List<HostTlsa> hosts = new ArrayList<>();
        for (int i = 1; i < lines.length; ) {
            String[] h = lines[i].split(" ", 5);
            if (h.length != 5 || !h[0].equals("host") || hosts.size() >= MAX_HOSTS) {
                return Optional.empty();
            }
            HostTlsa.Status status = status(h[1]);
            if (status == null || status.failed() || h[2].isEmpty() || h[3].isEmpty()) {
                return Optional.empty();
            }
            List<Tlsa> records = new ArrayList<>();
            for (i++; i < lines.length && lines[i].startsWith("tlsa "); i++) {
                Optional<Tlsa> t = Tlsa.parse(lines[i].substring(5));
                if (t.isEmpty() || records.size() >= MAX_RECORDS_PER_HOST) {
                    return Optional.empty();
                }
                records.add(t.get());
            }
            String base = h[3].equals("-") ? "" : h[3];
            boolean withRecords = status == HostTlsa.Status.USABLE
                    || status == HostTlsa.Status.UNUSABLE;
            if (withRecords == base.isEmpty() || (!withRecords && !records.isEmpty())
                    || (status == HostTlsa.Status.USABLE) != records.stream().anyMatch(Tlsa::usable)) {
                return Optional.empty();
            }
            hosts.add(new HostTlsa(h[2], status, base, records, h[4]));
        }
        return switch (head[1]) {
            case "applies" -> head.length == 4 && hosts.stream()
                    .anyMatch(h -> h.status() == HostTlsa.Status.USABLE)
                    ? Optional.of(new DaneLookup.Applies(head[3], hosts, ttl)) : Optional.empty();
            case "not-applicable" -> head.length == 5 && hosts.stream()
                    .noneMatch(h -> h.status() == HostTlsa.Status.USABLE)
                    ? Optional.of(new DaneLookup.NotApplicable(head[4], head[3], hosts, ttl))
                    : Optional.empty();
            case "null-mx" -> head.length == 4 && hosts.isEmpty()
                    ? Optional.of(new DaneLookup.NullMx(head[3], ttl)) : Optional.empty();
            default -> Optional.empty();
        };
    }

    private static HostTlsa.Status status(String s) {
        for (HostTlsa.Status st : HostTlsa.Status.values()) {
            if (st.name().toLowerCase(Locale.ROOT).equals(s)) {
                return st;
            }
        }
        return null;
    }
}
