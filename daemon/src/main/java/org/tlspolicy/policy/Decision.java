package org.tlspolicy.policy;

import org.tlspolicy.log.LogValue;
import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.socketmap.SocketmapReply;

/**
 * One answered lookup: the key as Postfix sent it, what it was taken for, the outcome and the
 * reply. Its {@link #logLine()} is the one line an operator greps for.
 *
 * @param outcome null when the key needed no resolution (see {@link NextHop.NoLookup})
 */
public record Decision(String key, NextHop nextHop, PolicyOutcome outcome, SocketmapReply reply,
                       long elapsedNanos) {

    /** The reason for the reply, whether it came from the key or from resolution. */
    public String reason() {
        if (outcome != null) {
            return outcome.reason();
        }
        return nextHop instanceof NextHop.NoLookup noLookup ? noLookup.reason() : "";
    }

    /** {@code key=... domain=... reply=... source=... reason="..." ms=...}, one line. */
    public String logLine() {
        StringBuilder b = new StringBuilder(160);
        b.append("decision key=").append(LogValue.of(key));
        if (nextHop instanceof NextHop.Domain domain) {
            b.append(" domain=").append(domain.name());
        }
        b.append(" reply=").append(reply.status());
        if (outcome instanceof PolicyOutcome.Apply apply) {
            b.append(" source=").append(apply.source())
                    .append(" policy=\"").append(LogValue.escaped(apply.policy().render())).append('"');
        }
        b.append(" reason=\"").append(LogValue.escaped(reason())).append('"');
        b.append(" ms=").append(String.format(java.util.Locale.ROOT, "%.3f", elapsedNanos / 1e6));
        return b.toString();
    }
}
