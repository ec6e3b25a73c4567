package org.tlspolicy.testworld;

import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A UDP relay in front of a real DNS server that holds back the answer to one question until a
 * second question has been asked (or {@code maxHold} has passed). It shows whether a client
 * sends the second query without waiting for the first answer: if it waits, the held answer is
 * released only by the timeout. A fake for one fault a real server cannot be made to show
 * (answering one query only after another arrives); the answers themselves are the server's.
 */
public final class DnsGate implements AutoCloseable {

    private final DatagramSocket socket;
    private final InetSocketAddress upstream;
    private final Name heldName;
    private final Name releaseName;
    private final Duration maxHold;
    private final CountDownLatch released = new CountDownLatch(1);
    private final AtomicBoolean releasedByQuery = new AtomicBoolean();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "dns-gate");
        t.setDaemon(true);
        return t;
    });

    private DnsGate(InetSocketAddress upstream, Name heldName, Name releaseName, Duration maxHold)
            throws IOException {
        this.socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        this.upstream = upstream;
        this.heldName = heldName;
        this.releaseName = releaseName;
        this.maxHold = maxHold;
    }

    /** Holds answers about {@code heldName} until a query about {@code releaseName} arrives. */
    public static DnsGate start(InetSocketAddress upstream, Name heldName, Name releaseName,
                                Duration maxHold) throws IOException {
        DnsGate gate = new DnsGate(upstream, heldName, releaseName, maxHold);
        gate.threads.execute(gate::serve);
        return gate;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** Whether the held answer was let go because the releasing query arrived. */
    public boolean releasedByQuery() {
        return releasedByQuery.get();
    }

    private void serve() {
        byte[] buffer = new byte[65535];
        while (!socket.isClosed()) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
            } catch (IOException e) {
                return;
            }
            byte[] query = java.util.Arrays.copyOf(packet.getData(), packet.getLength());
            SocketAddress client = packet.getSocketAddress();
            threads.execute(() -> relay(query, client));
        }
    }

    private void relay(byte[] query, SocketAddress client) {
        try (DatagramSocket up = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            Record question = new Message(query).getQuestion();
            if (question.getName().equals(releaseName)) {
                releasedByQuery.compareAndSet(false, released.getCount() == 1);
                released.countDown();
            }
            up.setSoTimeout(5000);
            up.send(new DatagramPacket(query, query.length, upstream));
            byte[] buffer = new byte[65535];
            DatagramPacket answer = new DatagramPacket(buffer, buffer.length);
            up.receive(answer);
            if (question.getName().equals(heldName)) {
                released.await(maxHold.toMillis(), TimeUnit.MILLISECONDS);
            }
            socket.send(new DatagramPacket(answer.getData(), answer.getLength(), client));
        } catch (IOException | InterruptedException e) {
            // The client sees no answer and retries or times out, as with a lost packet.
        }
    }

    @Override
    public void close() {
        socket.close();
        threads.shutdownNow();
    }
}
