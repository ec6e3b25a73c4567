package org.tlspolicy.tlsrpt.cli;

import org.tlspolicy.tlsrpt.report.TlsReport;
import picocli.CommandLine.Option;

/**
 * Who reports (RFC 8460 §4.4): {@code report} may leave it out (the JSON then has empty
 * fields), {@code send} may not, so its help marks them required ({@link Required}).
 */
class SubmitterOptions {

    static final String ORGANIZATION = "organization-name of the reports";
    static final String CONTACT = "contact-info of the reports, e.g. "
            + "mailto:postmaster@example.net";
    static final String SUBMITTER = "Our domain: the submitter of the reports, and the DKIM "
            + "signing domain of report mail";

    @Option(names = "--organization", defaultValue = "", description = ORGANIZATION)
    String organization;

    @Option(names = "--contact", defaultValue = "", description = CONTACT)
    String contact;

    @Option(names = "--submitter", defaultValue = "", description = SUBMITTER)
    String submitter;

    @Option(names = "--sending-ip", defaultValue = "", description = "sending-mta-ip of "
            + "failure details (Postfix's log does not name it)")
    String sendingIp;

    TlsReport.Submitter submitter() {
        return new TlsReport.Submitter(organization, contact, submitter, sendingIp);
    }

    /** The same options, required. */
    static final class Required {

        @Option(names = "--organization", required = true, description = ORGANIZATION)
        String organization;

        @Option(names = "--contact", required = true, description = CONTACT)
        String contact;

        @Option(names = "--submitter", required = true, description = SUBMITTER)
        String submitter;

        @Option(names = "--sending-ip", defaultValue = "", description = "sending-mta-ip of "
                + "failure details (Postfix's log does not name it)")
        String sendingIp;

        TlsReport.Submitter submitter() {
            return new TlsReport.Submitter(organization, contact, submitter, sendingIp);
        }
    }
}
