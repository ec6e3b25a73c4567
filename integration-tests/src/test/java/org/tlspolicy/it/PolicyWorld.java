package org.tlspolicy.it;

import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.testworld.TestCa;
import org.tlspolicy.testworld.UnboundServer;
import org.tlspolicy.testworld.ZoneSigner;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Many domains for a daemon run as in production, on loopback: the signed zone {@code ZONE.}
 * (its key the trust anchor) served by knotd behind an iterating unbound, {@code dN.ZONE} for
 * N below {@code count}, every third with DANE (its MX's TLSA 3 1 1: dane-only), the others
 * with an MTA-STS enforce policy served on port 443 of {@code policyIp} (the daemon fetches
 * from 443), {@code mx: *.ZONE}.
 */
final class PolicyWorld implements AutoCloseable {

    static final String HASH =
            "8CB0F1B0A8D43B8F8B5DE4C1F1C3E2AB0C6C9D2E7F1A3B5C7D9E1F3A5B7C9D0E";

    private final String zone;
    private final KnotServer knot;
    private final UnboundServer resolver;
    private final PolicyHost policyHost;
    private final Path anchors;
    private final Path ca;

    private PolicyWorld(String zone, KnotServer knot, UnboundServer resolver,
                        PolicyHost policyHost, Path anchors, Path ca) {
        this.zone = zone;
        this.knot = knot;
        this.resolver = resolver;
        this.policyHost = policyHost;
        this.anchors = anchors;
        this.ca = ca;
    }

    static PolicyWorld start(Path dir, String zone, int count, String policyIp) throws Exception {
        String origin = zone + ".";
        ZoneSigner.Key key = ZoneSigner.newKey(origin);
        StringBuilder records = new StringBuilder("$ORIGIN " + origin + "\n$TTL 3600\n"
                + "@ SOA ns." + origin + " hostmaster." + origin + " 1 3600 900 604800 300\n"
                + "@ NS ns\nns A 127.0.0.1\n");
        List<String> policyHosts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String d = "d" + i;
            records.append(d).append(" MX 10 mx.").append(d).append('\n')
                    .append("mx.").append(d).append(" A 127.0.0.1\n");
            if (i % 3 == 0) {
                records.append("_25._tcp.mx.").append(d).append(" TLSA 3 1 1 ").append(HASH)
                        .append('\n');
            } else {
                records.append("_mta-sts.").append(d).append(" TXT \"v=STSv1; id=1;\"\n")
                        .append("mta-sts.").append(d).append(" A ").append(policyIp)
                        .append('\n');
                policyHosts.add("mta-sts." + d + "." + zone);
            }
        }
        Instant now = Instant.now();
        KnotServer knot = KnotServer.start(Files.createDirectories(dir.resolve("knot-" + zone)),
                Map.of(origin, ZoneSigner.sign(records.toString(), origin, key,
                        now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(7)))));
        UnboundServer resolver = UnboundServer.iterating(dir.resolve("unbound-" + zone),
                knot.address(), List.of(origin), List.of());
        Path anchors = Files.writeString(dir.resolve("anchors-" + zone + ".ds"), key.ds());
        TestCa testCa = TestCa.create(zone + " CA");
        Path ca = testCa.writePem(dir.resolve("ca-" + zone + ".pem"));
        PolicyHost host = PolicyHost.start(testCa.issue(policyHosts), PolicyHost.ok("""
                version: STSv1
                mode: enforce
                mx: *.%s
                max_age: 86400
                """.formatted(zone)), new InetSocketAddress(policyIp, 443));
        return new PolicyWorld(zone, knot, resolver, host, anchors, ca);
    }

    String domain(int i) {
        return "d" + i + "." + zone;
    }

    /** The resolver, as dns.servers writes it. */
    String dns() {
        return "127.0.0.1:" + resolver.address().getPort();
    }

    /**
     * tlspolicyd's configuration for this world: listening on {@code port}, asking {@code
     * dns}, keeping its cache at {@code cache}, and {@code extra} YAML lines.
     */
    String config(int port, String dns, Path cache, String extra) {
        return """
                socketmap: {listen: ["127.0.0.1:%d"]}
                dns: {servers: ["%s"], timeout: 1s, attempts: 1}
                mta_sts: {allow_private_addresses: true, extra_ca_file: "%s"}
                dane: {dnssec: validate, trust_anchor_file: "%s"}
                cache: {path: "%s"}
                control: {socket: ""}
                tlsrpt: "off"
                """.formatted(port, dns, ca, anchors, cache) + extra;
    }

    PolicyHost policyHost() {
        return policyHost;
    }

    @Override
    public void close() throws Exception {
        policyHost.close();
        resolver.close();
        knot.close();
    }
}
