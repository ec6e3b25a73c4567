package org.tlspolicy.tlsrpt.rua;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A domain's TLSRPT record (RFC 8460 §3): the TXT record at {@code _smtp._tls.DOMAIN}, {@code
 * v=TLSRPTv1; rua=mailto:reports@example.com,https://reporting.example.com/v1/tlsrpt}.
 *
 * <p>At most {@link #MAX_DESTINATIONS} distinct destinations are used. RFC 8460 sets no limit,
 * but what domains publish is one mailbox, one endpoint, or one of each; a longer list only
 * multiplies the reports one counted session makes (a record with 220 mailboxes made 220 mails
 * to third parties). Four leaves room for a mailbox and an endpoint with a backup of each.
 *
 * @param rua      where reports go, in the record's order, distinct, at most four
 * @param refused  the record's URIs that are not used, each with why
 */
public record TlsrptRecord(List<ReportDestination> rua, List<Refused> refused) {

    /** The longest record considered (the sum of its TXT strings). */
    public static final int MAX_LENGTH = 4096;

    /** Distinct destinations used at most (see above). */
    public static final int MAX_DESTINATIONS = 4;

    /** A URI of the record that is not used: its text as published, and why. */
    public record Refused(String text, String reason) {
    }

    public TlsrptRecord {
        rua = List.copyOf(rua);
        refused = List.copyOf(refused);
    }

    /**
     * The record among a name's TXT records (each the concatenation of its strings), or empty:
     * RFC 8460 §3, records not starting with {@code v=TLSRPTv1;} are discarded, and unless
     * exactly one remains the domain does not implement TLSRPT.
     */
    public static Optional<TlsrptRecord> select(List<String> txtRecords) {
        List<String> ours = new ArrayList<>();
        for (String t : txtRecords) {
            if (startsWithVersion(t)) {
                ours.add(t);
            }
        }
        return ours.size() == 1 ? parse(ours.get(0)) : Optional.empty();
    }

    /** Whether {@code t} begins {@code v=TLSRPTv1;} (blanks allowed around the parts). */
    public static boolean startsWithVersion(String t) {
        String s = t.stripLeading();
        if (!s.startsWith("v")) {
            return false;
        }
        s = s.substring(1).stripLeading();
        if (!s.startsWith("=")) {
            return false;
        }
        s = s.substring(1).stripLeading();
        return s.startsWith("TLSRPTv1") && s.substring(8).stripLeading().startsWith(";");
    }

    /**
     * Parses one record: {@code v=TLSRPTv1} first, then {@code rua=} with one or more URIs
     * separated by commas; other fields (extensions) are ignored. A URI that is not a usable
     * {@link ReportDestination}, a repeated one and those past {@link #MAX_DESTINATIONS} are
     * {@linkplain #refused() refused}; a record without {@code rua}, or with it twice, is no
     * record. A record whose every URI is refused is still returned (its refusals are worth
     * telling), with an empty {@link #rua()}.
     */
    public static Optional<TlsrptRecord> parse(String text) {
        if (text.length() > MAX_LENGTH || !startsWithVersion(text)) {
            return Optional.empty();
        }
        List<String> uris = null;
        String[] fields = text.split(";", -1);
        for (int i = 1; i < fields.length; i++) {
            String f = fields[i].strip();
            if (f.isEmpty()) {
                continue;
            }
            int eq = f.indexOf('=');
            if (eq <= 0) {
                return Optional.empty();
            }
            String name = f.substring(0, eq).strip();
            if (!name.equals("rua")) {
                continue; // RFC 8460 §3: extension fields
            }
            if (uris != null) {
                return Optional.empty(); // rua twice
            }
            uris = new ArrayList<>();
            for (String u : f.substring(eq + 1).split(",", -1)) {
                uris.add(u.strip());
            }
        }
        if (uris == null) {
            return Optional.empty();
        }
        Set<String> seen = new LinkedHashSet<>();
        List<ReportDestination> rua = new ArrayList<>();
        List<Refused> refused = new ArrayList<>();
        for (String u : uris) {
            ReportDestination d;
            try {
                d = ReportDestination.parse(u);
            } catch (IllegalArgumentException e) {
                refused.add(new Refused(u, e.getMessage()));
                continue;
            }
            if (!seen.add(d.uri())) {
                refused.add(new Refused(u, "repeats an earlier destination"));
            } else if (rua.size() >= MAX_DESTINATIONS) {
                refused.add(new Refused(u, "more than " + MAX_DESTINATIONS
                        + " destinations: only the first " + MAX_DESTINATIONS + " are used"));
            } else {
                rua.add(d);
            }
        }
        return Optional.of(new TlsrptRecord(rua, refused));
    }
}
