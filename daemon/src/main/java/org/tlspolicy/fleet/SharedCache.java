package org.tlspolicy.fleet;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisCredentials;
import io.lettuce.core.RedisCredentialsProvider;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.event.connection.ConnectionDeactivatedEvent;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.cache.SharedTier;
import org.tlspolicy.cache.StoredDane;
import org.tlspolicy.metrics.LogThrottle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Fleet mode's shared tier on a Valkey or Redis server (the same protocol), through Lettuce's
 * asynchronous client: no thread waits on the server.
 *
 * <p>Keys: {@code tlspolicy:sts:DOMAIN} and {@code tlspolicy:dane:DOMAIN} hold {@link
 * SharedEntry} values, set to expire on the server when their validity ends (so a full server
 * evicts nothing that still matters before it would expire anyway, and a flushed one loses
 * only work); {@code tlspolicy:lease:DOMAIN} is a fetch lease ({@code SET NX PX}), released by
 * its holder only (compare and delete, in one script).
 *
 * <p>The server is never waited for long and never needed for a right answer. Each command
 * has {@code timeout} (default 1 s, far under Postfix's socketmap timeout of 100 s). A
 * timeout or a lost connection marks the server down: for {@value #RETRY_MS} ms nothing is
 * asked of it and every call answers at once as if it had nothing (the local tiers answer),
 * then one call tries again. A server that answers with an error (out of memory under {@code
 * maxmemory} with {@code noeviction}, a missing ACL permission) is not down: that write or
 * lease is simply not had. Each change of state is one log line ({@code shared-cache
 * state=up|down}); entries that fail their MAC are ignored, counted and logged (at most once
 * in ten minutes, with the count held back).
 */
public final class SharedCache implements SharedTier, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SharedCache.class);

    /** How long a server found down is left alone before one call tries it again. */
    static final long RETRY_MS = 2000;

    /** Commands queued for the server at most; beyond, they fail at once (a stalled server). */
    private static final int MAX_QUEUED = 10_000;

    private static final String PREFIX = "tlspolicy:";

    /** Deletes the lease only if this relay still holds it. */
    private static final String RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then "
            + "return redis.call('del', KEYS[1]) else return 0 end";

    /**
     * @param uri          {@code redis://HOST:PORT[/DB]} or {@code rediss://…} (TLS)
     * @param username     the ACL user; empty: the default user
     * @param passwordFile a file holding the password (AUTH); empty: none
     * @param caFile       PEM CA certificates that sign the server's (rediss); empty: the
     *                     system's
     * @param key          the fleet key every entry is authenticated with
     * @param timeout      per command
     * @param leaseTime    how long a fetch lease lasts
     */
    public record Settings(String uri, Optional<String> username, Optional<Path> passwordFile,
                           Optional<Path> caFile, FleetKey key, Duration timeout,
                           Duration leaseTime) {
    }

    private final Settings settings;
    private final String server;
    private final ClientResources resources;
    private final RedisClient client;
    private final RedisURI redisUri;
    /** This relay's lease value: which relay holds a lease, for the release script. */
    private final String relayId;
    private final LongSupplier clock;
    private volatile StatefulRedisConnection<String, String> connection;
    private final AtomicBoolean connecting = new AtomicBoolean();
    /** Nothing is asked of the server before this (System.nanoTime); see the class comment. */
    private volatile long quietUntil;
    private volatile boolean up;
    /** Whether "down" has been logged since the last "up" (the first failure at start too). */
    private volatile boolean downLogged;
    private volatile boolean closed;
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong leasesWaited = new AtomicLong();
    /**
     * Where a reply's continuations run (the relay's work that follows it: verifying the
     * entry, writing the store, starting a resolution), never on Lettuce's I/O thread: there
     * they held up the reading of the next replies, so that under a burst of new domains
     * commands the server had answered timed out, the tier was taken for down, and every relay
     * fetched every policy itself (bench/run-burst: three fetches a domain).
     */
    private final java.util.concurrent.ExecutorService callbacks =
            java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "shared-cache");
                t.setDaemon(true);
                return t;
            });
    private final LogThrottle rejectLog = new LogThrottle(10, TimeUnit.MINUTES);
    private final LogThrottle errorLog = new LogThrottle(10, TimeUnit.MINUTES);

    private SharedCache(Settings settings, LongSupplier clock) throws IOException {
        this.settings = settings;
        this.clock = clock;
        this.redisUri = RedisURI.create(settings.uri());
        char[] password = null;
        if (settings.passwordFile().isPresent()) {
            Path file = settings.passwordFile().get();
            for (String w : org.tlspolicy.secret.SecretFile.check(file, "password file")) {
                log.warn("shared-cache {}", w);
            }
            password = Files.readString(file).strip().toCharArray();
        }
        String user = settings.username().orElse(null);
        if (password != null || user != null) {
            RedisCredentials credentials = RedisCredentials.just(user, password);
            redisUri.setCredentialsProvider(RedisCredentialsProvider.from(() -> credentials));
        }
        if (redisUri.isSsl()) {
            redisUri.setVerifyPeer(SslVerifyMode.FULL); // strict PKIX and host name
        }
        redisUri.setTimeout(settings.timeout());
        this.server = (redisUri.isSsl() ? "rediss://" : "redis://") + redisUri.getHost() + ":"
                + redisUri.getPort();
        this.relayId = ProcessHandle.current().pid() + "-"
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        // One I/O thread is plenty for a few commands per new domain, and a small footprint.
        // A lost connection is tried again every RETRY_MS, as one never made is (Lettuce's
        // default backs off to 30 s).
        this.resources = DefaultClientResources.builder().ioThreadPoolSize(1)
                .computationThreadPoolSize(1)
                .reconnectDelay(Delay.constant(Duration.ofMillis(RETRY_MS))).build();
        this.client = RedisClient.create(resources, redisUri);
        // Lettuce reconnects a connection it had by itself; its activation (after AUTH) is the
        // server back, whether or not a lookup asks it something meanwhile: a relay whose
        // domains are all in memory must say so too (the gauge, the log line).
        resources.eventBus().get().subscribe(event -> {
            if (event instanceof ConnectionActivatedEvent) {
                quietUntil = System.nanoTime();
                up();
            } else if (event instanceof ConnectionDeactivatedEvent && !closed) {
                down(new RedisConnectionException("connection lost"));
            }
        });
        SslOptions.Builder tls = SslOptions.builder().jdkSslProvider();
        settings.caFile().ifPresent(ca -> tls.trustManager(ca.toFile()));
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                // A relay never waits for a server that is away: commands fail at once.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(MAX_QUEUED)
                .timeoutOptions(TimeoutOptions.enabled(settings.timeout()))
                .socketOptions(SocketOptions.builder()
                        .connectTimeout(settings.timeout().multipliedBy(4))
                        .keepAlive(true).build())
                .sslOptions(tls.build())
                .build());
    }

    /**
     * A shared cache on the server of {@code settings}, connecting in the background: a
     * server down at start is tried again, and the relay answers from its local tiers
     * meanwhile.
     */
    public static SharedCache start(Settings settings, LongSupplier clock)
            throws IOException {
        SharedCache c = new SharedCache(settings, clock);
        c.connect();
        return c;
    }

    private void connect() {
        if (closed || !connecting.compareAndSet(false, true)) {
            return;
        }
        client.connectAsync(StringCodec.UTF8, redisUri).whenComplete((c, error) -> {
            connecting.set(false);
            if (error != null) {
                down(error);
                // Tried again in the background too, not only when a lookup needs the server:
                // a relay whose domains are all in memory must still come back up (and say so).
                if (!closed) {
                    resources.eventExecutorGroup().schedule(this::connect, RETRY_MS,
                            TimeUnit.MILLISECONDS);
                }
            } else if (closed) {
                c.closeAsync();
            } else {
                connection = c;
                up();
            }
        });
    }

    private void up() {
        if (!up) {
            up = true;
            downLogged = false;
            log.info("shared-cache state=up server={}", server);
        }
    }

    private void down(Throwable error) {
        quietUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRY_MS);
        if (up || !downLogged) {
            up = false;
            downLogged = true;
            log.warn("shared-cache state=down server={} reason=\"{}\" answering from the local "
                    + "tiers, trying again every {} ms", server, describe(error), RETRY_MS);
        }
    }

    /** The exception and, when another lies beneath it (a TLS failure), the deepest one. */
    private static String describe(Throwable e) {
        Throwable top = e instanceof CompletionException && e.getCause() != null
                ? e.getCause() : e;
        Throwable root = top;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text = text(top) + (root == top ? "" : " (" + text(root) + ")");
        return text.replace('"', '\'');
    }

    private static String text(Throwable t) {
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": "
                + t.getMessage());
    }

    /**
     * Runs {@code command} on the server if it may be asked now, else answers {@code absent}
     * at once; a failure answers {@code absent} too, after marking the server down or counting
     * the error.
     */
    private <T> CompletableFuture<T> ask(Function<StatefulRedisConnection<String, String>,
            CompletionStage<T>> command, T absent) {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null || System.nanoTime() - quietUntil < 0) {
            if (c == null && System.nanoTime() - quietUntil >= 0) {
                connect();
            }
            return CompletableFuture.completedFuture(absent);
        }
        CompletionStage<T> stage;
        try {
            stage = command.apply(c);
        } catch (RuntimeException e) {
            failed(e);
            return CompletableFuture.completedFuture(absent);
        }
        return stage.toCompletableFuture().handleAsync((value, error) -> {
            if (error == null) {
                up();
                return value;
            }
            failed(error);
            return absent;
        }, callbacks);
    }

    private void failed(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null
                ? error.getCause() : error;
        errors.incrementAndGet();
        if (cause instanceof RedisCommandExecutionException) {
            // The server answered: it is up, but refuses this (OOM, NOPERM, …).
            long held = errorLog.permit();
            if (held >= 0) {
                log.warn("shared-cache server={} refused a command reason=\"{}\" "
                        + "suppressed={}", server, describe(cause), held);
            }
            return;
        }
        down(cause);
    }

    @Override
    public CompletableFuture<Optional<StsEntry>> sts(String domain) {
        return ask(c -> c.async().get(PREFIX + "sts:" + domain), null).thenApply(value ->
                found(domain, "sts", value == null ? null
                        : SharedEntry.readSts(settings.key(), domain, value, clock.getAsLong())));
    }

    @Override
    public CompletableFuture<Optional<StoredDane>> dane(String domain) {
        return ask(c -> c.async().get(PREFIX + "dane:" + domain), null).thenApply(value ->
                found(domain, "dane", value == null ? null
                        : SharedEntry.readDane(settings.key(), domain, value, clock.getAsLong())));
    }

    private <T> Optional<T> found(String domain, String kind, SharedEntry.Read<T> read) {
        if (read instanceof SharedEntry.Read.Found<T> f) {
            hits.incrementAndGet();
            return Optional.of(f.value());
        }
        if (read instanceof SharedEntry.Read.Rejected<T> r) {
            rejected.incrementAndGet();
            long held = rejectLog.permit();
            if (held >= 0) {
                log.warn("shared-cache entry ignored domain={} kind={} reason=\"{}\" "
                        + "suppressed={}", domain, kind, r.reason(), held);
            }
        }
        misses.incrementAndGet();
        return Optional.empty();
    }

    @Override
    public CompletableFuture<Void> putSts(String domain, StsEntry entry) {
        return put(PREFIX + "sts:" + domain, SharedEntry.sts(settings.key(), domain, entry),
                entry.validUntil());
    }

    @Override
    public CompletableFuture<Void> putDane(StoredDane result) {
        return put(PREFIX + "dane:" + result.domain(),
                SharedEntry.dane(settings.key(), result), result.validUntil());
    }

    private CompletableFuture<Void> put(String key, String value, long validUntil) {
        if (validUntil <= clock.getAsLong()) {
            return CompletableFuture.completedFuture(null);
        }
        // Expires on the server when it stops being valid: nothing stale is kept there.
        return ask(c -> c.async().set(key, value, SetArgs.Builder.pxAt(validUntil)), null)
                .thenAccept(ok -> {
                    if ("OK".equals(ok)) {
                        writes.incrementAndGet();
                    }
                });
    }

    @Override
    public CompletableFuture<Void> forget(String domain) {
        return ask(c -> c.async().del(PREFIX + "sts:" + domain, PREFIX + "dane:" + domain),
                0L).thenAccept(deleted -> { });
    }

    @Override
    public CompletableFuture<Lease> lease(String domain) {
        return ask(c -> c.async().set(PREFIX + "lease:" + domain, relayId,
                        SetArgs.Builder.nx().px(settings.leaseTime().toMillis()))
                .thenApply(ok -> {
                    if ("OK".equals(ok)) {
                        return Lease.ACQUIRED;
                    }
                    leasesWaited.incrementAndGet();
                    return Lease.HELD_ELSEWHERE;
                }), Lease.UNAVAILABLE);
    }

    @Override
    public void release(String domain) {
        ask(c -> c.async().<Long>eval(RELEASE, ScriptOutputType.INTEGER,
                new String[] {PREFIX + "lease:" + domain}, relayId), 0L);
    }

    @Override
    public Duration leaseTime() {
        return settings.leaseTime();
    }

    /** The server, for logs and the status page: {@code redis://HOST:PORT}. */
    public String server() {
        return server;
    }

    /** 1 while the server answers, else 0 (a gauge). */
    public long upGauge() {
        return up ? 1 : 0;
    }

    /** Entries found (a counter). */
    public long hits() {
        return hits.get();
    }

    /** Entries looked for and not found, expired or rejected (a counter). */
    public long misses() {
        return misses.get();
    }

    /** Entries that failed their MAC or were malformed (a counter; alert on any). */
    public long rejected() {
        return rejected.get();
    }

    /** Commands that failed or timed out (a counter). */
    public long errors() {
        return errors.get();
    }

    /** Entries this relay wrote (a counter). */
    public long writes() {
        return writes.get();
    }

    /** Fetches this relay left to another relay's lease (a counter). */
    public long leasesWaited() {
        return leasesWaited.get();
    }

    @Override
    public void close() {
        closed = true;
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
        callbacks.shutdown();
    }

    /** Waits until the server has been reached (tests). */
    boolean awaitUp(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!up && System.nanoTime() < deadline) {
            connect();
            Thread.sleep(20);
        }
        return up;
    }
}
