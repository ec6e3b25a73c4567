package org.tlspolicy.it;

import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Debian release's Postfix ({@link PostfixRelease}: 3.7 or 3.10) in a container run by
 * Testcontainers with host networking: the MTA itself, started by its own {@code postfix
 * start-fg}, on a main.cf the test writes. It sees the host's loopback addresses, so it reaches
 * tlspolicyd, the test's resolver and the MX hosts as a Postfix on the same machine would.
 *
 * <p>The images ({@code integration-tests/docker/postfix} on each release) are built by
 * scripts/test, which names them in {@code TLSPOLICY_POSTFIX_IMAGE} and {@code
 * TLSPOLICY_POSTFIX_IMAGE_TRIXIE}; the engine is the one in {@code DOCKER_HOST}.
 * Postfix writes its log to {@code log/mail.log} under the container's directory (postlogd,
 * {@code maillog_file}), where {@link #log()} reads it.
 */
final class PostfixContainer implements AutoCloseable {

    private final GenericContainer<?> container;
    private final PostfixLog log;
    private final PostfixRelease release;
    private final String name;

    private PostfixContainer(GenericContainer<?> container, PostfixLog log,
                             PostfixRelease release, String name) {
        this.container = container;
        this.log = log;
        this.release = release;
        this.name = name;
    }

    /** The image scripts/test built, or a clear failure if the tests were started without it. */
    static String image(PostfixRelease release) {
        if (System.getenv("DOCKER_HOST") == null) {
            throw new IllegalStateException("DOCKER_HOST is not set: run the tests with "
                    + "./scripts/test, which starts a Docker engine if none runs");
        }
        return release.postfixImage();
    }

    /**
     * Starts Postfix with {@code files} (name → content) in its /config: {@code main.cf}, and
     * optionally {@code setup.sh} (run before Postfix starts), {@code resolv.conf} and whatever
     * these name, such as certificates. Returns once the master daemon runs.
     */
    static PostfixContainer start(PostfixRelease release, Path dir, Map<String, String> files)
            throws IOException, InterruptedException {
        return start(release, dir, files, Map.of());
    }

    /** As {@link #start(PostfixRelease, Path, Map)}, with host directories bound in. */
    static PostfixContainer start(PostfixRelease release, Path dir, Map<String, String> files,
                                  Map<Path, String> binds)
            throws IOException, InterruptedException {
        return start(release, dir, files, binds, c -> c.withNetworkMode("host"));
    }

    /**
     * As {@link #start(PostfixRelease, Path, Map, Map)}, on the network {@code network} sets
     * (instead of the host's): a mail-server stack's Postfix beside other containers.
     */
    static PostfixContainer start(PostfixRelease release, Path dir, Map<String, String> files,
                                  Map<Path, String> binds,
                                  java.util.function.Consumer<GenericContainer<?>> network)
            throws IOException, InterruptedException {
        Path config = Files.createDirectories(dir.resolve("config"));
        Path logDir = Files.createDirectories(dir.resolve("log"));
        for (Map.Entry<String, String> f : files.entrySet()) {
            Files.writeString(config.resolve(f.getKey()), f.getValue(), StandardCharsets.UTF_8);
        }
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image(release)))
                .withFileSystemBind(config.toString(), "/config", BindMode.READ_ONLY)
                .withFileSystemBind(logDir.toString(), "/var/log/postfix", BindMode.READ_WRITE)
                // Ready when Postfix's own log says its master daemon started (below).
                .waitingFor(ContainerShell.noWait());
        binds.forEach((host, path) -> c.withFileSystemBind(host.toString(), path,
                BindMode.READ_WRITE));
        network.accept(c);
        c.start();
        PostfixLog log = new PostfixLog(logDir.resolve("mail.log"));
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (log.lines().stream().noneMatch(l -> l.contains("daemon started -- version"))) {
                if (!c.isRunning() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("Postfix did not start: " + c.getLogs()
                            + "\n" + String.join("\n", log.lines()));
                }
                Thread.sleep(100);
            }
        } catch (InterruptedException | RuntimeException | IOException e) {
            c.stop();
            throw e;
        }
        return new PostfixContainer(c, log, release, dir.getFileName().toString());
    }

    PostfixRelease release() {
        return release;
    }

    /** The name the test gave it: its directory's, e.g. {@code sender}, {@code receiver}. */
    String name() {
        return name;
    }

    /**
     * Writes {@code file}: a postconf(1) that runs this container's postconf, for tlspolicyd's
     * {@code postfix.postconf} (so that {@code tlsrpt: auto} reads this Postfix's version and
     * level, as it would read a local Postfix's).
     */
    Path postconfWrapper(Path file) throws IOException {
        Files.writeString(file, "#!/bin/sh\nexec docker exec " + container.getContainerId()
                + " postconf \"$@\"\n");
        file.toFile().setExecutable(true);
        return file;
    }

    /** Submits a message with Postfix's sendmail(1), as a local program would. */
    void send(String from, String to, String subject) throws IOException, InterruptedException {
        if (!container.isRunning()) {
            throw new AssertionError("Postfix has stopped; its output:\n" + container.getLogs());
        }
        String message = "From: <" + from + ">\nTo: <" + to + ">\nSubject: " + subject
                + "\n\nA test message of the tlspolicy end-to-end suite.\n";
        Container.ExecResult r = container.execInContainer("sh", "-c",
                "printf '%s' \"$0\" | /usr/sbin/sendmail -i -f \"$1\" \"$2\"", message, from, to);
        if (r.getExitCode() != 0) {
            throw new AssertionError("sendmail failed: " + r.getStdout() + r.getStderr()
                    + "\ncontainer output:\n" + container.getLogs());
        }
    }

    /** Runs a command in the container; returns its output, failing the test if it fails. */
    String exec(String... command) throws IOException, InterruptedException {
        Container.ExecResult r = container.execInContainer(command);
        if (r.getExitCode() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed with "
                    + r.getExitCode() + ": " + r.getStdout() + r.getStderr());
        }
        return r.getStdout();
    }

    /** Runs a command in the container; returns how it ended, whatever that was. */
    Container.ExecResult execResult(String... command) throws IOException, InterruptedException {
        return container.execInContainer(command);
    }

    /**
     * The queue as {@code postqueue -j} reports it: one JSON object per message (queue_name,
     * queue_id, recipients with address and delay_reason).
     */
    String queue() throws IOException, InterruptedException {
        return exec("postqueue", "-j");
    }

    PostfixLog log() {
        return log;
    }

    @Override
    public void close() {
        container.stop();
    }
}
