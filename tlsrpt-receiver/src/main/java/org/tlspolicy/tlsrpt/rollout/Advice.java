package org.tlspolicy.tlsrpt.rollout;

import java.util.List;
import java.util.Optional;

/**
 * What {@code tlsrpt-receiver rollout} says to do with a domain's MTA-STS policy, why, and the
 * exact records to publish when something changes.
 *
 * @param domain  the policy domain
 * @param action  what to do
 * @param reasons why, one line each
 * @param change  the records to publish, when the action changes the policy
 */
public record Advice(String domain, Action action, List<String> reasons,
                     Optional<Change> change) {

    public Advice {
        reasons = List.copyOf(reasons);
    }

    /** The actions, each one word for scripts. */
    public enum Action {
        /** No MTA-STS yet: start with {@code tlsrpt-receiver publish}. */
        PUBLISH("publish"),
        /** Keep mode testing: failures on the domain's side, or not enough clean reports yet. */
        STAY_TESTING("stay-testing"),
        /** Switch to mode enforce. */
        ENFORCE("enforce"),
        /** Enforced and clean: nothing to do. */
        STAY_ENFORCE("stay-enforce"),
        /** Enforced and clean for long enough: raise max_age. */
        RAISE_MAX_AGE("raise-max-age"),
        /** Enforced, with failures on the domain's side: back to testing now. */
        ROLLBACK("rollback");

        private final String word;

        Action(String word) {
            this.word = word;
        }

        public String word() {
            return word;
        }
    }

    /**
     * A new policy: the TXT record with its new id (RFC 8461 §3.1: senders fetch the policy
     * again only when the id changes) and the policy file to serve.
     */
    public record Change(String id, String mode, long maxAge, List<String> mx) {

        public Change {
            mx = List.copyOf(mx);
        }

        /** {@code _mta-sts.DOMAIN. IN TXT "v=STSv1; id=ID;"} */
        public String txtRecord(String domain) {
            return "_mta-sts." + domain + ". IN TXT \"v=STSv1; id=" + id + ";\"";
        }

        /** The policy file (RFC 8461 §3.2), CRLF-free: senders accept LF. */
        public String policyFile() {
            StringBuilder b = new StringBuilder("version: STSv1\nmode: ").append(mode)
                    .append('\n');
            for (String m : mx) {
                b.append("mx: ").append(m).append('\n');
            }
            return b.append("max_age: ").append(maxAge).append('\n').toString();
        }
    }
}
