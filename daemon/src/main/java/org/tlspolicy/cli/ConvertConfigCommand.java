package org.tlspolicy.cli;

import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.MtaStsResolverMigration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code tlspolicyd convert-config FILE}: prints the tlspolicyd configuration equivalent to a
 * postfix-mta-sts-resolver (mta-sts-daemon) configuration, with what could not be carried over
 * as comments at the top. Writes nothing.
 */
@Command(name = "convert-config",
        description = "Print the tlspolicyd config equivalent to an mta-sts-daemon.yml.")
final class ConvertConfigCommand implements Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    @Parameters(paramLabel = "FILE", description = "mta-sts-daemon's YAML configuration, e.g. "
            + "/etc/mta-sts-daemon.yml.")
    Path file;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        try {
            if (Files.size(file) > 1 << 20) {
                throw new ConfigException(file + " is larger than 1 MiB");
            }
            String text = Files.readString(file, StandardCharsets.UTF_8);
            spec.commandLine().getOut().print(MtaStsResolverMigration.convert(text).yaml());
            spec.commandLine().getOut().flush();
            return Main.EXIT_OK;
        } catch (IOException e) {
            spec.commandLine().getErr().println("tlspolicyd: cannot read " + ErrorWords.of(e));
        } catch (ConfigException e) {
            spec.commandLine().getErr().println("tlspolicyd: " + e.getMessage());
        }
        return Main.EXIT_CONFIG;
    }
}
