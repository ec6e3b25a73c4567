package org.tlspolicy.testworld;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A UDP relay in front of a real DNS server that can be told to pass answers on, pass them on
 * late, or drop them: the faults of a resolver that is slow or gone (a fake for network
 * faults this machine's kernel cannot make, no netem; the answers are the real server's).
 */
public final class DnsRelay implements AutoCloseable {

    private final DatagramSocket socket;
    private final InetSocketAddress upstream;
    private final ScheduledExecutorService threads = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "dns-relay");
        t.setDaemon(true);
        return t;
    });
    private volatile long delayMillis;
    private volatile boolean dropping;

    private DnsRelay(DatagramSocket socket, InetSocketAddress upstream) {
        this.socket = socket;
        this.upstream = upstream;
        threads.execute(this::loop);
    }

    /** A relay on a free loopback port, passing everything to {@code upstream}. */
    public static DnsRelay start(InetSocketAddress upstream) throws IOException {
        return new DnsRelay(new DatagramSocket(0, InetAddress.getLoopbackAddress()), upstream);
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(socket.getLocalAddress(), socket.getLocalPort());
    }

    /** Answers pass on at once. */
    public void pass() {
        dropping = false;
        delayMillis = 0;
    }

    /** Answers pass on after {@code delay}. */
    public void delay(Duration delay) {
        dropping = false;
        delayMillis = delay.toMillis();
    }

    /** Questions are swallowed: no answer ever. */
    public void drop() {
        dropping = true;
    }

    private void loop() {
        byte[] buf = new byte[65_535];
        while (!socket.isClosed()) {
            try {
                DatagramPacket q = new DatagramPacket(buf, buf.length);
                socket.receive(q);
                if (dropping) {
                    continue;
                }
                byte[] query = java.util.Arrays.copyOf(q.getData(), q.getLength());
                SocketAddress client = q.getSocketAddress();
                long delay = delayMillis;
                threads.schedule(() -> forward(query, client), delay, TimeUnit.MILLISECONDS);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void forward(byte[] query, SocketAddress client) {
        try (DatagramSocket out = new DatagramSocket()) {
            out.setSoTimeout(5000);
            out.send(new DatagramPacket(query, query.length, upstream));
            byte[] buf = new byte[65_535];
            DatagramPacket answer = new DatagramPacket(buf, buf.length);
            out.receive(answer);
            if (!dropping) {
                socket.send(new DatagramPacket(answer.getData(), answer.getLength(), client));
            }
        } catch (IOException e) {
            // upstream silent: so is the relay
        }
    }

    @Override
    public void close() {
        socket.close();
        threads.shutdownNow();
    }
}
