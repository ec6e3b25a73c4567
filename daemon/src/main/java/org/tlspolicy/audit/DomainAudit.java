package org.tlspolicy.audit;

import java.util.List;
import java.util.Optional;

/**
 * A domain as a sending MTA sees it: every finding, and the figures that monitoring wants
 * (certificates' days to expiry, TLSA match states, the policy's mode).
 *
 * @param domain       the domain audited
 * @param findings     in the order checked
 * @param policy       the MTA-STS policy served, if one could be had
 * @param certificates each certificate's days to expiry: MX hosts and the policy host
 * @param tlsa         each MX host's TLSA state: 1 a record matches, 0 none does, absent: no
 *                     TLSA
 */
public record DomainAudit(String domain, List<Finding> findings, Optional<Policy> policy,
                          List<Certificate> certificates, List<TlsaState> tlsa) {

    public DomainAudit {
        findings = List.copyOf(findings);
        certificates = List.copyOf(certificates);
        tlsa = List.copyOf(tlsa);
    }

    /** The policy as served: its id (from the TXT record), mode, max_age and patterns. */
    public record Policy(String id, String mode, long maxAge, List<String> mx) {
        public Policy {
            mx = List.copyOf(mx);
        }
    }

    /** A certificate's days left: {@code role} is {@code mx} or {@code policy-host}. */
    public record Certificate(String host, String role, long daysLeft) {
    }

    /** Whether some TLSA record of {@code host} matches what it serves. */
    public record TlsaState(String host, boolean matches) {
    }

    /** The gravest level of the findings. */
    public Level level() {
        Level l = Level.OK;
        for (Finding f : findings) {
            l = l.max(f.level());
        }
        return l;
    }
}
