package org.tlspolicy.tlsrpt.rollout;

import org.tlspolicy.log.LogValue;

import java.io.PrintWriter;

/** The advice for people: the action, the reasons, and the records to publish. */
public final class RolloutText {

    private RolloutText() {
    }

    public static void print(Advice a, PrintWriter out) {
        out.println(a.domain() + ": " + a.action().word());
        for (String r : a.reasons()) {
            out.println("  " + LogValue.printable(r));
        }
        a.change().ifPresent(c -> {
            out.println();
            out.println("Publish, policy file first (https://mta-sts." + a.domain()
                    + "/.well-known/mta-sts.txt, Content-Type: text/plain):");
            out.println();
            c.policyFile().lines().forEach(l -> out.println("    " + l));
            out.println();
            out.println("then the TXT record with the new id:");
            out.println();
            out.println("    " + c.txtRecord(a.domain()));
        });
    }
}
