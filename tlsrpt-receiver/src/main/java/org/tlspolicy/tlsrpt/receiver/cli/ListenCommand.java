package org.tlspolicy.tlsrpt.receiver.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.tlsrpt.received.ReportLimits;
import org.tlspolicy.tlsrpt.receiver.Ingest;
import org.tlspolicy.tlsrpt.receiver.Quarantine;
import org.tlspolicy.tlsrpt.receiver.ReceivedStore;
import org.tlspolicy.tlsrpt.receiver.ReportEndpoint;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code tlsrpt-receiver listen}: the RFC 8460 §5.4 HTTPS endpoint, for an {@code
 * rua=https://…} record. Loopback by default: put it behind the web server that holds the
 * public name, or give a public address with {@code --listen}.
 */
@Command(name = "listen", description = "Serve the RFC 8460 HTTPS endpoint (POST of "
        + "application/tlsrpt+gzip or +json).")
final class ListenCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(ListenCommand.class);

    @CommandLine.Mixin
    HelpOption help;

    @CommandLine.ParentCommand
    Main main;

    @Option(names = "--listen", paramLabel = "ADDRESS:PORT", defaultValue = "127.0.0.1:8462",
            description = "Where to listen (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--certificate", paramLabel = "FILE", required = true,
            description = "PEM file with the private key and the certificate chain (e.g. the "
                    + "web server's for the rua host name).")
    Path certificate;

    @Option(names = "--path", defaultValue = "/", description = "The URL path reports are "
            + "POSTed to (default: ${DEFAULT-VALUE}).")
    String path;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        int colon = listen.lastIndexOf(':');
        InetSocketAddress address;
        try {
            address = new InetSocketAddress(listen.substring(0, colon).replace("[", "")
                    .replace("]", ""), Integer.parseInt(listen.substring(colon + 1)));
        } catch (RuntimeException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--listen: want "
                    + "ADDRESS:PORT, not '" + listen + "'");
        }
        // The JDK server's limits on a request and a response, in seconds: a slow client is
        // cut off rather than holding one of the few threads.
        System.setProperty("sun.net.httpserver.maxReqTime", "30");
        System.setProperty("sun.net.httpserver.maxRspTime", "30");
        System.setProperty("sun.net.httpserver.idleInterval", "30");
        try (ReceivedStore store = main.openStore()) {
            Ingest ingest = new Ingest(store, ReportLimits.DEFAULT, main.dkim(),
                    new Quarantine(main.quarantine), Instant::now);
            try (ReportEndpoint endpoint = ReportEndpoint.start(address, certificate, path,
                    ReportLimits.DEFAULT.maxCompressed(), ingest, store)) {
                spec.commandLine().getOut().println("listening on " + endpoint.address()
                        + path);
                spec.commandLine().getOut().flush();
                CountDownLatch stop = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
                stop.await();
                log.info("listen stopping");
            }
        }
        return 0;
    }
}
