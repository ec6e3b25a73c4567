package org.tlspolicy.audit;

import org.tlspolicy.dns.DnsResult;
import org.tlspolicy.dns.Dnssec;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** DNS answers as the audit's checks read them. */
final class AuditDns {

    private AuditDns() {
    }

    /** The addresses of an A/AAAA answer, as given. */
    static List<InetAddress> addresses(DnsResult.Answer answer) {
        List<InetAddress> all = new ArrayList<>();
        for (Record r : answer.records()) {
            if (r instanceof ARecord a) {
                all.add(a.getAddress());
            } else if (r instanceof AAAARecord a) {
                all.add(a.getAddress());
            }
        }
        return all;
    }

    /** Each TXT record of an answer, its strings joined (RFC 7208 §3.3 and the like). */
    static List<String> texts(DnsResult txt) {
        List<String> texts = new ArrayList<>();
        if (txt instanceof DnsResult.Answer a) {
            for (Record r : a.records()) {
                if (r instanceof TXTRecord t) {
                    texts.add(String.join("", t.getStrings()));
                }
            }
        }
        return texts;
    }

    /** Why an answer has no records, in words. */
    static String failure(DnsResult r) {
        if (r instanceof DnsResult.NxDomain) {
            return "no such name";
        }
        if (r instanceof DnsResult.NoData) {
            return "no records";
        }
        return Dnssec.of(r) instanceof Dnssec.Bogus b ? "DNSSEC-bogus: " + b.reason()
                : ((Dnssec.Indeterminate) Dnssec.of(r)).reason();
    }

    /** The absolute DNS name of a host name. */
    static Name name(String host) {
        try {
            return Name.fromString(host + ".");
        } catch (TextParseException e) {
            throw new IllegalArgumentException("not a domain name: " + host, e);
        }
    }

    /** The result of a lookup, a timeout after ten times {@code timeout} (a backstop). */
    static DnsResult join(CompletableFuture<DnsResult> f, Duration timeout) {
        // DNS lookups end on their own (the client's timeout and attempts); the bound is a
        // backstop against a bug, not a limit anyone should reach.
        try {
            return f.orTimeout(timeout.toMillis() * 10, TimeUnit.MILLISECONDS)
                    .join();
        } catch (java.util.concurrent.CompletionException e) {
            return new DnsResult.Timeout("no answer within " + timeout.toMillis()
                    * 10 + " ms");
        }
    }
}
