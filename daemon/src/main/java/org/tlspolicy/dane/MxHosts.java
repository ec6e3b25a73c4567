package org.tlspolicy.dane;

import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The hosts an MX RRset names, most preferred first, each once (RFC 5321 §5.1), or the null
 * MX (RFC 7505 §3: a single MX of preference 0 with the root as exchange, "this domain accepts
 * no mail").
 *
 * @param hosts  host names, lower case, without the trailing dot; empty for a null MX
 * @param nullMx whether the RRset is a null MX
 */
public record MxHosts(List<String> hosts, boolean nullMx) {

    public MxHosts {
        hosts = List.copyOf(hosts);
    }

    /** The hosts of an MX answer. Records of other types are ignored. */
    public static MxHosts of(List<Record> answer) {
        List<MXRecord> mx = new ArrayList<>();
        for (Record r : answer) {
            if (r instanceof MXRecord m) {
                mx.add(m);
            }
        }
        mx.sort(Comparator.comparingInt(MXRecord::getPriority));
        List<String> hosts = new ArrayList<>();
        boolean root = false;
        for (MXRecord m : mx) {
            if (m.getTarget().equals(Name.root)) {
                // RFC 7505 §3: with other MX records a "." exchange is a mistake; skip it.
                root = true;
                continue;
            }
            String host = name(m.getTarget());
            if (!hosts.contains(host)) {
                hosts.add(host);
            }
        }
        return new MxHosts(hosts, root && hosts.isEmpty());
    }

    /** A name as Postfix and TLSRPT write it: lower case, no trailing dot. */
    public static String name(Name n) {
        return n.toString(true).toLowerCase(Locale.ROOT);
    }
}
