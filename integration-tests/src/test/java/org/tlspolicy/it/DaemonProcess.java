package org.tlspolicy.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The packaged tlspolicyd jar, run as the operator runs it: a separate JVM process. */
final class DaemonProcess implements AutoCloseable {

    private static final Pattern TCP = Pattern.compile("listening on inet:[^ ]*:(\\d+)");

    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private int port = -1;
    private boolean outputEnded;

    private DaemonProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(this::readOutput, "daemon-output");
        reader.setDaemon(true);
        reader.start();
    }

    static Path jar() {
        Path jar = Path.of(System.getProperty("tlspolicyd.jar", "../daemon/target/tlspolicyd.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run the tests with 'mvn verify' "
                    + "from the top directory, which packages the daemon first");
        }
        return jar;
    }

    static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    /** Runs {@code tlspolicyd ARGS} to completion and returns exit code and output. */
    static Result run(String... args) throws IOException, InterruptedException {
        return runJar(jar(), List.of(args));
    }

    /** Runs {@code java -jar JAR ARGS} to completion and returns exit code and output. */
    static Result runJar(Path jar, List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(java(), "-jar", jar.toString()));
        command.addAll(args);
        Process p = new ProcessBuilder(command).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(jar.getFileName() + " " + args + " did not finish");
        }
        return new Result(p.exitValue(), out, err);
    }

    record Result(int exitCode, String out, String err) {
    }

    /** Starts {@code tlspolicyd serve --config FILE} and waits until it has started. */
    static DaemonProcess serve(Path config) throws IOException, InterruptedException {
        return start(jar(), List.of("serve", "--config", config.toString()), "started ");
    }

    /**
     * Starts {@code tlspolicyd serve --config FILE} under {@code prefix} (e.g. {@code prlimit
     * --nofile=N}) and waits until it has started.
     */
    static DaemonProcess serve(Path config, List<String> prefix)
            throws IOException, InterruptedException {
        return start(prefix, jar(), List.of("serve", "--config", config.toString()), "started ");
    }

    /**
     * The JVM options of the shipped unit's ExecStart (postfix-conf/systemd/tlspolicyd.service),
     * e.g. its heap bound, so that a test runs the daemon in the memory it has in production.
     */
    static List<String> unitJavaOptions() throws IOException {
        String unit = Files.readString(Path.of("../postfix-conf/systemd/tlspolicyd.service"));
        Matcher m = Pattern.compile("/usr/bin/java (.*?) -jar ").matcher(unit);
        if (!m.find()) {
            throw new IllegalStateException("tlspolicyd.service has no /usr/bin/java … -jar");
        }
        return List.of(m.group(1).strip().split("\\s+"));
    }

    /**
     * Starts {@code tlspolicyd serve --config FILE} in a JVM with {@code jvmOptions} and waits
     * until it has started.
     */
    static DaemonProcess serveIn(List<String> jvmOptions, Path config)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(HUP_DEFAULT);
        command.add(java());
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar().toString(), "serve", "--config",
                config.toString()));
        DaemonProcess d = new DaemonProcess(new ProcessBuilder(command)
                .redirectErrorStream(true).start());
        try {
            d.awaitLine("started ", 30);
        } catch (AssertionError | InterruptedException e) {
            d.close();
            throw e;
        }
        return d;
    }

    /** Starts {@code java -jar JAR ARGS} and waits for an output line with {@code ready}. */
    static DaemonProcess start(Path jar, List<String> args, String ready)
            throws IOException, InterruptedException {
        return start(List.of(), jar, args, ready);
    }

    /**
     * Runs the rest of the command with SIGHUP at its default: a process started with SIGHUP
     * ignored (the whole test run under nohup, or a CI runner that ignores it) passes that on,
     * and HotSpot then never delivers SIGHUP to the daemon's handler, so its reload tests
     * would wait for a "reloaded" line that cannot come (issue 32: they failed in one full run
     * of two). Perl is in every Debian (perl-base).
     */
    static final List<String> HUP_DEFAULT = List.of("perl", "-e",
            "$SIG{HUP} = 'DEFAULT'; exec { $ARGV[0] } @ARGV or die \"exec: $!\\n\"");

    private static DaemonProcess start(List<String> prefix, Path jar, List<String> args,
                                       String ready) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(HUP_DEFAULT);
        command.addAll(List.of(java(), "-jar", jar.toString()));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        DaemonProcess d = new DaemonProcess(p);
        try {
            d.awaitLine(ready, 30);
        } catch (AssertionError | InterruptedException e) {
            d.close();
            throw e;
        }
        return d;
    }

    private void readOutput() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                synchronized (lines) {
                    lines.add(line);
                    Matcher m = TCP.matcher(line);
                    if (m.find() && port < 0) {
                        port = Integer.parseInt(m.group(1));
                    }
                    lines.notifyAll();
                }
            }
        } catch (IOException e) {
            // process gone
        } finally {
            synchronized (lines) {
                outputEnded = true;
                lines.notifyAll();
            }
        }
    }

    /**
     * Waits for an output line containing {@code text}; returns it. Gives up at the deadline or
     * once the process's output has ended (everything it wrote has then been read).
     */
    String awaitLine(String text, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        synchronized (lines) {
            while (true) {
                for (String line : lines) {
                    if (line.contains(text)) {
                        return line;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || outputEnded) {
                    throw new AssertionError("no line containing '" + text + "' in " + lines);
                }
                lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    List<String> output() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    int port() {
        synchronized (lines) {
            return port;
        }
    }

    long pid() {
        return process.pid();
    }

    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                .inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new AssertionError("kill -" + name + " failed");
        }
    }

    /** Waits for the process to exit; returns its exit code. */
    int awaitExit(int seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("tlspolicyd still running after " + seconds + " s");
        }
        return process.exitValue();
    }

    /** SIGKILL, at once: no shutdown hook, no graceful stop, nothing flushed. */
    void kill() {
        process.destroyForcibly();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
