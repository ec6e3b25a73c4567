package org.tlspolicy.daemon;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the work behind new answers below the socketmap loop when the CPU is short: the
 * threads that fetch policies, complete DNS queries, write the store, talk to the shared cache
 * and compile the daemon's code (HotSpot's JIT) run {@value #STEP} nice levels below the
 * process. A burst of new domains then costs the domains already known little of their pace
 * (issue 32 §3, bench/run-burst, median of three: one connection kept 0.97 of its idle rate,
 * 0.59 before; 16 connections 0.51, 0.23 before); on an idle CPU nice changes nothing.
 *
 * <p>The JDK cannot set a thread's nice value (Thread.setPriority is ignored on Linux unless
 * -XX:ThreadPriorityPolicy=1, which warns at every start when not root), so each thread is
 * found by its name ({@code /proc/self/task/TID/comm}, the first 15 characters HotSpot gives
 * the kernel) and lowered with renice(1) (util-linux, essential in Debian): raising a nice
 * value needs no privilege. Threads come and go (the JIT starts compiler threads as it needs
 * them), so they are looked for again every few seconds.
 */
final class BackgroundPriority implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BackgroundPriority.class);

    /** How far below the process: nice weights 10 apart are about 1 to 9. */
    static final int STEP = 10;

    /** The beginnings of the names (as the kernel has them) of the threads lowered. */
    static final List<String> BACKGROUND = List.of("policy-fetch", "policy-store",
            "policy-timer", "dns-", "dnsjava NIO sel", "resolution-rate", "shared-cache",
            "ForkJoinPool", "lettuce-", "C1 CompilerThre", "C2 CompilerThre");

    private static final Path TASKS = Path.of("/proc/self/task");

    private final ScheduledExecutorService thread;
    private boolean failed;
    private boolean announced;

    private BackgroundPriority(ScheduledExecutorService thread) {
        this.thread = thread;
    }

    /** Lowers the background threads now and every {@code seconds} from now on. */
    static BackgroundPriority start(long seconds) {
        ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, "background-priority");
            th.setDaemon(true);
            return th;
        });
        BackgroundPriority p = new BackgroundPriority(t);
        t.scheduleWithFixedDelay(p::lowerQuietly, 0, seconds, TimeUnit.SECONDS);
        return p;
    }

    private void lowerQuietly() {
        try {
            lower();
        } catch (RuntimeException e) {
            log.warn("background threads not lowered: {}", e.toString());
        }
    }

    /**
     * Lowers every background thread not yet {@value #STEP} below the process; returns the
     * names of those it lowered (empty when there was none, or renice failed: said once).
     */
    synchronized List<String> lower() {
        if (failed) {
            return List.of();
        }
        Optional<Integer> own = nice(Path.of("/proc/self"));
        if (own.isEmpty()) {
            return List.of();
        }
        int target = Math.min(19, own.get() + STEP);
        List<String> tids = new ArrayList<>();
        TreeSet<String> names = new TreeSet<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                String name = comm(task);
                if (background(name) && nice(task).map(n -> n < target).orElse(false)) {
                    tids.add(task.getFileName().toString());
                    names.add(name);
                }
            }
        } catch (IOException e) {
            return List.of(); // no /proc: not Linux, nothing to do
        }
        if (tids.isEmpty()) {
            return List.of();
        }
        List<String> command = new ArrayList<>(List.of("renice", "-n",
                Integer.toString(target), "-p"));
        command.addAll(tids);
        String problem = run(command);
        if (problem != null) {
            failed = true;
            log.warn("background threads stay at the socketmap loop's priority: renice {}",
                    problem);
            return List.of();
        }
        if (!announced) {
            announced = true;
            log.info("background threads nice={} ({} below the socketmap loop): {}", target,
                    STEP, String.join(", ", names));
        }
        return List.copyOf(names);
    }

    static boolean background(String name) {
        for (String prefix : BACKGROUND) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static String comm(Path task) {
        try {
            return Files.readString(task.resolve("comm"), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return ""; // the thread has ended
        }
    }

    /**
     * The nice value in {@code DIR/stat}: its 19th field, counted after the name in
     * parentheses, which may itself hold spaces and parentheses (proc(5)).
     */
    static Optional<Integer> nice(Path dir) {
        try {
            String stat = Files.readString(dir.resolve("stat"), StandardCharsets.US_ASCII);
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Optional.of(Integer.parseInt(fields[16]));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Runs {@code command}; null if it succeeded, else what went wrong. */
    private static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readNBytes(4096),
                    StandardCharsets.UTF_8).strip();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "did not finish within 10 s";
            }
            // renice exits 0 when every thread was set; a thread that ended meanwhile makes
            // it fail for that one only, which the next round does not ask again.
            return p.exitValue() == 0 || out.contains("No such process") ? null
                    : "exited " + p.exitValue() + ": " + out.replace('\n', ' ');
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
