package org.tlspolicy.cli;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Netty's channel ids want a machine id; it looks for a MAC address and, on a host or in a
 * sandbox without one, warns at start ("Failed to find a usable hardware address …") and uses
 * random bytes. The ids are only compared within one process: random bytes from the start,
 * without the search or the warning. Call first thing in main, before Netty is loaded.
 */
public final class NettyMachineId {

    private NettyMachineId() {
    }

    /** Sets {@code io.netty.machineId} to random bytes unless it is set already. */
    public static void randomUnlessGiven() {
        if (System.getProperty("io.netty.machineId") == null) {
            byte[] id = new byte[8];
            new SecureRandom().nextBytes(id);
            System.setProperty("io.netty.machineId", HexFormat.ofDelimiter(":").formatHex(id));
        }
    }
}
