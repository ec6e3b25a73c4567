package org.tlspolicy.bench;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.socketmap.Netstring;
import org.tlspolicy.socketmap.SocketmapDecoder;
import org.tlspolicy.socketmap.SocketmapReply;

import java.util.concurrent.TimeUnit;

/**
 * The per-lookup CPU cost of the codec and key parsing, without sockets.
 * Run: {@code java -jar bench/target/tlspolicy-bench.jar SocketmapCodecBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SocketmapCodecBenchmark {

    private EmbeddedChannel decoder;
    private byte[] request;
    private final SocketmapReply policy =
            SocketmapReply.ok("secure match=mx1.example.net:.example.net servername=hostname");

    @Setup
    public void setup() {
        decoder = new EmbeddedChannel(new SocketmapDecoder());
        request = Netstring.encode("postfix mail.example.com");
    }

    /** Bytes in, one request out, as the server pipeline does it. */
    @Benchmark
    public Object decodeRequest() {
        decoder.writeInbound(Unpooled.wrappedBuffer(request));
        return decoder.readInbound();
    }

    @Benchmark
    public byte[] encodeNotFound() {
        return SocketmapReply.NOT_FOUND.encoded();
    }

    @Benchmark
    public byte[] encodePolicy() {
        return policy.encoded();
    }

    @Benchmark
    public NextHop parseDomainKey() {
        return NextHop.parse("Mail.Example.COM.");
    }

    @Benchmark
    public NextHop parseAddressKey() {
        return NextHop.parse("[192.0.2.1]:25");
    }

}
