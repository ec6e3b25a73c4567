package org.tlspolicy.testworld;

/**
 * Configuration that keeps a daemon under test inside the test world: DNS to a closed loopback
 * port (every lookup fails at once, nothing leaves the machine) and no cache file outside the
 * test's own directory.
 */
public final class Isolated {

    private Isolated() {
    }

    /** YAML to append to a test's configuration. */
    public static final String CONFIG = """
            dns: {servers: ["127.0.0.1:9"], timeout: 200ms, attempts: 1}
            cache: {path: ""}
            control: {socket: ""}
            tlsrpt: "off"
            """;
}
