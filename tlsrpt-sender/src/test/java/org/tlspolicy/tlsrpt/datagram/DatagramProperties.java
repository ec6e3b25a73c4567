package org.tlspolicy.tlsrpt.datagram;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The datagram parser against datagrams written the way libtlsrpt writes them (its field
 * names, codes and spacing), and against anything at all.
 */
class DatagramProperties {

    /** JSON string escaping as libtlsrpt does it (quote, backslash, control characters). */
    static String esc(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    static int typeCode(PolicyType t) {
        return switch (t) {
            case TLSA -> 1;
            case STS -> 2;
            case NO_POLICY_FOUND -> 9;
        };
    }

    static int failureCode(ResultType t) {
        return switch (t) {
            case STARTTLS_NOT_SUPPORTED -> 201;
            case CERTIFICATE_HOST_MISMATCH -> 202;
            case CERTIFICATE_NOT_TRUSTED -> 203;
            case CERTIFICATE_EXPIRED -> 204;
            case VALIDATION_FAILURE -> 205;
            case STS_POLICY_FETCH_ERROR -> 301;
            case STS_POLICY_INVALID -> 302;
            case STS_WEBPKI_INVALID -> 303;
            case TLSA_INVALID -> 304;
            case DNSSEC_INVALID -> 305;
            case DANE_REQUIRED -> 306;
        };
    }

    /** The datagram as libtlsrpt writes it. */
    static String write(TlsrptDatagram d) {
        StringBuilder b = new StringBuilder("{\"d\": \"").append(esc(d.domain()))
                .append("\",\"pr\": \"").append(esc(d.policyRecord())).append('"');
        b.append(",\"policies\":[");
        for (int i = 0; i < d.policies().size(); i++) {
            TlsrptDatagram.Outcome o = d.policies().get(i);
            b.append(i == 0 ? "{" : ",{").append("\"policy-type\":")
                    .append(typeCode(o.policy().type()))
                    .append(",\"policy-domain\": \"").append(esc(o.policy().domain()))
                    .append('"');
            if (!o.policy().strings().isEmpty()) {
                b.append(",\"policy-string\":[").append(String.join(",", o.policy().strings()
                        .stream().map(s -> "\"" + esc(s) + "\"").toList())).append(']');
            }
            if (!o.policy().mxHosts().isEmpty()) {
                b.append(",\"mx-host\":[").append(String.join(",", o.policy().mxHosts()
                        .stream().map(s -> "\"" + esc(s) + "\"").toList())).append(']');
            }
            if (!o.failures().isEmpty()) {
                b.append(",\"failure-details\":[");
                for (int j = 0; j < o.failures().size(); j++) {
                    TlsrptDatagram.Failure f = o.failures().get(j);
                    b.append(j == 0 ? "{" : ",{").append("\"c\":")
                            .append(failureCode(f.type()));
                    String[][] fields = {{"s", f.sendingIp()}, {"n", f.mxHost()},
                        {"h", f.mxHelo()}, {"r", f.mxIp()}, {"a", f.additional()},
                        {"f", f.reasonCode()}};
                    for (String[] kv : fields) {
                        if (!kv[1].isEmpty()) {
                            b.append(",\"").append(kv[0]).append("\": \"").append(esc(kv[1]))
                                    .append('"');
                        }
                    }
                    b.append('}');
                }
                b.append(']');
            }
            b.append(",\"t\":").append(o.failures().size()).append(",\"f\":")
                    .append(o.success() ? 0 : 1).append('}');
        }
        return b.append("]}").toString();
    }

    @Provide
    Arbitrary<TlsrptDatagram> datagrams() {
        Arbitrary<String> name = Arbitraries.strings().withCharRange('a', 'z').withChars('.', '-')
                .ofMinLength(1).ofMaxLength(20);
        // Domains (d, policy-domain) are host names: the parser refuses anything else.
        Arbitrary<String> label = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1)
                .ofMaxLength(10);
        Arbitrary<String> domain = label.list().ofMinSize(2).ofMaxSize(4)
                .map(l -> String.join(".", l));
        Arbitrary<String> text = Arbitraries.strings().ofMaxLength(30);
        Arbitrary<TlsrptDatagram.Failure> failure = Combinators.combine(
                Arbitraries.of(ResultType.class), text, name, text, text, text, text)
                .as(TlsrptDatagram.Failure::new);
        Arbitrary<TlsrptDatagram.Outcome> outcome = Combinators.combine(
                Arbitraries.of(PolicyType.class), domain, text.list().ofMaxSize(4),
                name.list().ofMaxSize(3), Arbitraries.of(true, false),
                failure.list().ofMaxSize(3))
                .as((t, d, s, mx, ok, f) -> new TlsrptDatagram.Outcome(
                        new AppliedPolicy(t, d, s, mx), ok, f));
        return Combinators.combine(domain, text, outcome.list().ofMinSize(1).ofMaxSize(3))
                .as(TlsrptDatagram::new);
    }

    /** A recipient or policy domain that is no host name is refused (issue 34). */
    @Example
    void domainsThatAreNoHostNamesAreRefused() {
        for (String d : List.of("a", "x>, y", "evil.test\\r\\nDATA", "[127.0.0.1]")) {
            assertTrue(DatagramParser.parse(("{\"d\": \"" + d + "\",\"policies\":[{\"policy-type\""
                    + ":2,\"policy-domain\": \"ok.test\",\"t\":1,\"f\":0}]}").getBytes(
                    StandardCharsets.UTF_8)) instanceof DatagramParser.Parsed.Malformed, d);
        }
    }

    @Property
    void libtlsrptDatagramsRoundTrip(@ForAll("datagrams") TlsrptDatagram d) {
        DatagramParser.Parsed p = DatagramParser.parse(write(d).getBytes(
                StandardCharsets.UTF_8));
        assertEquals(new DatagramParser.Parsed.Datagram(d), p, write(d));
    }

    @Property
    void anythingIsADatagramOrMalformedNeverAnException(@ForAll byte[] bytes) {
        DatagramParser.Parsed p = DatagramParser.parse(bytes);
        if (p instanceof DatagramParser.Parsed.Datagram d) {
            assertTrue(!d.datagram().policies().isEmpty());
        }
    }

    @Property
    void cutDatagramsAreMalformed(@ForAll("datagrams") TlsrptDatagram d,
                                  @ForAll double where) {
        byte[] all = write(d).getBytes(StandardCharsets.UTF_8);
        int cut = (int) (Math.abs(where) % 1.0 * (all.length - 1));
        byte[] part = java.util.Arrays.copyOf(all, cut);
        assertInstanceOf(DatagramParser.Parsed.Malformed.class, DatagramParser.parse(part));
    }

    @Example
    void unknownCodesAndMissingFieldsAreMalformed() {
        for (String bad : List.of("{}", "{\"d\": \"a.test\"}",
                "{\"d\": \"a.test\",\"policies\":[]}",
                "{\"d\": \"a.test\",\"policies\":[{\"policy-type\":3,\"t\":0,\"f\":0}]}",
                "{\"d\": \"a.test\",\"policies\":[{\"policy-type\":2,\"t\":0}]}",
                "{\"d\": \"a.test\",\"policies\":[{\"policy-type\":2,\"failure-details\":"
                        + "[{\"c\":999}],\"t\":1,\"f\":1}]}",
                "[1,2]", "not json")) {
            assertInstanceOf(DatagramParser.Parsed.Malformed.class, DatagramParser.parse(
                    bad.getBytes(StandardCharsets.UTF_8)), bad);
        }
    }

    /** RFC 8460 receiving-mx-helo: the name in the first line of Postfix's whole EHLO reply. */
    @Property
    void theEhloNameIsTheFirstLinesName(@ForAll("hostNames") String name,
                                        @ForAll("ehloKeywords") List<String> keywords) {
        StringBuilder reply = new StringBuilder(keywords.isEmpty() ? "250 " : "250-")
                .append(name);
        for (int i = 0; i < keywords.size(); i++) {
            reply.append("\r\n250").append(i == keywords.size() - 1 ? ' ' : '-')
                    .append(keywords.get(i));
        }
        TlsrptDatagram.Failure f = new TlsrptDatagram.Failure(ResultType.VALIDATION_FAILURE,
                "", "mx", reply.toString(), "", "", "");
        assertEquals(name, f.ehloName());
    }

    @Property
    void anEhloNameIsNeverMoreThanOneWord(@ForAll String helo) {
        String name = new TlsrptDatagram.Failure(ResultType.VALIDATION_FAILURE, "", "", helo, "",
                "", "").ehloName();
        assertTrue(name.indexOf(' ') < 0 && name.indexOf('\n') < 0, name);
    }

    @Provide
    Arbitrary<String> hostNames() {
        return Arbitraries.strings().withCharRange('a', 'z').withChars('.', '-').ofMinLength(1)
                .ofMaxLength(40).filter(s -> !s.isBlank());
    }

    @Provide
    Arbitrary<List<String>> ehloKeywords() {
        return Arbitraries.of("PIPELINING", "SIZE 10240000", "STARTTLS", "8BITMIME",
                "ENHANCEDSTATUSCODES", "CHUNKING").list().ofMaxSize(6);
    }
}
