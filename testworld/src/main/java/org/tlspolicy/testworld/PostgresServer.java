package org.tlspolicy.testworld;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's PostgreSQL server (the postgresql package's newest /usr/lib/postgresql/N), a
 * cluster made by initdb for the test on 127.0.0.1, trust authentication, user {@code
 * postgres}, stopped and deleted when closed. PostgreSQL refuses to run as root: as root the
 * cluster belongs to the postgres user, in a directory of /var/tmp it can reach, and the
 * programs run as it (setpriv). scripts/test installs the postgresql package.
 */
public final class PostgresServer implements AutoCloseable {

    private final Path bin;
    private final Path data;
    private final int port;
    private final List<String> settings = new ArrayList<>();
    private Process process;

    private PostgresServer(Path bin, Path data, int port) {
        this.bin = bin;
        this.data = data;
        this.port = port;
    }

    /** Makes a cluster and starts its server. */
    public static PostgresServer start() throws Exception {
        return start(null);
    }

    /**
     * Makes a cluster and starts its server with TLS, presenting {@code identity} (ssl = on;
     * clients may still connect without TLS, as pg_hba.conf's "host" lines allow).
     */
    public static PostgresServer startWithTls(TestCa.ServerIdentity identity) throws Exception {
        return start(identity);
    }

    private static PostgresServer start(TestCa.ServerIdentity tls) throws Exception {
        Path bin;
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            bin = versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("postgres")))
                    .max(Comparator.comparing(b -> Integer.parseInt(
                            b.getParent().getFileName().toString())))
                    .orElseThrow();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("no /usr/lib/postgresql/N/bin/postgres: install "
                    + "Debian's postgresql package (scripts/test does)", e);
        }
        Path dir = Files.createTempDirectory(Path.of("/var/tmp"), "tlspolicy-pg-");
        if (root()) {
            UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
            PosixFileAttributeView view = Files.getFileAttributeView(dir,
                    PosixFileAttributeView.class);
            view.setOwner(users.lookupPrincipalByName("postgres"));
            GroupPrincipal group = users.lookupPrincipalByGroupName("postgres");
            view.setGroup(group);
        }
        Path data = dir.resolve("data");
        PostgresServer s = new PostgresServer(bin, data, KnotServer.freePort());
        Process init = new ProcessBuilder(s.asPostgres(List.of(bin.resolve("initdb").toString(),
                "-D", data.toString(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--no-sync"))).redirectErrorStream(true)
                .redirectOutput(dir.resolve("initdb.log").toFile()).start();
        if (!init.waitFor(120, TimeUnit.SECONDS) || init.exitValue() != 0) {
            throw new IllegalStateException("initdb failed: "
                    + Files.readString(dir.resolve("initdb.log")));
        }
        if (tls != null) {
            Path pem = tls.writePem(dir.resolve("server.pem"));
            Path key = dir.resolve("server.key");
            Path chain = dir.resolve("server.crt");
            String all = Files.readString(pem);
            int certs = all.indexOf("-----BEGIN CERTIFICATE-----");
            Files.writeString(key, all.substring(0, certs));
            Files.writeString(chain, all.substring(certs));
            Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions
                    .fromString("rw-------"));
            if (root()) {
                UserPrincipalLookupService users = dir.getFileSystem()
                        .getUserPrincipalLookupService();
                Files.setOwner(key, users.lookupPrincipalByName("postgres"));
                Files.setOwner(chain, users.lookupPrincipalByName("postgres"));
            }
            s.settings.addAll(List.of("-c", "ssl=on", "-c", "ssl_cert_file=" + chain, "-c",
                    "ssl_key_file=" + key));
        }
        s.launch();
        return s;
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    private List<String> asPostgres(List<String> command) {
        List<String> out = new ArrayList<>();
        if (root()) {
            // exec, not fork: a signal to the process reaches the server itself
            out.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres",
                    "--init-groups", "--"));
        }
        out.addAll(command);
        return out;
    }

    private void launch() throws Exception {
        List<String> command = new ArrayList<>(List.of(bin.resolve("postgres").toString(),
                "-D", data.toString(), "-p", Integer.toString(port), "-k", data.toString(),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on"));
        command.addAll(settings);
        process = new ProcessBuilder(asPostgres(command))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(data.getParent()
                        .resolve("postgres.log").toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
                Process ready = new ProcessBuilder(bin.resolve("pg_isready").toString(), "-h",
                        "127.0.0.1", "-p", Integer.toString(port)).start();
                if (ready.waitFor(10, TimeUnit.SECONDS) && ready.exitValue() == 0) {
                    return;
                }
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("postgres exited: " + Files.readString(
                            data.getParent().resolve("postgres.log")));
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("postgres did not answer on port " + port);
            }
            Thread.sleep(50);
        }
    }

    /** {@code postgresql://127.0.0.1:PORT/postgres}, as tlsrpt-sender's --fleet takes it. */
    public String uri() {
        return "postgresql://127.0.0.1:" + port + "/postgres";
    }

    /** The JDBC URL of the same database. */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    /** Stops the server (fast shutdown: clients are disconnected) and waits for it. */
    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            // SIGINT: fast shutdown (SIGTERM's smart shutdown would wait for the clients)
            try {
                new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start()
                        .waitFor();
            } catch (IOException e) {
                process.destroy();
            }
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Starts the stopped server again, on the same port and data. */
    public void restart() throws Exception {
        stop();
        launch();
    }

    @Override
    public void close() throws Exception {
        stop();
        try (Stream<Path> all = Files.walk(data.getParent())) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
