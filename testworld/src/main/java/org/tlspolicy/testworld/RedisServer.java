package org.tlspolicy.testworld;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's redis-server (the same protocol as Valkey, Debian 13's), a real server started by a
 * test on 127.0.0.1 with nothing persisted, and stopped when closed. scripts/test installs the
 * redis-server package. Tests break it on purpose: {@link #kill()}, {@link #restart()} (empty),
 * {@link #pause()} (SIGSTOP: connections stay open, nothing answers).
 *
 * <p>{@link #command} talks RESP over a plain socket as the test's own administrator (the
 * {@code admin} user when the configuration has ACLs), to plant or read entries behind the
 * relays' backs.
 */
public final class RedisServer implements AutoCloseable {

    private final Path dir;
    private final int port;
    private final List<String> config;
    private final String adminPassword;
    private final int tlsPort;
    private Process process;

    private RedisServer(Path dir, int port, List<String> config, String adminPassword,
                        int tlsPort) {
        this.dir = dir;
        this.port = port;
        this.config = config;
        this.adminPassword = adminPassword;
        this.tlsPort = tlsPort;
    }

    /**
     * Starts redis-server in {@code dir} with {@code config} lines (redis.conf syntax) added;
     * {@code adminPassword} is that of an {@code admin} user the config lines define, or null
     * for none (no ACLs: the default user needs no password).
     */
    public static RedisServer startWithAdmin(Path dir, String adminPassword, String... config)
            throws Exception {
        Path exe = Path.of("/usr/bin/redis-server");
        if (!Files.isExecutable(exe)) {
            throw new IllegalStateException("/usr/bin/redis-server is missing: install Debian's "
                    + "redis-server package (scripts/test does)");
        }
        Files.createDirectories(dir);
        RedisServer s = new RedisServer(dir, KnotServer.freePort(), List.of(config),
                adminPassword, 0);
        s.launch();
        return s;
    }

    /**
     * As {@link #startWithAdmin}, with a TLS port beside the plain one presenting {@code
     * identity} (issued for "localhost"); clients are not asked for certificates.
     */
    public static RedisServer startWithTls(Path dir, TestCa.ServerIdentity identity,
                                           String adminPassword, String... config)
            throws Exception {
        Files.createDirectories(dir);
        Path pem = identity.writePem(dir.resolve("server.pem"));
        int tls = KnotServer.freePort();
        List<String> lines = new ArrayList<>(List.of("tls-port " + tls,
                "tls-cert-file " + pem, "tls-key-file " + pem, "tls-auth-clients no"));
        lines.addAll(List.of(config));
        RedisServer s = new RedisServer(dir, KnotServer.freePort(), lines, adminPassword, tls);
        s.launch();
        return s;
    }

    /** {@code rediss://localhost:TLS_PORT}, for a server started with TLS. */
    public String tlsUri() {
        return "rediss://localhost:" + tlsPort;
    }

    /** Starts a plain server without ACLs. */
    public static RedisServer start(Path dir, String... config) throws Exception {
        return startWithAdmin(dir, null, config);
    }

    private void launch() throws Exception {
        List<String> lines = new ArrayList<>(List.of(
                "bind 127.0.0.1", "port " + port, "dir " + dir, "save \"\"", "appendonly no",
                "daemonize no", "protected-mode yes", "loglevel warning"));
        lines.addAll(config);
        Path conf = dir.resolve("redis.conf");
        Files.write(conf, lines);
        process = new ProcessBuilder("/usr/bin/redis-server", conf.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log")
                        .toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                if (command("PING").equals("PONG")) {
                    return;
                }
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("redis-server exited: "
                            + Files.readString(dir.resolve("redis.log")));
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("redis-server did not answer on port " + port);
            }
            Thread.sleep(20);
        }
    }

    /** The plain port. */
    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:PORT}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** SIGKILL: the server is gone at once, with whatever it held. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Starts it again on the same port and configuration, empty (nothing is persisted). */
    public void restart() throws Exception {
        if (process.isAlive()) {
            kill();
        }
        launch();
    }

    /** SIGSTOP: connections stay open and nothing answers, as a server stalled or swapping. */
    public void pause() throws Exception {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    public void resume() throws Exception {
        signal("CONT");
    }

    private void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid()))
                .inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + name + " failed");
        }
    }

    /**
     * Runs one command as the administrator; the reply as text: a status or bulk string as is,
     * an integer in decimal, nil as null, an array as its elements one per line, an error
     * prefixed with "-".
     */
    public String command(String... args) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = new BufferedInputStream(s.getInputStream());
            if (adminPassword != null) {
                send(out, "AUTH", "admin", adminPassword);
                String auth = reply(in);
                if (!"OK".equals(auth)) {
                    throw new IOException("AUTH admin: " + auth);
                }
            }
            send(out, args);
            return reply(in);
        }
    }

    private static void send(OutputStream out, String... args) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.UTF_8));
        for (String a : args) {
            byte[] bytes = a.getBytes(StandardCharsets.UTF_8);
            b.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.UTF_8));
            b.writeBytes(bytes);
            b.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        out.write(b.toByteArray());
        out.flush();
    }

    private static String reply(InputStream in) throws IOException {
        String line = line(in);
        switch (line.charAt(0)) {
            case '+':
            case ':':
                return line.substring(1);
            case '-':
                return line;
            case '$': {
                int n = Integer.parseInt(line.substring(1));
                if (n < 0) {
                    return null;
                }
                byte[] data = in.readNBytes(n + 2);
                return new String(data, 0, n, StandardCharsets.UTF_8);
            }
            case '*': {
                int n = Integer.parseInt(line.substring(1));
                List<String> items = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    items.add(reply(in));
                }
                return String.join("\n", items);
            }
            default:
                throw new IOException("unexpected reply: " + line);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            resume();
            Processes.stop(process);
        }
    }
}
