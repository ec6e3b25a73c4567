package org.tlspolicy.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.daemon.PolicyDaemon;
import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.policy.Decision;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.PolicyTable;
import org.tlspolicy.socketmap.SocketmapReply;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code tlspolicyd query KEY}: decides what the daemon would answer Postfix for KEY, in this
 * process (no running daemon needed), and explains why.
 */
@Command(name = "query", description = "Explain the policy decision for a next-hop key.")
final class QueryCommand implements Callable<Integer> {

    @Parameters(paramLabel = "KEY", description = "A next-hop key as Postfix sends it, "
            + "e.g. example.com or [mx.example.com]:25.")
    String key;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration file; without it the embedded defaults apply.")
    Path configFile;

    @Option(names = "--json", description = "Print the decision as one JSON object.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        DaemonConfig config;
        try {
            config = configFile == null ? ConfigLoader.defaults() : ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            spec.commandLine().getErr().println("tlspolicyd: " + e.getMessage());
            return Main.EXIT_CONFIG;
        }
        // Warnings only: the explanation is the output, the decision log line would repeat it.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        PolicyTable table = new PolicyTable(config.mapName(), PolicyDaemon.resolverFor(config));
        Decision decision = table.decide(key).join();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            printJson(decision, out);
        } else {
            printText(decision, out);
        }
        out.flush();
        boolean decided = decision.reply() instanceof SocketmapReply.Ok
                || decision.reply() instanceof SocketmapReply.NotFound;
        return decided ? Main.EXIT_OK : Main.EXIT_DEFERRED;
    }

    private static void printText(Decision d, PrintWriter out) {
        out.printf("key:       %s%n", d.key());
        if (d.nextHop() instanceof NextHop.Domain domain) {
            out.printf("next hop:  domain %s%n", domain.name());
        } else {
            out.printf("next hop:  not a policy domain%n");
        }
        out.printf("reply:     %s%n", d.reply().payload());
        if (d.outcome() instanceof PolicyOutcome.Apply apply) {
            out.printf("source:    %s%n", apply.source());
        }
        out.printf("reason:    %s%n", d.reason());
        out.printf(Locale.ROOT, "time:      %.3f ms%n", d.elapsedNanos() / 1e6);
    }

    private static void printJson(Decision d, PrintWriter out) throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.writeStartObject();
            g.writeStringField("key", d.key());
            g.writeStringField("domain", d.nextHop() instanceof NextHop.Domain domain
                    ? domain.name() : null);
            g.writeStringField("status", d.reply().status());
            g.writeStringField("reply", d.reply().payload());
            g.writeStringField("source", d.outcome() instanceof PolicyOutcome.Apply apply
                    ? apply.source() : null);
            g.writeStringField("reason", d.reason());
            g.writeNumberField("elapsed_ms", d.elapsedNanos() / 1e6);
            g.writeEndObject();
        }
        out.println();
    }
}
