package org.tlspolicy.outbound;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 34, finding 4: which addresses a name from outside may send us to. */
class PublicAddressTest {

    @Test
    void internalAddressesAreRefused() throws Exception {
        for (String a : List.of("127.0.0.1", "127.9.9.9", "10.1.2.3", "172.16.0.1",
                "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.127.255.254", "169.254.1.1",
                "0.0.0.0", "224.0.0.1", "239.1.1.1", "255.255.255.255", "240.0.0.1",
                "192.0.2.7", "198.51.100.1", "203.0.113.9", "198.18.0.1", "192.0.0.8",
                "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
                "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1", "64:ff9b::a00:1",
                "2002:7f00:1::", "2001:db8::1", "100::1")) {
            InetAddress addr = InetAddress.getByName(a);
            assertFalse(PublicAddress.is(addr), a);
        }
    }

    @Test
    void globalAddressesAreTaken() throws Exception {
        for (String a : List.of("8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1",
                "193.0.14.129", "2a00:1450:4001::1", "2606:4700::1111", "::ffff:8.8.8.8",
                "64:ff9b::808:808", "2002:808:808::1")) {
            assertTrue(PublicAddress.is(InetAddress.getByName(a)), a);
        }
    }
}
