package org.tlspolicy.testworld;

import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.Master;
import org.xbill.DNS.NSECRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Type;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Signs the test world's zones with DNSSEC (RFC 4034/4035) so that a real authoritative server
 * (knotd, with signing off) serves them as they are: one ECDSA P-256 key per zone (algorithm 13,
 * flags 257), an NSEC chain for authenticated denial, and RRSIGs with the validity the test
 * chooses, so that expired or not-yet-valid signatures (bogus answers) can be served on purpose.
 *
 * <p>Delegations (NS below the apex) are signed as RFC 4035 §2.2 says: the NS RRset at a zone
 * cut and the glue below it are not signed and glue is left out of the NSEC chain; a DS RRset
 * at the cut is signed (a secure delegation), and without one the cut's NSEC proves there is
 * none (an insecure delegation, RFC 4035 §5.2).
 */
public final class ZoneSigner {

    private ZoneSigner() {
    }

    /** A zone's signing key. */
    public record Key(DNSKEYRecord dnskey, PrivateKey privateKey) {
        /** The key as a trust anchor, in master file format (for ValidatingResolver). */
        public String trustAnchor() {
            return dnskey.toString() + "\n";
        }

        /** The DS record (SHA-256) a parent zone publishes for this key. */
        public String ds() {
            return new DSRecord(dnskey.getName(), DClass.IN, 3600, DNSSEC.Digest.SHA256, dnskey)
                    + "\n";
        }
    }

    /** A new key for {@code zone}. */
    public static Key newKey(String zone) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = g.generateKeyPair();
        DNSKEYRecord dnskey = new DNSKEYRecord(Name.fromString(zone), DClass.IN, 3600, 257,
                DNSKEYRecord.Protocol.DNSSEC, DNSSEC.Algorithm.ECDSAP256SHA256, pair.getPublic());
        return new Key(dnskey, pair.getPrivate());
    }

    /** The zone text signed with {@code key}, its signatures valid from {@code from} to {@code until}. */
    public static String sign(String zoneText, String zone, Key key, Instant from, Instant until)
            throws Exception {
        Name origin = Name.fromString(zone);
        List<Record> records = new ArrayList<>();
        try (Master master = new Master(new ByteArrayInputStream(
                zoneText.getBytes(StandardCharsets.UTF_8)), origin)) {
            for (Record r = master.nextRecord(); r != null; r = master.nextRecord()) {
                records.add(r);
            }
        }
        records.add(key.dnskey());
        long negativeTtl = records.stream().filter(r -> r instanceof SOARecord)
                .map(r -> ((SOARecord) r).getMinimum()).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no SOA"));
        // Owner names in canonical order (RFC 4034 §6.1; dnsjava's Name order is that order).
        TreeMap<Name, Map<Integer, RRset>> names = new TreeMap<>();
        for (Record r : records) {
            names.computeIfAbsent(r.getName(), n -> new LinkedHashMap<>())
                    .computeIfAbsent(r.getType(), t -> new RRset()).addRR(r);
        }
        List<Name> cuts = new ArrayList<>();
        for (Map.Entry<Name, Map<Integer, RRset>> e : names.entrySet()) {
            if (!e.getKey().equals(origin) && e.getValue().containsKey(Type.NS)) {
                cuts.add(e.getKey());
            }
        }
        List<Name> owners = new ArrayList<>();
        List<Name> glue = new ArrayList<>();
        for (Name owner : names.keySet()) {
            boolean below = cuts.stream().anyMatch(c -> !owner.equals(c) && owner.subdomain(c));
            (below ? glue : owners).add(owner);
        }
        for (int i = 0; i < owners.size(); i++) {
            Name owner = owners.get(i);
            Name next = owners.get((i + 1) % owners.size());
            Map<Integer, RRset> sets = names.get(owner);
            int[] types = new int[sets.size() + 2];
            int j = 0;
            for (int t : sets.keySet()) {
                types[j++] = t;
            }
            types[j++] = Type.NSEC;
            types[j] = Type.RRSIG;
            sets.put(Type.NSEC, new RRset(new NSECRecord(owner, DClass.IN, negativeTtl, next,
                    types)));
        }
        StringBuilder out = new StringBuilder();
        for (Map.Entry<Name, Map<Integer, RRset>> e : names.entrySet()) {
            boolean cut = cuts.contains(e.getKey());
            boolean unsigned = glue.contains(e.getKey());
            for (RRset set : e.getValue().values()) {
                for (Record r : set.rrs()) {
                    out.append(r).append('\n');
                }
                // RFC 4035 §2.2: the delegating NS RRset and glue are not authoritative data.
                if (!unsigned && !(cut && set.getType() != Type.DS && set.getType() != Type.NSEC)) {
                    out.append(DNSSEC.sign(set, key.dnskey(), key.privateKey(), from, until))
                            .append('\n');
                }
            }
        }
        return out.toString();
    }
}
