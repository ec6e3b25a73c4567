package org.tlspolicy.cli;

import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.daemon.HangupSignal;
import org.tlspolicy.daemon.PolicyDaemon;
import org.tlspolicy.daemon.ServiceNotifier;
import org.tlspolicy.log.JournalLog;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code tlspolicyd serve}: runs the daemon in the foreground until SIGTERM or SIGINT; SIGHUP
 * reloads the configuration file.
 */
@Command(name = "serve", description = "Run the socketmap server in the foreground.")
final class ServeCommand implements Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration file; without it the embedded defaults apply.")
    Path configFile;

    @Option(names = "--print-default-config",
            description = "Print the embedded default configuration (every key) and exit.")
    boolean printDefaults;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        if (printDefaults) {
            spec.commandLine().getOut().print(ConfigLoader.defaultsText());
            return Main.EXIT_OK;
        }
        DaemonConfig config;
        try {
            config = configFile == null ? ConfigLoader.defaults() : ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            spec.commandLine().getErr().println("tlspolicyd: " + e.getMessage());
            return Main.EXIT_CONFIG;
        }
        JournalLog.install(config.logLevel());
        PolicyDaemon daemon;
        try {
            daemon = PolicyDaemon.open(config, Optional.ofNullable(configFile),
                    ServiceNotifier.fromEnvironment());
        } catch (IOException | ConfigException e) {
            spec.commandLine().getErr().println("tlspolicyd: " + e.getMessage());
            return Main.EXIT_CONFIG;
        }
        // SIGTERM and SIGINT run shutdown hooks; the hook is the graceful stop.
        Runtime.getRuntime().addShutdownHook(new Thread(daemon::close, "shutdown"));
        HangupSignal.onHangup(daemon::reload);
        // Only now "started" (which callers wait for) and READY=1: a signal from here on
        // finds its handler. Before, one stopped the JVM without the graceful stop.
        daemon.ready();
        daemon.awaitStop();
        return Main.EXIT_OK;
    }
}
