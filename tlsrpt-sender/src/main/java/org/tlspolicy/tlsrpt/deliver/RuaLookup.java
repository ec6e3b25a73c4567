package org.tlspolicy.tlsrpt.deliver;

import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import org.tlspolicy.tlsrpt.rua.TlsrptRecord;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Finds where a domain wants its reports: its TLSRPT record at {@code _smtp._tls.DOMAIN}. */
public final class RuaLookup {

    private final Resolver resolver;

    public RuaLookup(Resolver resolver) {
        this.resolver = resolver;
    }

    /**
     * The domain's record, or empty if it publishes none (or several: RFC 8460 §3).
     *
     * @throws IOException when DNS gives no answer either way (try again later)
     */
    public Optional<TlsrptRecord> find(String domain) throws IOException {
        Lookup l;
        try {
            l = new Lookup(Name.fromString("_smtp._tls." + domain, Name.root), Type.TXT);
        } catch (TextParseException e) {
            return Optional.empty(); // not a name DNS can hold
        }
        l.setResolver(resolver);
        l.setCache(null);
        Record[] records = l.run();
        switch (l.getResult()) {
            case Lookup.SUCCESSFUL -> {
                List<String> texts = new ArrayList<>();
                for (Record r : records) {
                    if (r instanceof TXTRecord t) {
                        texts.add(String.join("", t.getStrings()));
                    }
                }
                return TlsrptRecord.select(texts);
            }
            case Lookup.HOST_NOT_FOUND, Lookup.TYPE_NOT_FOUND -> {
                return Optional.empty();
            }
            default -> throw new IOException("TXT _smtp._tls." + domain + ": "
                    + l.getErrorString());
        }
    }
}
