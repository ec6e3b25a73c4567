package org.tlspolicy.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Times first (cold) lookups: each key once, one after the other, over one socketmap
 * connection as Postfix holds it, and checks that every reply starts as expected.
 *
 * <pre>
 * java -cp tlspolicy-bench.jar org.tlspolicy.bench.ColdLookup LABEL PORT KEYS_FILE EXPECTED_PREFIX
 * </pre>
 *
 * <p>Prints {@code label=... lookups=N median_ms=... min_ms=... max_ms=...}, and exits 1 if a
 * reply did not start with the expected prefix (then the timing would be of the wrong thing).
 */
public final class ColdLookup {

    private ColdLookup() {
    }

    public static void main(String[] args) throws IOException {
        String label = args[0];
        int port = Integer.parseInt(args[1]);
        List<String> keys = Files.readAllLines(Path.of(args[2]));
        String expected = args[3];
        List<Double> ms = new ArrayList<>();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(120_000);
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (String key : keys) {
                byte[] query = ("postfix " + key).getBytes(StandardCharsets.UTF_8);
                byte[] request = (query.length + ":" + new String(query, StandardCharsets.UTF_8)
                        + ",").getBytes(StandardCharsets.UTF_8);
                long start = System.nanoTime();
                out.write(request); // one segment, as Postfix sends it: no Nagle delay
                out.flush();
                String reply = readNetstring(in);
                ms.add((System.nanoTime() - start) / 1e6);
                if (!reply.startsWith(expected)) {
                    System.out.println("# " + label + ": " + key + " answered '" + reply
                            + "', expected '" + expected + "…'");
                    System.exit(1);
                }
            }
        }
        List<Double> sorted = ms.stream().sorted().toList();
        System.out.printf(Locale.ROOT, "label=%s lookups=%d median_ms=%.1f min_ms=%.1f max_ms=%.1f%n",
                label, sorted.size(), sorted.get(sorted.size() / 2), sorted.get(0),
                sorted.get(sorted.size() - 1));
    }

    private static String readNetstring(InputStream in) throws IOException {
        int length = 0;
        int c;
        while ((c = in.read()) != ':') {
            if (c < '0' || c > '9') {
                throw new IOException("bad netstring length byte " + c);
            }
            length = length * 10 + (c - '0');
        }
        byte[] data = in.readNBytes(length);
        if (in.read() != ',') {
            throw new IOException("netstring not terminated");
        }
        return new String(data, StandardCharsets.UTF_8);
    }
}
