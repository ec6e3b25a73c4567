package org.tlspolicy.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.Writer;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * The audit as one JSON object, for scripts and monitoring. The field names are an interface
 * (docs/audit.md) and stay: {@code version} changes when one does.
 */
public final class AuditJson {

    /** The document's version: 1. */
    public static final int VERSION = 1;

    private AuditJson() {
    }

    public static void write(List<DomainAudit> audits, Instant at, Writer out)
            throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeNumberField("version", VERSION);
            g.writeStringField("generated", at.toString());
            g.writeStringField("level", word(overall(audits)));
            g.writeArrayFieldStart("domains");
            for (DomainAudit a : audits) {
                domain(g, a);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        out.write('\n');
        out.flush();
    }

    private static void domain(JsonGenerator g, DomainAudit a) throws IOException {
        g.writeStartObject();
        g.writeStringField("domain", a.domain());
        g.writeStringField("level", word(a.level()));
        if (a.policy().isPresent()) {
            DomainAudit.Policy p = a.policy().get();
            g.writeObjectFieldStart("policy");
            g.writeStringField("id", p.id());
            g.writeStringField("mode", p.mode());
            g.writeNumberField("max_age", p.maxAge());
            g.writeArrayFieldStart("mx");
            for (String m : p.mx()) {
                g.writeString(m);
            }
            g.writeEndArray();
            g.writeEndObject();
        } else {
            g.writeNullField("policy");
        }
        g.writeArrayFieldStart("findings");
        for (Finding f : a.findings()) {
            g.writeStartObject();
            g.writeStringField("check", f.check());
            g.writeStringField("subject", f.subject());
            g.writeStringField("level", word(f.level()));
            g.writeStringField("found", f.found());
            g.writeStringField("advice", f.advice());
            g.writeStringField("result", f.result());
            g.writeStringField("host", f.host());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("certificates");
        for (DomainAudit.Certificate c : a.certificates()) {
            g.writeStartObject();
            g.writeStringField("host", c.host());
            g.writeStringField("role", c.role());
            g.writeNumberField("days_left", c.daysLeft());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("tlsa");
        for (DomainAudit.TlsaState t : a.tlsa()) {
            g.writeStartObject();
            g.writeStringField("host", t.host());
            g.writeBooleanField("matches", t.matches());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    /** The gravest level of all domains. */
    public static Level overall(List<DomainAudit> audits) {
        Level l = Level.OK;
        for (DomainAudit a : audits) {
            l = l.max(a.level());
        }
        return l;
    }

    /** ok, warn, fail: the JSON's lower-case level words. */
    static String word(Level l) {
        return l.name().toLowerCase(Locale.ROOT);
    }
}
