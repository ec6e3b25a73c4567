package org.tlspolicy.postgres;

import org.tlspolicy.secret.SecretFile;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * Where a PostgreSQL store is (the fleet's: tlsrpt-sender's reports, tlsrpt-receiver's
 * received reports): {@code postgresql://HOST[:PORT]/DATABASE}, the user, a file holding
 * the password (empty: none, e.g. peer or certificate authentication), and the CA
 * certificates that vouch for the server (empty: the JVM's).
 *
 * <p>A server other than this host is reached over TLS with its certificate and name
 * checked ({@code sslmode=verify-full}) unless the URI's query says otherwise: without it
 * the driver's default, {@code prefer}, takes whatever certificate is shown, and what the
 * store holds (the rua destinations every relay sends to) would be anybody's on the path.
 */
public record PostgresTarget(String uri, String user, Optional<Path> passwordFile,
                             Optional<Path> caFile) {

    public PostgresTarget(String uri, String user, Optional<Path> passwordFile) {
        this(uri, user, passwordFile, Optional.empty());
    }

    /** Whether {@code host} (from the URI) is this host: loopback, or localhost. */
    public static boolean local(String host) {
        String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        if (h.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (!h.contains(":") && !h.chars().allMatch(c -> c == '.' || Character.isDigit(c))) {
            return false; // a name: never resolved here, so never taken for local
        }
        try {
            return java.net.InetAddress.getByName(h).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /**
     * The TLS properties of the connection (see above): {@code sslmode=verify-full} for a
     * server that is not local and whose URI names no sslmode, with the CA file or the
     * JVM's trust; nothing for a local one (the driver's default).
     */
    public java.util.Properties tls() throws SQLException {
        java.util.Properties p = new java.util.Properties();
        URI u = URI.create(jdbcUrl().substring("jdbc:".length()));
        boolean named = u.getQuery() != null && java.util.Arrays.stream(u.getQuery()
                .split("&")).anyMatch(q -> q.startsWith("sslmode="));
        boolean verify = !named && !local(u.getHost());
        if (verify) {
            p.setProperty("sslmode", "verify-full");
        }
        if (caFile.isPresent()) {
            p.setProperty("sslrootcert", caFile.get().toString());
        } else if (verify) {
            // The JVM's trust store, as everywhere else in tlspolicy (the driver's own
            // default is ~/.postgresql/root.crt, which a service user does not have).
            p.setProperty("sslfactory", "org.postgresql.ssl.DefaultJavaSSLFactory");
        }
        return p;
    }

    /** The JDBC URL of {@code uri}; an exception names what is wrong with it. */
    public String jdbcUrl() throws SQLException {
        URI u;
        try {
            u = new URI(uri);
        } catch (URISyntaxException e) {
            u = null;
        }
        if (u == null || !"postgresql".equals(u.getScheme()) || u.getHost() == null
                || u.getPath() == null || u.getPath().length() < 2
                || u.getUserInfo() != null) {
            throw new SQLException("the fleet store must be postgresql://HOST[:PORT]/DATABASE (the "
                    + "user and password are given apart: --fleet-user, --fleet-password-file), "
                    + "not " + uri);
        }
        return "jdbc:postgresql://" + u.getHost() + (u.getPort() > 0 ? ":" + u.getPort()
                : "") + u.getPath() + (u.getQuery() == null ? "" : "?" + u.getQuery());
    }

    /**
     * Connects as {@code applicationName}, within about 10 s or not at all; {@code warn} hears
     * what is wrong with the password file's ownership or mode.
     */
    public Connection connect(String applicationName, Consumer<String> warn)
            throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (passwordFile.isPresent()) {
            try {
                for (String w : SecretFile.check(passwordFile.get(), "--fleet-password-file")) {
                    warn.accept(w);
                }
                p.setProperty("password", Files.readString(passwordFile.get()).strip());
            } catch (IOException e) {
                throw new SQLException("cannot read --fleet-password-file "
                        + passwordFile.get() + ": " + e.getMessage(), e);
            }
        }
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "120"); // no statement here takes longer
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("ApplicationName", applicationName);
        // A batch of upserts as multi-row statements, not one round trip each (bench
        // IngestBenchmark fleet: to PostgreSQL at 222,000 lines/s without it).
        p.setProperty("reWriteBatchedInserts", "true");
        // Days are bound as ISO text, as SQLite takes them: cast by the server.
        p.setProperty("stringtype", "unspecified");
        p.putAll(tls());
        return DriverManager.getConnection(jdbcUrl(), p);
    }
}
