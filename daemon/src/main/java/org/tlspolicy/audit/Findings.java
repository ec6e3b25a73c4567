package org.tlspolicy.audit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** What one domain's audit gathers while its checks run, in the order they add it. */
final class Findings {

    final String domain;
    final Instant now;
    final List<Finding> findings = new ArrayList<>();
    final List<DomainAudit.Certificate> certificates = new ArrayList<>();
    final List<DomainAudit.TlsaState> tlsa = new ArrayList<>();

    Findings(String domain, Instant now) {
        this.domain = domain;
        this.now = now;
    }

    /** A finding about the domain as a whole (no MX host). */
    void add(String check, String subject, Level level, String found, String advice,
             String result) {
        findings.add(new Finding(check, subject, level, found, advice, result, ""));
    }
}
