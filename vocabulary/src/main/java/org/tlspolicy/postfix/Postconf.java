package org.tlspolicy.postfix;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Postfix's configuration as {@code postconf(1)} reports it: the one reader of main.cf and
 * master.cf that knows every default and every {@code $name} expansion, so nothing here parses
 * them itself.
 */
public final class Postconf {

    private static final List<String> PROGRAMS = List.of("/usr/sbin/postconf", "/usr/bin/postconf");
    private static final int MAX_OUTPUT = 64 * 1024;

    private final String program;
    private final Optional<Path> configDir;

    private Postconf(String program, Optional<Path> configDir) {
        this.program = program;
        this.configDir = configDir;
    }

    /** The installed postconf, reading {@code configDir} (postconf -c) or Postfix's default. */
    public static Optional<Postconf> find(Optional<Path> configDir) {
        return find(Optional.empty(), configDir);
    }

    /**
     * {@code program} (a postconf, or a wrapper that runs one where Postfix is) or else the
     * installed postconf, reading {@code configDir} (postconf -c) or Postfix's default.
     */
    public static Optional<Postconf> find(Optional<Path> program, Optional<Path> configDir) {
        if (program.isPresent()) {
            return Files.isExecutable(program.get())
                    ? Optional.of(new Postconf(program.get().toString(), configDir))
                    : Optional.empty();
        }
        for (String p : PROGRAMS) {
            if (Files.isExecutable(Path.of(p))) {
                return Optional.of(new Postconf(p, configDir));
            }
        }
        return Optional.empty();
    }

    /** The values of {@code names} (postconf -h), in order; empty if postconf failed. */
    public Optional<List<String>> values(String... names) {
        List<String> command = command("-h");
        command.addAll(List.of(names));
        return run(command).filter(v -> v.size() == names.length);
    }

    /** A compiled-in default (postconf -d -h), which needs no main.cf. */
    public Optional<String> defaultValue(String name) {
        List<String> command = command("-d");
        command.add("-h");
        command.add(name);
        return run(command).filter(v -> v.size() == 1).map(v -> v.get(0));
    }

    /**
     * The master.cf fields of {@code service/type} (postconf -M), e.g. {@code [smtp, unix, -, -,
     * y, -, -, smtp]}; empty if there is no such entry or no master.cf.
     */
    public Optional<List<String>> masterEntry(String serviceAndType) {
        return run(command("-M", serviceAndType)).filter(l -> l.size() == 1)
                .map(l -> List.of(l.get(0).trim().split("\\s+")));
    }

    /**
     * The value {@code name} has for the master.cf service {@code serviceAndType} (e.g.
     * {@code smtp/unix}): its {@code -o name=value} there (postconf -P), else main.cf's; empty
     * if postconf failed.
     */
    public Optional<String> serviceValue(String serviceAndType, String name) {
        Optional<List<String>> override = run(command("-h", "-P", serviceAndType + "/" + name));
        if (override.isPresent() && override.get().size() == 1) {
            return Optional.of(override.get().get(0));
        }
        return values(name).map(v -> v.get(0));
    }

    private List<String> command(String... options) {
        List<String> c = new ArrayList<>();
        c.add(program);
        configDir.ifPresent(d -> {
            c.add("-c");
            c.add(d.toString());
        });
        c.addAll(List.of(options));
        return c;
    }

    private static Optional<List<String>> run(List<String> command) {
        try {
            Process process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            process.getOutputStream().close();
            String out = new String(process.getInputStream().readNBytes(MAX_OUTPUT),
                    StandardCharsets.UTF_8);
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return Optional.empty();
            }
            return process.exitValue() == 0
                    ? Optional.of(out.lines().map(String::strip).toList()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // the caller says what is missing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
