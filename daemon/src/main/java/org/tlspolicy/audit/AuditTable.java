package org.tlspolicy.audit;

import java.io.PrintWriter;
import java.util.List;

/**
 * The audit for people: per domain a heading with its gravest level, then one line a finding,
 * {@code LEVEL CHECK SUBJECT: FOUND}, and what to change on the line after it, when anything.
 */
public final class AuditTable {

    private AuditTable() {
    }

    public static void print(List<DomainAudit> audits, PrintWriter out) {
        int subject = 0;
        for (DomainAudit a : audits) {
            for (Finding f : a.findings()) {
                subject = Math.max(subject, Math.min(48, f.subject().length()));
            }
        }
        for (DomainAudit a : audits) {
            out.println(a.domain() + "  " + a.level().word());
            for (Finding f : a.findings()) {
                out.println(String.format("  %-4s  %-23s  %-" + subject + "s  %s",
                        f.level().word(), f.check(), f.subject(), f.found()));
                if (!f.advice().isEmpty()) {
                    out.println(String.format("  %-4s  %-23s  %-" + subject + "s  -> %s", "",
                            "", "", f.advice()));
                }
            }
            out.println();
        }
        long failed = audits.stream().filter(a -> a.level() == Level.FAIL).count();
        long warned = audits.stream().filter(a -> a.level() == Level.WARN).count();
        out.println(audits.size() + " domain" + (audits.size() == 1 ? "" : "s") + ": "
                + (audits.size() - failed - warned) + " ok, " + warned + " warn, " + failed
                + " FAIL");
    }
}
