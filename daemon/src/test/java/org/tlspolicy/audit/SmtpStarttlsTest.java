package org.tlspolicy.audit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.tlspolicy.testworld.TestCa;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MX probe against SMTP servers written for the test, one conversation each: a server that
 * offers STARTTLS with a real TLS stack (the JDK's, a certificate from a test CA), and hostile
 * ones no real MTA can be made to be (a drip, an endless reply, an over-long line). A real
 * Postfix is probed in the integration tests (AuditTest).
 */
class SmtpStarttlsTest {

    interface Script {
        void run(Socket client) throws Exception;
    }

    ServerSocket server;
    Thread thread;

    int serve(Script script) throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        thread = new Thread(() -> {
            try (Socket c = server.accept()) {
                script.run(c);
            } catch (Exception e) {
                // the client went away
            }
        });
        thread.setDaemon(true);
        thread.start();
        return server.getLocalPort();
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    static void say(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    Handshake probe(int port, Duration timeout) {
        return new SmtpStarttls("audit.example.test", timeout, port).probe("mx.example.test",
                InetAddress.getLoopbackAddress());
    }

    @Test
    void starttlsGivesTheChainAsSentAndProtocol() throws Exception {
        TestCa ca = TestCa.create("starttls test CA");
        TestCa.ServerIdentity id = ca.intermediate("starttls intermediate").issue(
                "mx.example.test");
        SSLContext tls = id.serverContext();
        StringBuilder heard = new StringBuilder();
        int port = serve(c -> {
            BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(),
                    StandardCharsets.US_ASCII));
            say(c.getOutputStream(), "220 mx.example.test ESMTP\r\n");
            heard.append(in.readLine()).append('|');
            say(c.getOutputStream(), "250-mx.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
            heard.append(in.readLine()).append('|');
            say(c.getOutputStream(), "220 go ahead\r\n");
            SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(c, null, c.getPort(),
                    false);
            s.setUseClientMode(false);
            s.startHandshake();
            heard.append(new BufferedReader(new InputStreamReader(s.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine());
        });
        Handshake h = probe(port, Duration.ofSeconds(5));
        Handshake.Secured s = assertInstanceOf(Handshake.Secured.class, h);
        assertEquals(3, s.chain().size());
        assertEquals(id.chain()[0], s.chain().get(0));
        assertTrue(s.protocol().startsWith("TLSv1."), s.protocol());
        thread.join(5000);
        assertEquals("EHLO audit.example.test|STARTTLS|QUIT", heard.toString());
    }

    @Test
    void noStarttlsKeywordIsNotOffered() throws Exception {
        int port = serve(c -> {
            BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(),
                    StandardCharsets.US_ASCII));
            say(c.getOutputStream(), "220 mx ESMTP\r\n");
            in.readLine();
            say(c.getOutputStream(), "250-mx\r\n250-XSTARTTLS\r\n250 SIZE 1000\r\n");
            in.readLine();
        });
        assertInstanceOf(Handshake.NotOffered.class, probe(port, Duration.ofSeconds(5)));
    }

    @Test
    void aServerDrippingWithinEachReadLimitIsCutOffByTheWhole() throws Exception {
        int port = serve(c -> {
            say(c.getOutputStream(), "220-");
            for (int i = 0; i < 200; i++) {
                Thread.sleep(100);
                say(c.getOutputStream(), "x");
            }
        });
        long start = System.nanoTime();
        Handshake h = probe(port, Duration.ofMillis(500));
        long ms = (System.nanoTime() - start) / 1_000_000;
        Handshake.Unreachable u = assertInstanceOf(Handshake.Unreachable.class, h);
        assertTrue(u.reason().contains("within 1500 ms") || u.reason().contains("over"),
                u.reason());
        assertTrue(ms < 5000, ms + " ms");
    }

    @Test
    void endlessRepliesAndLongLinesAreRefused() throws Exception {
        int port = serve(c -> {
            for (int i = 0; i < 1000; i++) {
                say(c.getOutputStream(), "220-more\r\n");
            }
        });
        Handshake.Unreachable lines = assertInstanceOf(Handshake.Unreachable.class,
                probe(port, Duration.ofSeconds(5)));
        assertTrue(lines.reason().contains("more than 100 lines"), lines.reason());
        stop();
        port = serve(c -> say(c.getOutputStream(), "220 " + "a".repeat(10_000) + "\r\n"));
        Handshake.Unreachable line = assertInstanceOf(Handshake.Unreachable.class,
                probe(port, Duration.ofSeconds(5)));
        assertTrue(line.reason().contains("over 2048 bytes"), line.reason());
    }
}
