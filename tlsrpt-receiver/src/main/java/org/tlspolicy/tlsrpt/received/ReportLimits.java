package org.tlspolicy.tlsrpt.received;

/**
 * How much of a report is read before it is refused: a report comes from anyone who can send
 * mail or reach the HTTPS endpoint. Defaults fit the largest real reports with room: a large
 * provider's daily report for a busy domain is tens of kilobytes.
 *
 * @param maxCompressed   bytes of the report as it arrives (gzip or JSON)
 * @param maxJson         bytes of JSON once decompressed (a gzip bomb stops here)
 * @param maxDepth        nesting of JSON objects and arrays (RFC 8460's is 5)
 * @param maxString       characters of one JSON string
 * @param maxPolicies     policies in one report
 * @param maxFailures     failure-details of one policy
 */
public record ReportLimits(int maxCompressed, int maxJson, int maxDepth, int maxString,
                           int maxPolicies, int maxFailures) {

    /** 4 MiB arriving, 16 MiB of JSON, depth 16, strings of 64 Ki characters. */
    public static final ReportLimits DEFAULT = new ReportLimits(4 << 20, 16 << 20, 16,
            64 * 1024, 10_000, 100_000);
}
