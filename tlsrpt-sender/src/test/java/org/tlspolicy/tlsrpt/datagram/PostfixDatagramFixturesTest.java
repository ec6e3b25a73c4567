package org.tlspolicy.tlsrpt.datagram;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.SessionCount;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Datagrams a real Postfix 3.10.13 sent (through libtlsrpt) in the end-to-end suite, one file
 * each, unchanged: the parser reads every one, and what it reads is what the bytes say. In that
 * world every MX host's EHLO name is its own name, so the EHLO name read from Postfix's
 * multi-line {@code h} must be the MX name {@code n}.
 */
class PostfixDatagramFixturesTest {

    private static final Pattern D = Pattern.compile("\"d\":\\s*\"([^\"]*)\"");
    private static final Pattern F = Pattern.compile("\"f\":\\s*([01])[,}]");
    private static final Pattern C = Pattern.compile("\"c\":\\s*(\\d+)");

    static Stream<Path> datagrams() throws Exception {
        Path dir = Path.of(PostfixDatagramFixturesTest.class
                .getResource("/postfix-datagrams/postfix-3.10").toURI());
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
        assertTrue(files.size() >= 20, "the fixtures are there: " + files);
        return files.stream();
    }

    @ParameterizedTest
    @MethodSource("datagrams")
    void everyRealDatagramIsReadAsItsBytesSay(Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        assertFalse(text.endsWith("\n"), "Postfix's datagrams are not newline-terminated");
        TlsrptDatagram d = assertInstanceOf(DatagramParser.Parsed.Datagram.class,
                DatagramParser.parse(bytes), text).datagram();
        Matcher m = D.matcher(text);
        assertTrue(m.find(), text);
        assertEquals(m.group(1), d.domain());
        assertEquals(1, d.policies().size(), "one policy per session: " + text);
        TlsrptDatagram.Outcome o = d.policies().get(0);
        Matcher f = F.matcher(text.substring(text.lastIndexOf("\"f\":")));
        assertTrue(f.find(), text);
        assertEquals(f.group(1).equals("0"), o.success(), text);
        Matcher c = C.matcher(text);
        for (TlsrptDatagram.Failure failure : o.failures()) {
            assertTrue(c.find(), text);
            assertEquals(Integer.parseInt(c.group(1)), DatagramProperties.failureCode(
                    failure.type()), text);
            assertEquals(failure.mxHost(), failure.ehloName(), text);
            assertFalse(failure.sendingIp().isEmpty(), text);
            assertFalse(failure.mxIp().isEmpty(), text);
        }
        List<SessionCount> counts = DatagramCollector.counts(d, LocalDate.EPOCH);
        assertEquals(o.success() ? 1 : o.failures().size(), counts.size());
        for (SessionCount count : counts) {
            assertEquals(d.domain(), count.reportDomain());
            assertEquals(o.success(), count.result() instanceof SessionResult.Success);
        }
    }
}
