package org.tlspolicy.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The audit as node_exporter textfile metrics ({@code --collector.textfile.directory}):
 * written to a temporary file beside the target and renamed over it, so that the collector
 * never reads half a file.
 */
public final class AuditTextfile {

    private AuditTextfile() {
    }

    /** Writes {@code audits} to {@code file}, atomically. */
    public static void write(List<DomainAudit> audits, Instant at, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        // node_exporter reads *.prom only: the temporary file is not read.
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, text(audits, at), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The metrics, in the Prometheus text format 0.0.4. */
    public static String text(List<DomainAudit> audits, Instant at) {
        StringBuilder b = new StringBuilder();
        head(b, "tlspolicy_audit_level", "The gravest finding of the domain's audit: 0 ok, 1 "
                + "warn, 2 fail.");
        for (DomainAudit a : audits) {
            b.append("tlspolicy_audit_level{domain=\"").append(label(a.domain())).append("\"} ")
                    .append(a.level().ordinal()).append('\n');
        }
        head(b, "tlspolicy_audit_findings", "Findings of the domain's audit, by check and "
                + "level.");
        for (DomainAudit a : audits) {
            Map<String, Integer> counts = new TreeMap<>();
            for (Finding f : a.findings()) {
                counts.merge(f.check() + "\u0000" + AuditJson.word(f.level()), 1, Integer::sum);
            }
            counts.forEach((k, n) -> {
                String[] p = k.split("\u0000");
                b.append("tlspolicy_audit_findings{domain=\"").append(label(a.domain()))
                        .append("\",check=\"").append(p[0]).append("\",level=\"").append(p[1])
                        .append("\"} ").append(n).append('\n');
            });
        }
        head(b, "tlspolicy_audit_certificate_days_left", "Days until the certificate served "
                + "expires (negative: expired), by host and role (mx, policy-host).");
        for (DomainAudit a : audits) {
            for (DomainAudit.Certificate c : a.certificates()) {
                b.append("tlspolicy_audit_certificate_days_left{domain=\"").append(label(
                        a.domain())).append("\",host=\"").append(label(c.host()))
                        .append("\",role=\"").append(c.role()).append("\"} ")
                        .append(c.daysLeft()).append('\n');
            }
        }
        head(b, "tlspolicy_audit_tlsa_match", "1 when a TLSA record of the MX host matches the "
                + "chain it serves, 0 when none does.");
        for (DomainAudit a : audits) {
            for (DomainAudit.TlsaState t : a.tlsa()) {
                b.append("tlspolicy_audit_tlsa_match{domain=\"").append(label(a.domain()))
                        .append("\",host=\"").append(label(t.host())).append("\"} ")
                        .append(t.matches() ? 1 : 0).append('\n');
            }
        }
        head(b, "tlspolicy_audit_policy_max_age_seconds", "The max_age of the MTA-STS policy "
                + "served, by mode.");
        for (DomainAudit a : audits) {
            a.policy().ifPresent(p -> b.append("tlspolicy_audit_policy_max_age_seconds{domain=\"")
                    .append(label(a.domain())).append("\",mode=\"").append(label(p.mode()))
                    .append("\"} ").append(p.maxAge()).append('\n'));
        }
        head(b, "tlspolicy_audit_timestamp_seconds", "When the audit ran.");
        b.append("tlspolicy_audit_timestamp_seconds ").append(at.getEpochSecond()).append('\n');
        return b.toString();
    }

    private static void head(StringBuilder b, String name, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(" gauge\n");
    }

    /** A label value as the text format escapes it. */
    private static String label(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
