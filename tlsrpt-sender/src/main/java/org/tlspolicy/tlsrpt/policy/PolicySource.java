package org.tlspolicy.tlsrpt.policy;

import org.tlspolicy.tlsrpt.report.AppliedPolicy;

import java.io.IOException;

/** Where the policy a domain's sessions count under comes from. */
public interface PolicySource {

    /**
     * The policy of {@code domain} (lower case); {@link AppliedPolicy#none} when it has none.
     *
     * @throws IOException when it cannot be known now: the sessions must wait, not be
     *                     counted under a guess
     */
    AppliedPolicy policy(String domain) throws IOException;
}
