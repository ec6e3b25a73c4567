package org.tlspolicy.config;

import org.tlspolicy.policy.DomainOverride;
import org.tlspolicy.socketmap.ListenAddress;
import org.tlspolicy.socketmap.SocketmapLimits;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The daemon's validated configuration. Built only by {@link ConfigLoader}, so every instance
 * has passed validation.
 *
 * @param mapName       the socketmap map name Postfix asks for
 * @param listen        where to listen; never empty
 * @param limits        per-connection limits
 * @param threads       event loop threads, 0 for one per processor
 * @param shutdownGrace how long lookups in flight may take to finish on SIGTERM
 * @param logLevel      the SLF4J level name
 * @param dns           recursive resolvers
 * @param mtaSts        MTA-STS settings
 * @param dane          DANE settings
 * @param cache         the policy cache
 * @param tlsrpt        {@code auto}, {@code on} or {@code off}
 * @param postfix       how to ask the Postfix this daemon serves about itself
 * @param metrics       where the metrics and health endpoint listens; empty: nowhere
 * @param tlsrptStore   tlsrpt-sender's store, read for the status page; empty: none
 * @param receiverStore tlsrpt-receiver's store, read for /domains and metrics; empty: none
 * @param controlSocket the control socket's path; empty: none
 * @param overrides     the operator's fixed answers, at most one per domain
 */
public record DaemonConfig(String mapName, List<ListenAddress> listen, SocketmapLimits limits,
                           int threads, Duration shutdownGrace, String logLevel, Dns dns,
                           MtaSts mtaSts, Dane dane, Cache cache, String tlsrpt,
                           Postfix postfix, Optional<InetSocketAddress> metrics,
                           Optional<Path> tlsrptStore, Optional<Path> receiverStore,
                           Optional<Path> controlSocket,
                           List<DomainOverride> overrides) {

    public DaemonConfig {
        listen = List.copyOf(listen);
        overrides = List.copyOf(overrides);
    }

    /** @param servers empty: those of /etc/resolv.conf */
    public record Dns(List<InetSocketAddress> servers, Duration timeout, int attempts) {
        public Dns {
            servers = List.copyOf(servers);
        }
    }

    /**
     * @param allowPrivateAddresses fetch from policy hosts on non-global addresses (test worlds)
     */
    public record MtaSts(boolean enabled, boolean strictTesting, Duration connectTimeout,
                         Duration fetchTimeout, Optional<Path> extraCaFile,
                         boolean allowPrivateAddresses) {
    }

    /**
     * @param dnssec          how DNSSEC answers are trusted
     * @param trustAnchorFile empty: the root zone's keys shipped with the daemon
     */
    public record Dane(boolean enabled, Dnssec dnssec, Optional<Path> trustAnchorFile,
                       Duration minTtl, Duration maxTtl) {
    }

    /** The two DNSSEC trust modes. */
    public enum Dnssec {
        /** Validate in-process from trust anchors; the resolvers only pass DNSSEC records on. */
        VALIDATE,
        /** Trust the AD bit of the resolvers, which must be on loopback. */
        RESOLVER
    }

    /**
     * @param postconf        the postconf(1) program; empty: Postfix's own where installed
     * @param configDirectory Postfix's configuration directory (postconf -c); empty: its default
     */
    public record Postfix(Optional<Path> postconf, Optional<Path> configDirectory) {
    }

    /**
     * @param path           empty: memory only
     * @param resolutionRate resolutions started per second, at most
     * @param shared         fleet mode's shared cache; empty: a single relay
     */
    public record Cache(Optional<Path> path, int maxEntries, int maxMemoryMib,
                        Duration negativeTtl, Duration failureTtl, Duration checkInterval,
                        int refreshRate, int resolutionRate, Optional<Shared> shared) {

        /** MTA-STS states' share of {@code max_memory_mib}: three quarters. */
        public long stsBytes() {
            return maxMemoryMib * 1024L * 1024L * 3 / 4;
        }

        /** DANE results' share: the rest. */
        public long daneBytes() {
            return maxMemoryMib * 1024L * 1024L - stsBytes();
        }
    }

    /**
     * Fleet mode's shared cache on a Valkey or Redis server ({@code cache.shared}).
     *
     * @param uri          redis://HOST:PORT[/DB] or rediss://… (TLS)
     * @param username     the ACL user; empty: the server's default user
     * @param passwordFile the AUTH password's file; empty: none
     * @param caFile       PEM CA certificates for rediss; empty: the system's
     * @param keyFile      the fleet key (HMAC) every relay of the fleet shares
     * @param timeout      per command
     */
    public record Shared(String uri, Optional<String> username, Optional<Path> passwordFile,
                         Optional<Path> caFile, Path keyFile, Duration timeout) {
    }
}
