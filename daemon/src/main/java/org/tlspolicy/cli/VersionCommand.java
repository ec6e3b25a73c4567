package org.tlspolicy.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.Callable;

/** {@code tlspolicyd version}: prints the version and the Java runtime. */
@Command(name = "version", description = "Print the version and exit.")
final class VersionCommand implements Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().println("tlspolicyd " + version() + " (Java "
                + Runtime.version() + ")");
        return Main.EXIT_OK;
    }

    static String version() {
        try (InputStream in = VersionCommand.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException | NullPointerException e) {
            return "unknown";
        }
    }

    /** Makes {@code tlspolicyd --version} print the same. */
    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"tlspolicyd " + version()};
        }
    }
}
