package org.tlspolicy.audit;

import org.tlspolicy.dns.DnsResult;
import org.tlspolicy.tlsrpt.rua.ReportDestination;
import org.tlspolicy.tlsrpt.rua.TlsrptRecord;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** A domain's TLSRPT record as a sender reads it: one record, each rua usable. */
final class TlsrptAudit {

    private TlsrptAudit() {
    }

    /** The {@code _smtp._tls} TXT record (RFC 8460 §3). */
    static void check(Findings d, DnsResult txt) {
        String subject = "_smtp._tls." + d.domain;
        if (!(txt instanceof DnsResult.Data)) {
            d.add("tlsrpt-record", subject, Level.FAIL, "TXT lookup failed: " + AuditDns.failure(txt),
                    "fix the DNS", "");
            return;
        }
        List<String> texts = AuditDns.texts(txt);
        long versioned = texts.stream().filter(TlsrptRecord::startsWithVersion).count();
        Optional<TlsrptRecord> record = TlsrptRecord.select(texts);
        if (versioned == 0) {
            d.add("tlsrpt-record", subject, Level.WARN, "no v=TLSRPTv1 record: senders send no "
                    + "reports", "publish \"v=TLSRPTv1; rua=mailto:tlsrpt@" + d.domain + "\" and "
                    + "take the reports in with tlsrpt-receiver", "");
            return;
        }
        // RFC 8460 §3: records not starting v=TLSRPTv1 are discarded; unless exactly one
        // remains (and it parses), the domain has no TLSRPT.
        if (record.isEmpty()) {
            d.add("tlsrpt-record", subject, Level.FAIL, versioned > 1 ? versioned
                    + " v=TLSRPTv1 records: senders use none" : "invalid: "
                    + texts.stream().filter(TlsrptRecord::startsWithVersion).findFirst()
                    .orElse(""), "publish exactly one \"v=TLSRPTv1; rua=mailto:…\" record",
                    "");
            return;
        }
        TlsrptRecord r = record.get();
        for (TlsrptRecord.Refused refused : r.refused()) {
            d.add("tlsrpt-record", subject, Level.WARN, "rua " + refused.text() + " is not "
                    + "usable: " + refused.reason(), "give a mailto: or https: URI", "");
        }
        if (r.rua().isEmpty()) {
            d.add("tlsrpt-record", subject, Level.FAIL, "no usable rua URI", "give a mailto: "
                    + "or https: URI", "");
            return;
        }
        d.add("tlsrpt-record", subject, Level.OK, "rua " + r.rua().stream()
                .map(ReportDestination::uri).collect(Collectors.joining(", ")), "", "");
    }
}
