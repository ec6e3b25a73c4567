package org.tlspolicy.tlsrpt.received;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ReportJson} on the RFC 8460 §4.4 example's shape and on what reporters send in the
 * wild, and on each kind of hostile or broken report the issue names: each refused with a
 * reason that says what is wrong.
 */
class ReportJsonTest {

    static final ReportJson JSON = new ReportJson(ReportLimits.DEFAULT);

    /** A report like RFC 8460 §4.4's example (one sts policy, one failure group). */
    static String report(String policyExtra, String count, String start) {
        return """
                {"organization-name": "Company-X",
                 "date-range": {"start-datetime": "%s", "end-datetime": "2016-04-01T23:59:59Z"},
                 "contact-info": "sts-reporting@company-x.example",
                 "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
                 "policies": [{
                   "policy": {"policy-type": "sts",
                     "policy-string": ["version: STSv1", "mode: testing", "mx: *.mail.company-y.example", "max_age: 86400"],
                     "policy-domain": "company-y.example", %s
                     "mx-host": ["*.mail.company-y.example"]},
                   "summary": {"total-successful-session-count": 5326, "total-failure-session-count": %s},
                   "failure-details": [{"result-type": "certificate-expired",
                     "sending-mta-ip": "2001:db8:abcd:0012::1",
                     "receiving-mx-hostname": "mx1.mail.company-y.example",
                     "failed-session-count": 100}]
                 }]}""".formatted(start, policyExtra, count);
    }

    static String report() {
        return report("", "303", "2016-04-01T00:00:00Z");
    }

    static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(b);
        }
        return out.toByteArray();
    }

    static String rejected(String json) {
        return rejected(json.getBytes(StandardCharsets.UTF_8));
    }

    static void assertRejected(String json, String reason) {
        assertRejected(json.getBytes(StandardCharsets.UTF_8), reason);
    }

    static void assertRejected(byte[] body, String reason) {
        String got = rejected(body);
        assertTrue(got.contains(reason), "'" + got + "' does not say '" + reason + "'");
    }

    static String rejected(byte[] body) {
        return assertThrows(ReportRejected.class, () -> JSON.parse(body)).getMessage();
    }

    @Test
    void theRfcExampleGzippedOrNot() throws Exception {
        byte[] plain = report().getBytes(StandardCharsets.UTF_8);
        ReceivedReport r = JSON.parse(plain);
        assertEquals(r, JSON.parse(gzip(plain)));
        assertEquals("Company-X", r.organization());
        assertEquals("5065427c-23d3-47ca-b6e0-946ea0e8c4be", r.reportId());
        ReceivedReport.Policy p = r.policies().get(0);
        assertEquals("company-y.example", p.domain());
        assertEquals(5326, p.successful());
        assertEquals(303, p.failed());
        assertEquals(List.of("*.mail.company-y.example"), p.mxHosts());
        assertEquals("certificate-expired", p.failures().get(0).resultType());
        assertEquals(100, p.failures().get(0).count());
        assertEquals("mx1.mail.company-y.example", p.failures().get(0).receivingMx());
    }

    @Test
    void wildShapesAreTaken() throws Exception {
        // mx-host as one string; unknown fields anywhere; upper- and lower-case T/Z.
        String mxString = report("\"x-vendor\": {\"deep\": [1, 2, {\"a\": null}]},", "303",
                "2016-04-01t00:00:00z").replace("\"mx-host\": [\"*.mail.company-y.example\"]",
                "\"mx-host\": \"*.mail.company-y.example\"");
        ReceivedReport r = JSON.parse(mxString.getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of("*.mail.company-y.example"), r.policies().get(0).mxHosts());
        // Microsoft's TLSA policy: the policy-string one string holding JSON.
        String tlsa = report().replace("\"policy-type\": \"sts\"", "\"policy-type\": \"tlsa\"")
                .replaceAll("\"policy-string\": \\[[^]]*]", "\"policy-string\": [\"{\\\\\"TlsaRecords"
                        + "\\\\\":[{\\\\\"Usage\\\\\":3,\\\\\"Selector\\\\\":1}]}\"]");
        ReceivedReport m = JSON.parse(tlsa.getBytes(StandardCharsets.UTF_8));
        assertEquals("tlsa", m.policies().get(0).type());
        assertTrue(m.policies().get(0).strings().get(0).startsWith("{\"TlsaRecords\""));
    }

    @Test
    void eachBadInputIsRefusedWithItsReason() throws Exception {
        assertRejected(report("", "-1", "2016-04-01T00:00:00Z"),
                "total-failure-session-count -1 is not a count");
        assertRejected(report("", "3.5", "2016-04-01T00:00:00Z"), "is not a whole number");
        assertRejected(report("", "\"303\"", "2016-04-01T00:00:00Z"), "is not a whole number");
        assertRejected(report("", "99999999999999999999999", "2016-04-01T00:00:00Z"),
                "Number value length");
        assertRejected(report("", "303", "2016-04-01 00:00"), "is not an RFC 3339 date-time");
        assertRejected(report("", "303", "1459468800"), "RFC 3339");
        assertRejected(report("\"policy-domain\": \"evil.example\",", "303",
                "2016-04-01T00:00:00Z"), "Duplicate field 'policy-domain'");
        assertRejected(report().replace("company-y.example\"", "company-y.example\\r\\n"
                + "Bcc: x@y\""), "policy-domain");
        assertRejected(report().replace("\"report-id\": \"5065427c-23d3-47ca-b6e0-"
                + "946ea0e8c4be\",", ""), "no report-id");
        assertRejected(report().replace("\"sts\"", "\"stss\""), "policy-type");
        assertRejected("[1, 2]", "not a JSON object");
        assertRejected(report() + " {}", "after the report");
        assertRejected("{\"a\": ", "bad JSON");
    }

    @Test
    void nestingLengthAndBombsAreBounded() throws Exception {
        String deep = "{\"x\": " + "[".repeat(100) + "]".repeat(100) + "}";
        assertRejected(deep, "nesting depth");
        String longString = report().replace("Company-X", "X".repeat(70_000));
        assertRejected(longString, "String value length");
        // 64 MiB of zeros in a few tens of kilobytes: stopped at the bound of 16 MiB.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) {
                z.write(zeros);
            }
        }
        assertTrue(out.size() < 200_000, out.size() + " bytes");
        assertRejected(out.toByteArray(), "gzip bomb");
        byte[] big = new byte[ReportLimits.DEFAULT.maxCompressed() + 1];
        assertRejected(big, "is over");
        assertRejected(new byte[] {0x1f, (byte) 0x8b, 1, 2, 3}, "not valid gzip");
    }
}
