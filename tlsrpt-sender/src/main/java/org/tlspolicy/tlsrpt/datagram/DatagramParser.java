package org.tlspolicy.tlsrpt.datagram;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@link TlsrptDatagram}s: strict about what a report needs (a domain, at least one
 * policy with a known type and an outcome, known failure codes), lenient about fields it does
 * not know. Anything else is {@link Parsed.Malformed}, with the reason: a datagram is never a
 * reason to stop listening.
 */
public final class DatagramParser {

    /** The largest datagram read (libtlsrpt's own buffer is 65000 bytes). */
    public static final int MAX_BYTES = 65_536;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8)
                    .maxStringLength(MAX_BYTES).build())
            .build();

    private DatagramParser() {
    }

    /** What a datagram was. */
    public sealed interface Parsed {
        record Datagram(TlsrptDatagram datagram) implements Parsed {
        }

        record Malformed(String reason) implements Parsed {
        }
    }

    private static final class Bad extends Exception {
        Bad(String reason) {
            super(reason, null, false, false);
        }
    }

    public static Parsed parse(byte[] bytes) {
        if (bytes.length > MAX_BYTES) {
            return new Parsed.Malformed("larger than " + MAX_BYTES + " bytes");
        }
        try (JsonParser p = JSON.createParser(bytes)) {
            Parsed result = new Parsed.Datagram(datagram(p));
            if (p.nextToken() != null) {
                return new Parsed.Malformed("data after the object");
            }
            return result;
        } catch (Bad e) {
            return new Parsed.Malformed(e.getMessage());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return new Parsed.Malformed("not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            return new Parsed.Malformed("not JSON: " + e.getMessage());
        }
    }

    private static TlsrptDatagram datagram(JsonParser p) throws IOException, Bad {
        expect(p.nextToken(), JsonToken.START_OBJECT, "a JSON object");
        String domain = null;
        String record = "";
        List<TlsrptDatagram.Outcome> policies = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            switch (name) {
                case "d" -> domain = string(p, t, "d");
                case "pr" -> record = string(p, t, "pr");
                case "policies" -> {
                    expect(t, JsonToken.START_ARRAY, "policies as an array");
                    policies = new ArrayList<>();
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        policies.add(policy(p, p.currentToken(), domain));
                    }
                }
                default -> p.skipChildren();
            }
        }
        if (domain == null || domain.isEmpty()) {
            throw new Bad("no domain (d)");
        }
        if (org.tlspolicy.smtp.Domain.problem(domain.toLowerCase(java.util.Locale.ROOT)) != null) {
            // The report goes to this domain's rua and names it in headers: a host name only.
            throw new Bad("domain (d) is not a host name");
        }
        if (policies == null || policies.isEmpty()) {
            throw new Bad("no policies");
        }
        return new TlsrptDatagram(domain.toLowerCase(java.util.Locale.ROOT), record, policies);
    }

    private static TlsrptDatagram.Outcome policy(JsonParser p, JsonToken start,
                                                 String requestDomain) throws IOException, Bad {
        expect(start, JsonToken.START_OBJECT, "a policy object");
        PolicyType type = null;
        String policyDomain = null;
        List<String> strings = List.of();
        List<String> mx = List.of();
        List<TlsrptDatagram.Failure> failures = List.of();
        Integer finalResult = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            switch (name) {
                case "policy-type" -> {
                    int code = integer(p, t, "policy-type");
                    type = switch (code) {
                        case 1 -> PolicyType.TLSA;
                        case 2 -> PolicyType.STS;
                        case 9 -> PolicyType.NO_POLICY_FOUND;
                        default -> throw new Bad("unknown policy-type " + code);
                    };
                }
                case "policy-domain" -> policyDomain = string(p, t, "policy-domain");
                case "policy-string" -> strings = strings(p, t, "policy-string");
                case "mx-host" -> mx = strings(p, t, "mx-host");
                case "failure-details" -> {
                    expect(t, JsonToken.START_ARRAY, "failure-details as an array");
                    failures = new ArrayList<>();
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        failures.add(failure(p, p.currentToken()));
                    }
                }
                case "f" -> finalResult = integer(p, t, "f");
                default -> p.skipChildren();
            }
        }
        if (type == null) {
            throw new Bad("a policy without policy-type");
        }
        if (finalResult == null || (finalResult != 0 && finalResult != 1)) {
            throw new Bad("a policy without a final result (f) of 0 or 1");
        }
        String domain = policyDomain != null && !policyDomain.isEmpty() ? policyDomain
                : requestDomain;
        if (domain == null || domain.isEmpty()) {
            throw new Bad("a policy without a domain");
        }
        if (org.tlspolicy.smtp.Domain.problem(domain.toLowerCase(java.util.Locale.ROOT)) != null) {
            throw new Bad("policy-domain is not a host name");
        }
        return new TlsrptDatagram.Outcome(new AppliedPolicy(type,
                domain.toLowerCase(java.util.Locale.ROOT), strings, mx), finalResult == 0,
                failures);
    }

    private static TlsrptDatagram.Failure failure(JsonParser p, JsonToken start)
            throws IOException, Bad {
        expect(start, JsonToken.START_OBJECT, "a failure object");
        ResultType type = null;
        String[] f = {"", "", "", "", "", ""}; // s n h r a f
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            switch (name) {
                case "c" -> type = resultType(integer(p, t, "c"));
                case "s" -> f[0] = string(p, t, "s");
                case "n" -> f[1] = string(p, t, "n");
                case "h" -> f[2] = string(p, t, "h");
                case "r" -> f[3] = string(p, t, "r");
                case "a" -> f[4] = string(p, t, "a");
                case "f" -> f[5] = string(p, t, "f");
                default -> p.skipChildren();
            }
        }
        if (type == null) {
            throw new Bad("a failure without a code (c)");
        }
        return new TlsrptDatagram.Failure(type, f[0], f[1], f[2], f[3], f[4], f[5]);
    }

    /** libtlsrpt's failure codes, RFC 8460 §4.3's result types. */
    static ResultType resultType(int code) throws Bad {
        return switch (code) {
            case 201 -> ResultType.STARTTLS_NOT_SUPPORTED;
            case 202 -> ResultType.CERTIFICATE_HOST_MISMATCH;
            case 203 -> ResultType.CERTIFICATE_NOT_TRUSTED;
            case 204 -> ResultType.CERTIFICATE_EXPIRED;
            case 205 -> ResultType.VALIDATION_FAILURE;
            case 301 -> ResultType.STS_POLICY_FETCH_ERROR;
            case 302 -> ResultType.STS_POLICY_INVALID;
            case 303 -> ResultType.STS_WEBPKI_INVALID;
            case 304 -> ResultType.TLSA_INVALID;
            case 305 -> ResultType.DNSSEC_INVALID;
            case 306 -> ResultType.DANE_REQUIRED;
            default -> throw new Bad("unknown failure code " + code);
        };
    }

    private static void expect(JsonToken got, JsonToken want, String what) throws Bad {
        if (got != want) {
            throw new Bad("expected " + what);
        }
    }

    private static String string(JsonParser p, JsonToken t, String field)
            throws IOException, Bad {
        if (t != JsonToken.VALUE_STRING) {
            throw new Bad(field + " is not a string");
        }
        return p.getText();
    }

    private static int integer(JsonParser p, JsonToken t, String field)
            throws IOException, Bad {
        if (t != JsonToken.VALUE_NUMBER_INT
                || p.getNumberType() != JsonParser.NumberType.INT) {
            throw new Bad(field + " is not a small integer");
        }
        try {
            return p.getIntValue();
        } catch (IOException e) {
            throw new Bad(field + " is not a small integer");
        }
    }

    private static List<String> strings(JsonParser p, JsonToken t, String field)
            throws IOException, Bad {
        expect(t, JsonToken.START_ARRAY, field + " as an array");
        List<String> out = new ArrayList<>();
        JsonToken e;
        while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
            out.add(string(p, e, field));
        }
        return out;
    }
}
