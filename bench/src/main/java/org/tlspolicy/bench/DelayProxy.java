package org.tlspolicy.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Adds network latency on loopback, where {@code tc netem} is not available: a relay that
 * delivers every UDP datagram and every TCP chunk half a round trip after it arrived, in each
 * direction, so a request and its answer cost one added round trip (RTT).
 *
 * <p>TCP's own handshake cannot be delayed from user space (the kernel completes it before
 * {@code accept}), so its round trip is charged to the client's first bytes instead: nothing
 * the client sends reaches the server before 1.5 RTT after the connection was accepted, which
 * is when it would have arrived had the SYN and SYN-ACK each taken half a round trip. Every
 * exchange therefore costs what it would over a real link of that RTT; only the time a client
 * reports for "connect" moves to its first exchange.
 *
 * <pre>
 * java -cp tlspolicy-bench.jar org.tlspolicy.bench.DelayProxy RTT_MS \
 *     udp:127.0.0.54:53=127.0.0.1:18453 tcp:127.0.0.1:443=127.0.0.1:18443 ...
 * </pre>
 */
public final class DelayProxy {

    private final long halfRttNanos;
    private final ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    private DelayProxy(long rttMillis) {
        this.halfRttNanos = TimeUnit.MILLISECONDS.toNanos(rttMillis) / 2;
    }

    public static void main(String[] args) throws IOException {
        DelayProxy proxy = new DelayProxy(Long.parseLong(args[0]));
        for (String spec : Arrays.copyOfRange(args, 1, args.length)) {
            String[] parts = spec.split("[:=]");
            InetSocketAddress listen = new InetSocketAddress(parts[1], Integer.parseInt(parts[2]));
            InetSocketAddress to = new InetSocketAddress(parts[3], Integer.parseInt(parts[4]));
            switch (parts[0]) {
                case "udp" -> proxy.udp(listen, to);
                case "tcp" -> proxy.tcp(listen, to);
                default -> throw new IllegalArgumentException("udp or tcp: " + spec);
            }
        }
        System.out.println("# delay proxy: rtt " + args[0] + " ms");
    }

    /** Delivers {@code send} at {@code at} (System.nanoTime), in order of scheduling. */
    private void at(long at, Runnable send) {
        clock.schedule(send, at - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    private void udp(InetSocketAddress listen, InetSocketAddress upstream) throws IOException {
        DatagramSocket socket = new DatagramSocket(listen);
        threads.execute(() -> {
            byte[] buffer = new byte[65535];
            while (true) {
                DatagramPacket p = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(p);
                } catch (IOException e) {
                    return;
                }
                byte[] query = Arrays.copyOf(p.getData(), p.getLength());
                SocketAddress client = p.getSocketAddress();
                long arrived = System.nanoTime();
                threads.execute(() -> exchange(socket, query, client, upstream, arrived));
            }
        });
    }

    private void exchange(DatagramSocket socket, byte[] query, SocketAddress client,
                          InetSocketAddress upstream, long arrived) {
        try (DatagramSocket up = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            up.setSoTimeout(10_000);
            long sendAt = arrived + halfRttNanos;
            long wait = sendAt - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            up.send(new DatagramPacket(query, query.length, upstream));
            byte[] buffer = new byte[65535];
            DatagramPacket answer = new DatagramPacket(buffer, buffer.length);
            up.receive(answer);
            byte[] bytes = Arrays.copyOf(answer.getData(), answer.getLength());
            at(System.nanoTime() + halfRttNanos, () -> {
                try {
                    socket.send(new DatagramPacket(bytes, bytes.length, client));
                } catch (IOException ignored) {
                    // lost, as on a real network
                }
            });
        } catch (IOException | InterruptedException ignored) {
            // lost, as on a real network
        }
    }

    private void tcp(InetSocketAddress listen, InetSocketAddress upstream) throws IOException {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(listen, 200);
        threads.execute(() -> {
            while (true) {
                Socket client;
                try {
                    client = server.accept();
                } catch (IOException e) {
                    return;
                }
                long accepted = System.nanoTime();
                threads.execute(() -> connection(client, upstream, accepted));
            }
        });
    }

    private void connection(Socket client, InetSocketAddress upstream, long accepted) {
        Socket server = new Socket();
        try {
            client.setTcpNoDelay(true);
            server.setTcpNoDelay(true);
            server.connect(upstream, 5000);
        } catch (IOException e) {
            close(client, server);
            return;
        }
        // Client to server: also not before the handshake's 1.5 RTT (see above).
        long notBefore = accepted + 3 * halfRttNanos;
        threads.execute(() -> pump(client, server, notBefore));
        pump(server, client, 0);
    }

    private void pump(Socket from, Socket to, long notBefore) {
        byte[] buffer = new byte[16384];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) > 0) {
                byte[] chunk = Arrays.copyOf(buffer, n);
                at(Math.max(System.nanoTime() + halfRttNanos, notBefore), () -> {
                    try {
                        out.write(chunk);
                        out.flush();
                    } catch (IOException e) {
                        close(from, to);
                    }
                });
            }
            at(System.nanoTime() + halfRttNanos, () -> {
                try {
                    to.shutdownOutput();
                } catch (IOException e) {
                    close(from, to);
                }
            });
        } catch (IOException e) {
            at(System.nanoTime() + halfRttNanos, () -> close(from, to));
        }
    }

    private static void close(Socket a, Socket b) {
        try {
            a.close();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            b.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
