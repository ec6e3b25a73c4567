package org.tlspolicy.socketmap;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.PeerCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.metrics.LogThrottle;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps the number of connections at {@code max} without letting one local process lock
 * everyone else out (as 1024 idle connections otherwise would, until Postfix's own are refused
 * and all mail defers).
 *
 * <p>When a connection arrives at the limit, another one makes room for it: an idle one (no
 * request outstanding), the longest idle first, of the peer holding the most connections,
 * provided that peer holds at least as many as the newcomer's. A peer is a client address for
 * TCP, a user id for a unix socket (SO_PEERCRED). So a newcomer from a peer under its fair share
 * (the limit divided among the peers connected) may also take the place of a busy connection of
 * a peer over its share. Only when no connection may give way is the newcomer closed. An idle
 * connection closed early costs a reconnect; Postfix makes new connections all the time.
 */
@ChannelHandler.Sharable
final class ConnectionLimit extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ConnectionLimit.class);
    private static final LogThrottle REFUSED = LogThrottle.perMinute();
    private static final LogThrottle EVICTED = LogThrottle.perMinute();

    private volatile int max;
    private final ConcurrentHashMap<Channel, ConnectionActivity> open = new ConcurrentHashMap<>();
    private final AtomicLong evicted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    ConnectionLimit(int max) {
        this.max = max;
    }

    /** A new limit; connections over it are not closed, only newcomers refused or swapped. */
    void max(int next) {
        this.max = next;
    }

    int open() {
        return open.size();
    }

    /** Idle connections closed to make room for new ones, since start. */
    long evicted() {
        return evicted.get();
    }

    /** New connections refused at the limit, since start. */
    long refused() {
        return refused.get();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        Channel ch = ctx.channel();
        ConnectionActivity mine = ch.attr(ConnectionActivity.KEY).get();
        open.put(ch, mine);
        if (open.size() > max) {
            Channel victim = victim(ch, mine.peer);
            if (victim == null) {
                open.remove(ch);
                refused.incrementAndGet();
                long suppressed = REFUSED.permit();
                if (suppressed >= 0) {
                    log.warn("connection refused peer={} reason=\"max_connections={} reached, "
                            + "no connection idle\" suppressed={}", mine.peer, max, suppressed);
                }
                ctx.close();
                return;
            }
            ConnectionActivity v = open.remove(victim);
            evicted.incrementAndGet();
            long suppressed = EVICTED.permit();
            if (suppressed >= 0) {
                log.info("connection closed peer={} reason=\"max_connections={} reached; "
                        + "longest idle of the peer with most connections, for peer={}\" "
                        + "suppressed={}", v == null ? "?" : v.peer, max, mine.peer, suppressed);
            }
            victim.close();
        }
        super.channelActive(ctx);
    }

    /**
     * The connection to close for {@code newcomer} of {@code peer}, or null: see the class
     * comment.
     */
    private Channel victim(Channel newcomer, String peer) {
        Map<String, Integer> perPeer = new HashMap<>();
        open.values().forEach(a -> perPeer.merge(a.peer, 1, Integer::sum));
        int fairShare = Math.max(1, max / Math.max(1, perPeer.size()));
        int mineCount = perPeer.getOrDefault(peer, 0);
        Channel idle = null;
        long idleSince = Long.MAX_VALUE;
        int idleOwnerCount = -1;
        Channel busy = null;
        long busySince = Long.MAX_VALUE;
        int busyOwnerCount = -1;
        for (Map.Entry<Channel, ConnectionActivity> e : open.entrySet()) {
            Channel c = e.getKey();
            ConnectionActivity a = e.getValue();
            if (c == newcomer) {
                continue;
            }
            int count = perPeer.get(a.peer);
            if (count < mineCount) {
                continue; // a less greedy peer never gives way to a greedier one
            }
            long since = a.lastRequestNanos();
            if (a.outstanding() == 0) {
                if (count > idleOwnerCount || (count == idleOwnerCount && since < idleSince)) {
                    idle = c;
                    idleSince = since;
                    idleOwnerCount = count;
                }
            } else if (!a.peer.equals(peer) && count > fairShare && mineCount < fairShare
                    && (count > busyOwnerCount
                    || (count == busyOwnerCount && since < busySince))) {
                busy = c;
                busySince = since;
                busyOwnerCount = count;
            }
        }
        return idle != null ? idle : busy;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        open.remove(ctx.channel());
        super.channelInactive(ctx);
    }

    /** Gives a new connection its activity record, before its handlers are added. */
    static void track(Channel ch) {
        ch.attr(ConnectionActivity.KEY).set(new ConnectionActivity(peer(ch)));
    }

    /** {@code ip:ADDRESS} for TCP, {@code uid:N} for a unix socket. */
    private static String peer(Channel ch) {
        if (ch instanceof EpollDomainSocketChannel unix) {
            try {
                PeerCredentials c = unix.peerCredentials();
                return "uid:" + c.uid();
            } catch (IOException e) {
                return "uid:?";
            }
        }
        if (ch.remoteAddress() instanceof InetSocketAddress a) {
            return "ip:" + a.getAddress().getHostAddress();
        }
        return "?";
    }
}
