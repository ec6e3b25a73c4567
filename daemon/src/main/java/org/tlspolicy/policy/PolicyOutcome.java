package org.tlspolicy.policy;

import org.tlspolicy.socketmap.SocketmapReply;

/**
 * What resolving a domain's policy came to. Each variant maps to one socketmap reply: a policy
 * to OK, no policy to NOTFOUND (Postfix's default level applies), a deferral to TEMP (the mail
 * waits: used when an attack or outage makes the answer unknowable, never to downgrade).
 */
public sealed interface PolicyOutcome {

    /** Why, in a few words, for the log line and {@code query}. */
    String reason();

    /**
     * A policy applies. {@code source} names where it came from, e.g. {@code mta-sts};
     * {@code reply} is the policy rendered once, so that answering it again costs nothing.
     */
    record Apply(TlsPolicy policy, String source, String reason, SocketmapReply reply)
            implements PolicyOutcome {

        public Apply(TlsPolicy policy, String source, String reason) {
            this(policy, source, reason, SocketmapReply.ok(policy.render()));
        }
    }

    /** No policy applies to the domain. */
    record NoPolicy(String reason) implements PolicyOutcome {
    }

    /** The policy cannot be known now; mail to the domain must wait. */
    record Defer(String reason) implements PolicyOutcome {
    }
}
