package org.tlspolicy.dane;

import java.util.List;

/**
 * What resolving a domain's DANE status came to (RFC 7672 §2.2). Every variant carries the
 * security of the MX answer and what was learnt per host, so that {@code query} can show why.
 */
public sealed interface DaneLookup {

    /** Seconds the result may be kept: the least TTL of the answers it rests on. */
    long ttl();

    /** The DNSSEC status of the MX lookup: secure, insecure, bogus or indeterminate. */
    String mx();

    /** The hosts looked at (none when the MX answer settled it). */
    List<HostTlsa> hosts();

    /**
     * DANE applies: the MX answer is secure and at least one host has usable secure TLSA
     * records; {@link #mandatory()} when every host has.
     */
    record Applies(String mx, List<HostTlsa> hosts, long ttl) implements DaneLookup {
        public Applies {
            hosts = List.copyOf(hosts);
        }

        /** RFC 7672 §2.2: every MX host authenticates with DANE, so none may be used without. */
        public boolean mandatory() {
            return hosts.stream().allMatch(h -> h.status() == HostTlsa.Status.USABLE);
        }
    }

    /**
     * DANE does not apply (an insecure MX answer, or no host with usable secure TLSA records):
     * MTA-STS decides.
     */
    record NotApplicable(String reason, String mx, List<HostTlsa> hosts, long ttl)
            implements DaneLookup {
        public NotApplicable {
            hosts = List.copyOf(hosts);
        }
    }

    /** The domain publishes a null MX (RFC 7505): it accepts no mail, no policy applies. */
    record NullMx(String mx, long ttl) implements DaneLookup {
        @Override
        public List<HostTlsa> hosts() {
            return List.of();
        }
    }

    /**
     * A bogus or indeterminate answer where DANE is decided: whether DANE applies cannot be
     * known, so the mail must wait (RFC 7672 §2.1.1) rather than go with less.
     *
     * @param bogus whether a validation failure (rather than an outage) was seen
     */
    record Failed(String reason, boolean bogus, String mx, List<HostTlsa> hosts)
            implements DaneLookup {
        public Failed {
            hosts = List.copyOf(hosts);
        }

        @Override
        public long ttl() {
            return 0;
        }
    }
}
