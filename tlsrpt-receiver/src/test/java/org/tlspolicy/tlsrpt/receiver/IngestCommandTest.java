package org.tlspolicy.tlsrpt.receiver;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.tlsrpt.receiver.cli.Main;
import org.tlspolicy.tlsrpt.report.TlsReport;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tlsrpt-receiver ingest} as Postfix's pipe(8) runs it: one line and exit 0 for stored,
 * duplicate and rejected (no bounce to the reporter), 75 (EX_TEMPFAIL: Postfix retries) only
 * when the store cannot take the mail.
 */
class IngestCommandTest {

    @TempDir
    Path dir;

    private final InputStream stdin = System.in;

    @AfterEach
    void restore() {
        System.setIn(stdin);
    }

    record Run(int code, String out, String err) {
    }

    Run ingest(Path store, byte[] mail) {
        System.setIn(new ByteArrayInputStream(mail));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"--store", store.toString(), "--quarantine",
            dir.resolve("q").toString(), "ingest"}, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void storedDuplicateAndRejectedAllExitZero() throws Exception {
        Path store = dir.resolve("r.db");
        TlsReport r = IngestTest.report("example.test");
        byte[] mail = MaildirTest.mail("example.test");
        assertEquals(new Run(0, "stored " + r.reportId() + "\n", ""), ingest(store, mail));
        assertEquals(new Run(0, "duplicate " + r.reportId() + "\n", ""), ingest(store, mail));
        Run rejected = ingest(store, "Subject: hi\r\n\r\nnot a report\r\n".getBytes());
        assertEquals(new Run(0, "rejected\n", ""), rejected);
        try (var q = Files.list(dir.resolve("q"))) {
            assertEquals(2, q.count());
        }
    }

    @Test
    void aStoreThatCannotBeWrittenIsATemporaryFailure() throws Exception {
        // A directory where the file should be: SQLite cannot open it.
        Path store = Files.createDirectories(dir.resolve("not-a-file.db"));
        Run r = ingest(store, MaildirTest.mail("example.test"));
        assertEquals(75, r.code(), r.toString());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("tlsrpt-receiver: cannot open the store: "), r.err());
    }
}
