package org.tlspolicy.tlsrpt.deliver;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A domain's TLSRPT record (RFC 8460 §3): the TXT record at {@code _smtp._tls.DOMAIN}, {@code
 * v=TLSRPTv1; rua=mailto:reports@example.com,https://reporting.example.com/v1/tlsrpt}.
 *
 * @param rua where reports go, in the record's order: {@code mailto:} and {@code https:} URIs
 */
public record TlsrptRecord(List<URI> rua) {

    /** The longest record considered (the sum of its TXT strings). */
    static final int MAX_LENGTH = 4096;

    public TlsrptRecord {
        rua = List.copyOf(rua);
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

    private static boolean startsWithVersion(String t) {
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
     * separated by commas; other fields (extensions) are ignored. URIs other than {@code
     * mailto:} with an address and {@code https:} with a host are skipped; a record left with
     * none is no record.
     */
    public static Optional<TlsrptRecord> parse(String text) {
        if (text.length() > MAX_LENGTH || !startsWithVersion(text)) {
            return Optional.empty();
        }
        List<URI> rua = null;
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
            if (rua != null) {
                return Optional.empty(); // rua twice
            }
            rua = new ArrayList<>();
            for (String u : f.substring(eq + 1).split(",", -1)) {
                uri(u.strip()).ifPresent(rua::add);
            }
        }
        if (rua == null || rua.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new TlsrptRecord(rua));
    }

    private static Optional<URI> uri(String s) {
        try {
            URI u = new URI(s);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (scheme.equals("mailto")) {
                String to = u.getSchemeSpecificPart();
                int at = to == null ? -1 : to.indexOf('@');
                if (at > 0 && at < to.length() - 1 && to.indexOf('?') < 0
                        && to.indexOf(',') < 0 && !to.contains(" ")) {
                    return Optional.of(u);
                }
            } else if (scheme.equals("https") && u.getHost() != null && u.getUserInfo() == null) {
                return Optional.of(u);
            }
        } catch (URISyntaxException e) {
            // skipped
        }
        return Optional.empty();
    }
}
