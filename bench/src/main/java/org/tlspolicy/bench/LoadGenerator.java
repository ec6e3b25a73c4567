package org.tlspolicy.bench;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A socketmap load generator that behaves like Postfix: N persistent connections, each with one
 * request outstanding at a time, keys taken in turn from a file.
 *
 * <p>One thread drives every connection through a selector, so the generator costs the machine
 * one core however many connections it holds, and the same core for every server measured: the
 * figures of servers measured with it are comparable, and a minimal server (bench/ceiling) shows
 * where the generator itself becomes the limit. The run is bounded by a duration and,
 * optionally, a request count, whichever comes first; a warm-up period is not recorded.
 *
 * <pre>
 * java -cp tlspolicy-bench.jar org.tlspolicy.bench.LoadGenerator \
 *     --host 127.0.0.1 --port 8461 --map postfix --keys keys.txt \
 *     --connections 100 --warmup 3 --duration 10 [--max-requests N] [--label NAME]
 *     [--once true]
 * </pre>
 *
 * <p>Prints one line: {@code label=... connections=N lookups_per_s=... p50_us=... p90_us=...
 * p99_us=... p999_us=... max_us=... replies=OK:n,NOTFOUND:n,...}.
 */
public final class LoadGenerator {

    private LoadGenerator() {
    }

    /** The run's parameters. */
    record Options(String host, int port, String map, Path keys, int connections,
                   int warmupSeconds, int durationSeconds, long maxRequests, String label,
                   boolean once) {

        static Options parse(String[] args) {
            Map<String, String> o = new TreeMap<>();
            for (int i = 0; i + 1 < args.length; i += 2) {
                if (!args[i].startsWith("--")) {
                    throw new IllegalArgumentException("expected --option, got " + args[i]);
                }
                o.put(args[i].substring(2), args[i + 1]);
            }
            Options opts = new Options(o.getOrDefault("host", "127.0.0.1"),
                    Integer.parseInt(o.getOrDefault("port", "8461")),
                    o.getOrDefault("map", "postfix"),
                    Path.of(o.getOrDefault("keys", "keys.txt")),
                    Integer.parseInt(o.getOrDefault("connections", "16")),
                    Integer.parseInt(o.getOrDefault("warmup", "3")),
                    Integer.parseInt(o.getOrDefault("duration", "10")),
                    Long.parseLong(o.getOrDefault("max-requests", "100000000")),
                    o.getOrDefault("label", "server"),
                    Boolean.parseBoolean(o.getOrDefault("once", "false")));
            if (opts.durationSeconds() < 1 || opts.durationSeconds() > 600
                    || opts.connections() < 1 || opts.connections() > 10_000) {
                throw new IllegalArgumentException("duration 1..600 s, connections 1..10000");
            }
            return opts;
        }
    }

    /** One connection's state: its request in flight and the bytes of its reply so far. */
    private static final class Conn {
        final SocketChannel channel;
        final ByteBuffer in = ByteBuffer.allocate(128 * 1024);
        ByteBuffer out;
        long sentAt;
        int nextKey;

        Conn(SocketChannel channel, int firstKey) {
            this.channel = channel;
            this.nextKey = firstKey;
        }
    }

    public static void main(String[] args) throws IOException {
        Result r = run(Options.parse(args));
        System.out.println(r.line());
    }

    /** What a run measured. */
    record Result(String label, int connections, double lookupsPerSecond, Histogram latency,
                  Map<String, Long> replies, long errors) {

        String line() {
            StringBuilder counts = new StringBuilder();
            replies.forEach((k, v) -> counts.append(counts.length() == 0 ? "" : ",")
                    .append(k).append(':').append(v));
            return String.format(Locale.ROOT, "label=%s connections=%d lookups_per_s=%.0f "
                            + "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d replies=%s "
                            + "errors=%d",
                    label, connections, lookupsPerSecond,
                    latency.getValueAtPercentile(50) / 1000,
                    latency.getValueAtPercentile(90) / 1000,
                    latency.getValueAtPercentile(99) / 1000,
                    latency.getValueAtPercentile(99.9) / 1000,
                    latency.getMaxValue() / 1000, counts, errors);
        }
    }

    static Result run(Options opts) throws IOException {
        List<byte[]> requests = new ArrayList<>();
        for (String key : Files.readAllLines(opts.keys(), StandardCharsets.UTF_8)) {
            if (!key.isBlank()) {
                byte[] payload = (opts.map() + " " + key.strip()).getBytes(StandardCharsets.UTF_8);
                requests.add((payload.length + ":" + new String(payload, StandardCharsets.UTF_8)
                        + ",").getBytes(StandardCharsets.UTF_8));
            }
        }
        if (requests.isEmpty()) {
            throw new IllegalArgumentException("no keys in " + opts.keys());
        }
        Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        Map<String, Long> replies = new TreeMap<>();
        long errors = 0;
        long completed = 0;
        try (Selector selector = Selector.open()) {
            List<Conn> conns = new ArrayList<>();
            for (int i = 0; i < opts.connections(); i++) {
                SocketChannel ch = SocketChannel.open(new InetSocketAddress(opts.host(),
                        opts.port()));
                ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                ch.configureBlocking(false);
                Conn c = new Conn(ch, (int) ((long) i * requests.size() / opts.connections()));
                ch.register(selector, SelectionKey.OP_READ, c);
                conns.add(c);
            }
            long start = System.nanoTime();
            long warmupEnd = start + TimeUnit.SECONDS.toNanos(opts.warmupSeconds());
            long end = warmupEnd + TimeUnit.SECONDS.toNanos(opts.durationSeconds());
            for (Conn c : conns) {
                send(c, requests);
            }
            long now = System.nanoTime();
            // --once: one request a connection, all sent at once, and the run lasts until
            // every one is answered (a burst: the slowest is the figure, so none may be left
            // out by a request count reached with faster connections' further requests).
            long wanted = opts.once() ? opts.connections() : opts.maxRequests();
            while (now < end && completed < wanted && !conns.isEmpty()) {
                selector.select(100);
                now = System.nanoTime();
                for (SelectionKey key : selector.selectedKeys()) {
                    Conn c = (Conn) key.attachment();
                    int n;
                    try {
                        n = c.channel.read(c.in);
                    } catch (IOException e) {
                        n = -1;
                    }
                    if (n < 0) {
                        errors++;
                        key.cancel();
                        c.channel.close();
                        conns.remove(c);
                        continue;
                    }
                    String status = reply(c.in);
                    if (status == null) {
                        continue; // partial reply
                    }
                    if (now >= warmupEnd) {
                        latency.recordValue(Math.min(now - c.sentAt, latency.getHighestTrackableValue()));
                        replies.merge(status, 1L, Long::sum);
                        completed++;
                    }
                    if (!opts.once()) {
                        send(c, requests);
                    }
                }
                selector.selectedKeys().clear();
            }
            double seconds = (Math.min(now, end) - warmupEnd) / 1e9;
            for (Conn c : conns) {
                c.channel.close();
            }
            return new Result(opts.label(), opts.connections(),
                    seconds > 0 ? completed / seconds : 0, latency, replies, errors);
        }
    }

    private static void send(Conn c, List<byte[]> requests) throws IOException {
        c.out = ByteBuffer.wrap(requests.get(c.nextKey));
        c.nextKey = (c.nextKey + 1) % requests.size();
        c.sentAt = System.nanoTime();
        while (c.out.hasRemaining()) {
            c.channel.write(c.out); // requests are small: the socket buffer always takes them
        }
    }

    /**
     * Returns the status word of the complete reply in {@code in} and empties it, or null when
     * the reply is not complete yet.
     */
    private static String reply(ByteBuffer in) {
        int colon = -1;
        int length = 0;
        for (int i = 0; i < in.position(); i++) {
            byte b = in.get(i);
            if (b == ':') {
                colon = i;
                break;
            }
            length = length * 10 + (b - '0');
        }
        if (colon < 0 || in.position() < colon + length + 2) {
            return null;
        }
        int space = colon + 1;
        while (space < colon + 1 + length && in.get(space) != ' ') {
            space++;
        }
        String status = new String(in.array(), colon + 1, space - colon - 1,
                StandardCharsets.US_ASCII);
        in.clear();
        return status;
    }
}
