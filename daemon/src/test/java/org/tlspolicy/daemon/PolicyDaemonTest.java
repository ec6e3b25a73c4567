package org.tlspolicy.daemon;

import org.junit.jupiter.api.Test;
import org.tlspolicy.testworld.Isolated;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.socketmap.Netstring;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PolicyDaemonTest {

    private static String lookup(Socket s, String map, String key) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(Netstring.encode(map + " " + key));
        out.flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        StringBuilder len = new StringBuilder();
        for (int b; (b = in.read()) != ':'; ) {
            len.append((char) b);
        }
        byte[] payload = new byte[Integer.parseInt(len.toString()) + 1];
        in.readFully(payload);
        return new String(payload, 0, payload.length - 1, StandardCharsets.UTF_8);
    }

    @Test
    void reloadRenamesTheMapWithoutDroppingConnectionsAndSurvivesABadFile(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("tlspolicyd.yml");
        Files.writeString(file, "socketmap: {listen: [\"127.0.0.1:0\"]}\n" + Isolated.CONFIG);
        try (PolicyDaemon daemon = PolicyDaemon.start(ConfigLoader.load(file), Optional.of(file));
             Socket s = new Socket()) {
            s.connect(daemon.boundAddresses().get(0));
            assertEquals("NOTFOUND ", lookup(s, "postfix", "[mx.example.com]"));

            Files.writeString(file, "socketmap: {listen: [\"127.0.0.1:0\"], map_name: tls}\n"
                    + Isolated.CONFIG);
            daemon.reload();
            assertEquals("NOTFOUND ", lookup(s, "tls", "[mx.example.com]"));
            assertEquals("PERM unknown map name 'postfix'", lookup(s, "postfix", "[mx.example.com]"));

            Files.writeString(file, "socketmap: {map_name: \"bad name\"}\n");
            daemon.reload();
            assertEquals("NOTFOUND ", lookup(s, "tls", "[mx.example.com]"));
        }
    }

    @Test
    void closingTwiceIsHarmless() throws Exception {
        PolicyDaemon daemon = PolicyDaemon.start(ConfigLoader.parse(
                "socketmap: {listen: [\"127.0.0.1:0\"]}\n" + Isolated.CONFIG), Optional.empty());
        InetSocketAddress bound = (InetSocketAddress) daemon.boundAddresses().get(0);
        assertEquals(true, bound.getPort() > 0);
        daemon.close();
        daemon.close();
        daemon.awaitStop();
    }
}
