package org.tlspolicy.tlsrpt.receiver.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.log.LogValue;
import org.tlspolicy.tlsrpt.received.ReportLimits;
import org.tlspolicy.tlsrpt.receiver.Ingest;
import org.tlspolicy.tlsrpt.receiver.Maildir;
import org.tlspolicy.tlsrpt.receiver.Quarantine;
import org.tlspolicy.tlsrpt.receiver.ReceivedStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.concurrent.Callable;

/**
 * {@code tlsrpt-receiver ingest}: one report mail on standard input, as Postfix's pipe(8) or
 * local(8) (an {@code aliases} entry) runs it, or every mail of a Maildir. For a mail on
 * standard input it prints one line, {@code stored|duplicate|rejected REPORT-ID}, and exits 0
 * for all three (a refused report must not bounce back to the reporter, who would get a
 * bounce for every report); 75 only when the store cannot take it now, so that Postfix keeps
 * the mail and tries again.
 */
@Command(name = "ingest", description = "Take in report mail: one mail on standard input "
        + "(Postfix pipe or alias), or every mail of a Maildir.")
final class IngestCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(IngestCommand.class);

    @CommandLine.Mixin
    HelpOption help;

    @CommandLine.ParentCommand
    Main main;

    @Option(names = "--maildir", paramLabel = "DIR", description = "Take every mail of this "
            + "Maildir not taken yet (marking each Seen once stored).")
    Path maildir;

    @Option(names = "--watch", description = "With --maildir: keep taking new mail.")
    boolean watch;

    @Option(names = "--delete", description = "With --maildir: remove each mail once stored "
            + "instead of marking it Seen (the spool Postfix's pipe queues to).")
    boolean delete;

    @Option(names = "--poll", paramLabel = "SECONDS", defaultValue = "30",
            description = "With --watch: how often to look (default: ${DEFAULT-VALUE}).")
    int pollSeconds;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if ((watch || delete) && maildir == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--watch and --delete "
                    + "need --maildir");
        }
        ReceivedStore store;
        try {
            store = main.openStore();
        } catch (SQLException e) {
            log.error("ingest cannot open the store: {}", LogValue.of(String.valueOf(
                    e.getMessage())));
            spec.commandLine().getErr().println("tlsrpt-receiver: cannot open the store: "
                    + e.getMessage());
            return maildir == null ? Main.EXIT_TEMPFAIL : Main.EXIT_FAILED;
        }
        try (store) {
            Ingest ingest = new Ingest(store, ReportLimits.DEFAULT, main.dkim(),
                    new Quarantine(main.quarantine), Instant::now);
            if (maildir != null) {
                Maildir m = new Maildir(maildir, delete);
                if (watch) {
                    m.watch(ingest, store, pollSeconds * 1000L);
                    return 0;
                }
                Maildir.Tally t = m.takeAll(ingest, store);
                out.println("stored " + t.stored() + ", duplicate " + t.duplicate()
                        + ", rejected " + t.rejected());
                return 0;
            }
            byte[] raw;
            try (InputStream in = System.in) {
                raw = in.readNBytes(Ingest.MAX_MAIL + 1);
            }
            Ingest.Outcome o = ingest.mail(raw);
            store.commit();
            out.println(o.word() + (o.reportId().isEmpty() ? "" : " "
                    + LogValue.of(o.reportId())));
            return 0;
        } catch (SQLException e) {
            log.error("ingest cannot store: {}", LogValue.of(String.valueOf(e.getMessage())));
            spec.commandLine().getErr().println("tlsrpt-receiver: cannot store: "
                    + e.getMessage());
            return maildir == null ? Main.EXIT_TEMPFAIL : Main.EXIT_FAILED;
        } catch (IOException e) {
            // The quarantine could not keep a refused mail: keep it in Postfix's queue.
            log.error("ingest cannot quarantine: {}", LogValue.of(String.valueOf(
                    e.getMessage())));
            spec.commandLine().getErr().println("tlsrpt-receiver: " + e.getMessage());
            return maildir == null ? Main.EXIT_TEMPFAIL : Main.EXIT_FAILED;
        }
    }
}
