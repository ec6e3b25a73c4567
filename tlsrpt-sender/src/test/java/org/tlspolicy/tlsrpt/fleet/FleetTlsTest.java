package org.tlspolicy.tlsrpt.fleet;

import org.tlspolicy.postgres.PostgresTarget;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.PostgresServer;
import org.tlspolicy.testworld.TestCa;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 34, finding 8: the fleet's PostgreSQL is reached with its certificate and name checked
 * (verify-full) unless it is on this host; against a real PostgreSQL with TLS, a certificate
 * from a CA the relay does not trust is refused, and the CA given with --fleet-ca-file is
 * trusted.
 */
class FleetTlsTest {

    @TempDir
    static Path dir;
    static TestCa ca;
    static PostgresServer postgres;

    @BeforeAll
    static void start() throws Exception {
        ca = TestCa.create("fleet PostgreSQL CA");
        postgres = PostgresServer.startWithTls(ca.issue(java.util.List.of("127.0.0.1",
                "db.fleet.test")));
    }

    @AfterAll
    static void stop() throws Exception {
        postgres.close();
    }

    @Test
    void aServerElsewhereIsVerifiedFullyByDefault() throws Exception {
        Properties remote = new PostgresTarget("postgresql://db.example.net/fleet",
                "u", Optional.empty()).tls();
        assertEquals("verify-full", remote.getProperty("sslmode"));
        assertEquals("org.postgresql.ssl.DefaultJavaSSLFactory",
                remote.getProperty("sslfactory"));
        for (String local : java.util.List.of("postgresql://127.0.0.1:5432/fleet",
                "postgresql://localhost/fleet", "postgresql://[::1]/fleet")) {
            assertNull(new PostgresTarget(local, "u", Optional.empty()).tls()
                    .getProperty("sslmode"), local);
        }
        Properties named = new PostgresTarget("postgresql://db.example.net/fleet"
                + "?sslmode=verify-ca", "u", Optional.empty(), Optional.of(Path.of("/ca.pem")))
                .tls();
        assertNull(named.getProperty("sslmode"), "the URI's own choice stands");
        assertEquals("/ca.pem", named.getProperty("sslrootcert"));
    }

    private static String uri(String query) {
        return postgres.uri() + "?" + query;
    }

    @Test
    void verifyFullRefusesAnUntrustedCertificateAndTakesTheGivenCa() throws Exception {
        Path caFile = ca.writePem(dir.resolve("ca.pem"));
        // The JVM's trust: the test CA is not in it.
        SQLException e = assertThrows(SQLException.class, () -> FleetStore.open(
                new PostgresTarget(uri("sslmode=verify-full&sslfactory="
                        + "org.postgresql.ssl.DefaultJavaSSLFactory"), "postgres",
                        Optional.empty())).close());
        assertTrue(e.getMessage().contains("SSL") || e.getMessage().contains("certificate")
                || e.getMessage().contains("PKIX"), e.getMessage());
        // The CA given: trusted, and the name (127.0.0.1) is in the certificate.
        try (FleetStore f = FleetStore.open(new PostgresTarget(uri("sslmode=verify-full"),
                "postgres", Optional.empty(), Optional.of(caFile)))) {
            assertTrue(f != null);
        }
        // A CA file that does not vouch for it: refused.
        TestCa other = TestCa.create("another CA");
        Path otherCa = other.writePem(dir.resolve("other.pem"));
        assertThrows(SQLException.class, () -> FleetStore.open(new PostgresTarget(
                uri("sslmode=verify-full"), "postgres", Optional.empty(),
                Optional.of(otherCa))).close());
    }
}
