package org.tlspolicy.config;

import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.tlspolicy.fleet.FleetKey;
import org.tlspolicy.policy.DomainOverride;
import org.tlspolicy.policy.TlsPolicy;
import org.tlspolicy.socketmap.ListenAddress;
import org.tlspolicy.socketmap.SocketmapLimits;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the YAML configuration: the embedded defaults, with the operator's file (if any) laid
 * over them, validated key by key. Nothing the daemon does starts before this has succeeded, so
 * a bad value is reported once, at start, naming the key.
 */
public final class ConfigLoader {

    private static final String DEFAULTS = "default-config.yml";
    private static final int MAX_FILE_BYTES = 1 << 20;
    private static final Set<String> LOG_LEVELS = Set.of("error", "warn", "info", "debug", "trace");

    private ConfigLoader() {
    }

    /** The embedded defaults, as YAML text: the reference for every key. */
    public static String defaultsText() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULTS)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("embedded default configuration missing", e);
        }
    }

    /** The embedded defaults alone. */
    public static DaemonConfig defaults() {
        try {
            return parse("");
        } catch (ConfigException e) {
            throw new IllegalStateException("embedded default configuration invalid", e);
        }
    }

    /**
     * The instance a configuration file stands for: its name without {@code .yml} or {@code
     * .yaml}, when that is a word of lower-case letters, digits and hyphens other than {@code
     * tlspolicyd} (the package's own file); else empty, the default instance. {@code
     * /etc/tlspolicyd/submission.yml} is instance {@code submission}, as the template unit
     * {@code tlspolicyd@submission} runs it.
     */
    public static Optional<String> instance(Path file) {
        String name = file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
        return name.matches("[a-z0-9][a-z0-9-]{0,31}") && !name.equals("tlspolicyd")
                ? Optional.of(name) : Optional.empty();
    }

    /**
     * The paths an instance gets by default, so that two daemons on one host never share a
     * control socket or a cache file (what {@code tlspolicyd@NAME}'s RuntimeDirectory and
     * StateDirectory make): {@code /run/tlspolicyd-NAME/control.sock} and {@code
     * /var/lib/tlspolicyd-NAME/cache.db}. A file's own {@code control.socket} or {@code
     * cache.path} still wins.
     */
    static Map<String, Object> instanceDefaults(String name) {
        return Map.of("control", Map.of("socket", "/run/tlspolicyd-" + name + "/control.sock"),
                "cache", Map.of("path", "/var/lib/tlspolicyd-" + name + "/cache.db"));
    }

    /**
     * The defaults with {@code file} laid over them (and its instance's paths, if any), its
     * {@code ${NAME}} and {@code ${NAME:-default}} replaced from the environment.
     */
    public static DaemonConfig load(Path file) throws ConfigException {
        String text;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new ConfigException("config file " + file + " is larger than 1 MiB");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            // The operator's words, not Java's: a file exception's message is only the path.
            throw new ConfigException("cannot read config file " + file + ": "
                    + (e instanceof java.nio.file.NoSuchFileException ? "no such file"
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e.getMessage()));
        }
        return parse(EnvironmentReferences.resolve(text, System.getenv()), instance(file));
    }

    /** The defaults with the YAML document {@code text} laid over them. */
    public static DaemonConfig parse(String text) throws ConfigException {
        return parse(text, Optional.empty());
    }

    private static DaemonConfig parse(String text, Optional<String> instance)
            throws ConfigException {
        Map<String, Object> defaults = yaml(defaultsText(), "embedded defaults");
        if (instance.isPresent()) {
            defaults = ConfigTree.merge(defaults, instanceDefaults(instance.get())).root();
        }
        ConfigTree tree = ConfigTree.merge(defaults, yaml(text, "config"));
        return build(tree);
    }

    private static Map<String, Object> yaml(String text, String what) throws ConfigException {
        LoadSettings settings = LoadSettings.builder()
                .setAllowDuplicateKeys(false)
                .setMaxAliasesForCollections(10)
                .setLabel(what)
                .build();
        Object doc;
        try {
            doc = new Load(settings).loadFromString(text);
        } catch (YamlEngineException e) {
            throw new ConfigException(what + " is not valid YAML: " + e.getMessage());
        }
        if (doc == null) {
            return Map.of();
        }
        if (!(doc instanceof Map<?, ?> map)) {
            throw new ConfigException(what + " must be a YAML mapping of keys");
        }
        return ConfigTree.stringKeys(map, "");
    }

    private static DaemonConfig build(ConfigTree t) throws ConfigException {
        String mapName = t.string("socketmap.map_name");
        if (!mapName.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw ConfigException.badValue("socketmap.map_name", mapName,
                    "must be 1 to 64 letters, digits, '_', '.' or '-'");
        }
        boolean allowRemote = t.bool("socketmap.allow_remote");
        List<ListenAddress> listen = new ArrayList<>();
        for (String address : t.strings("socketmap.listen")) {
            listen.add(tcp(address, allowRemote));
        }
        String socketPath = t.string("socketmap.unix_socket.path");
        if (!socketPath.isEmpty()) {
            listen.add(unix(t, socketPath));
        }
        if (listen.isEmpty()) {
            throw new ConfigException("config keys socketmap.listen and "
                    + "socketmap.unix_socket.path: at least one listener is needed");
        }
        SocketmapLimits limits = new SocketmapLimits(
                t.integer("socketmap.max_connections", 1, 1_000_000),
                t.duration("socketmap.idle_timeout", Duration.ofSeconds(11), Duration.ofHours(1)),
                t.duration("socketmap.request_timeout", Duration.ofMillis(100),
                        Duration.ofSeconds(100)),
                t.duration("socketmap.lookup_timeout", Duration.ofMillis(100),
                        Duration.ofSeconds(99)),
                t.integer("socketmap.max_pipelined", 1, 10_000));
        int threads = t.integer("socketmap.threads", 0, 256);
        Duration grace = t.duration("shutdown_grace", Duration.ZERO, Duration.ofMinutes(5));
        String level = t.string("log.level");
        if (!LOG_LEVELS.contains(level)) {
            throw ConfigException.badValue("log.level", level, "must be one of error, warn, "
                    + "info, debug, trace");
        }
        String control = t.string("control.socket");
        if (!control.isEmpty() && !Path.of(control).isAbsolute()) {
            throw ConfigException.badValue("control.socket", control, "must be an absolute "
                    + "path, or empty for none");
        }
        return new DaemonConfig(mapName, listen, limits, threads, grace, level, dns(t),
                mtaSts(t), dane(t), cache(t), tlsrpt(t), postfix(t), metrics(t),
                optionalPath(t, "metrics.tlsrpt_store"),
                optionalPath(t, "metrics.tlsrpt_receiver_store"),
                control.isEmpty() ? Optional.empty() : Optional.of(Path.of(control)),
                overrides(t));
    }

    /** {@code overrides:}, a list of {domain, policy, reason, expires}. */
    private static List<DomainOverride> overrides(ConfigTree t) throws ConfigException {
        List<DomainOverride> out = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Map<String, Object> item : t.sections("overrides",
                List.of("domain", "policy", "reason", "expires"))) {
            String key = "overrides[" + out.size() + "]";
            String domain = text(item.get("domain")).toLowerCase(java.util.Locale.ROOT);
            if (domain.endsWith(".")) {
                domain = domain.substring(0, domain.length() - 1);
            }
            if (!domain.matches("[a-z0-9_]([a-z0-9_-]{0,62}\\.)*[a-z0-9_-]{1,63}")
                    || domain.length() > 253) {
                throw ConfigException.badValue(key + ".domain", item.get("domain"),
                        "must be a domain name, e.g. example.com");
            }
            if (!seen.add(domain)) {
                throw ConfigException.badValue(key + ".domain", domain, "has an override "
                        + "already: one per domain");
            }
            String reason = text(item.get("reason")).strip();
            if (reason.isEmpty()) {
                throw ConfigException.badValue(key + ".reason", item.get("reason"), "must say "
                        + "why (it is logged with every decision it makes)");
            }
            Optional<TlsPolicy> policy;
            try {
                policy = TlsPolicy.parseOverride(text(item.get("policy")));
            } catch (IllegalArgumentException e) {
                throw ConfigException.badValue(key + ".policy", item.get("policy"),
                        "is not usable: " + e.getMessage());
            }
            Optional<java.time.LocalDate> expires = Optional.empty();
            Object e = item.get("expires");
            if (e != null) {
                try {
                    expires = Optional.of(java.time.LocalDate.parse(text(e)));
                } catch (java.time.format.DateTimeParseException bad) {
                    throw ConfigException.badValue(key + ".expires", e, "must be a day, "
                            + "YYYY-MM-DD");
                }
            }
            out.add(new DomainOverride(domain, policy, reason, expires));
        }
        return out;
    }

    private static Optional<Path> optionalPath(ConfigTree t, String key)
            throws ConfigException {
        String v = t.string(key);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        if (!Path.of(v).isAbsolute()) {
            throw ConfigException.badValue(key, v, "must be an absolute path, or empty");
        }
        return Optional.of(Path.of(v));
    }

    private static String text(Object v) {
        return v == null ? "" : String.valueOf(v);
    }

    private static DaemonConfig.Dns dns(ConfigTree t) throws ConfigException {
        List<InetSocketAddress> servers = new ArrayList<>();
        for (String s : t.strings("dns.servers")) {
            servers.add(server(s));
        }
        return new DaemonConfig.Dns(servers,
                t.duration("dns.timeout", Duration.ofMillis(100), Duration.ofSeconds(30)),
                t.integer("dns.attempts", 1, 10));
    }

    /** IP, IP:PORT or [IPv6]:PORT; port 53 when none is given. */
    private static InetSocketAddress server(String s) throws ConfigException {
        String allowed = "must be an IP address, IP:PORT or [IPv6]:PORT, e.g. 127.0.0.1 or "
                + "[::1]:53";
        String host = s;
        int port = 53;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw ConfigException.badValue("dns.servers", s, allowed);
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw ConfigException.badValue("dns.servers", s, allowed);
                }
                port = port(rest.substring(1), s, allowed);
            }
        } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
            host = s.substring(0, s.indexOf(':'));
            port = port(s.substring(s.indexOf(':') + 1), s, allowed);
        }
        boolean literal = host.indexOf(':') >= 0 || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        try {
            if (!literal) {
                throw new UnknownHostException(host);
            }
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw ConfigException.badValue("dns.servers", s, allowed);
        }
    }

    private static int port(String text, String value, String allowed) throws ConfigException {
        try {
            int p = Integer.parseInt(text);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw ConfigException.badValue("dns.servers", value, allowed);
    }

    private static DaemonConfig.MtaSts mtaSts(ConfigTree t) throws ConfigException {
        String ca = t.string("mta_sts.extra_ca_file");
        Optional<Path> caFile = Optional.empty();
        if (!ca.isEmpty()) {
            Path p = Path.of(ca);
            if (!Files.isReadable(p)) {
                throw ConfigException.badValue("mta_sts.extra_ca_file", ca,
                        "must be a readable PEM file of CA certificates");
            }
            caFile = Optional.of(p);
        }
        return new DaemonConfig.MtaSts(t.bool("mta_sts.enabled"), t.bool("mta_sts.strict_testing"),
                t.duration("mta_sts.connect_timeout", Duration.ofMillis(100), Duration.ofSeconds(60)),
                t.duration("mta_sts.fetch_timeout", Duration.ofMillis(100), Duration.ofSeconds(90)),
                caFile, t.bool("mta_sts.allow_private_addresses"));
    }

    private static DaemonConfig.Dane dane(ConfigTree t) throws ConfigException {
        String mode = t.string("dane.dnssec");
        DaemonConfig.Dnssec dnssec = switch (mode) {
            case "validate" -> DaemonConfig.Dnssec.VALIDATE;
            case "resolver" -> DaemonConfig.Dnssec.RESOLVER;
            default -> throw ConfigException.badValue("dane.dnssec", mode,
                    "must be validate or resolver");
        };
        String anchors = t.string("dane.trust_anchor_file");
        Optional<Path> anchorFile = Optional.empty();
        if (!anchors.isEmpty()) {
            Path p = Path.of(anchors);
            if (!Files.isReadable(p)) {
                throw ConfigException.badValue("dane.trust_anchor_file", anchors,
                        "must be a readable file of DS or DNSKEY records");
            }
            anchorFile = Optional.of(p);
        }
        Duration minTtl = t.duration("dane.min_ttl", Duration.ZERO, Duration.ofHours(1));
        Duration maxTtl = t.duration("dane.max_ttl", Duration.ofSeconds(1), Duration.ofDays(1));
        if (minTtl.compareTo(maxTtl) > 0) {
            throw ConfigException.badValue("dane.min_ttl", t.string("dane.min_ttl"),
                    "must not be more than dane.max_ttl");
        }
        return new DaemonConfig.Dane(t.bool("dane.enabled"), dnssec, anchorFile, minTtl, maxTtl);
    }

    private static DaemonConfig.Cache cache(ConfigTree t) throws ConfigException {
        String path = t.string("cache.path");
        if (!path.isEmpty() && !Path.of(path).isAbsolute()) {
            throw ConfigException.badValue("cache.path", path, "must be an absolute path, or "
                    + "empty for memory only");
        }
        return new DaemonConfig.Cache(path.isEmpty() ? Optional.empty() : Optional.of(Path.of(path)),
                t.integer("cache.max_entries", 100, 100_000_000),
                t.integer("cache.max_memory_mib", 8, 1_000_000),
                t.duration("cache.negative_ttl", Duration.ZERO, Duration.ofDays(1)),
                t.duration("cache.failure_ttl", Duration.ZERO, Duration.ofHours(1)),
                t.duration("cache.check_interval", Duration.ofMinutes(1), Duration.ofDays(7)),
                t.integer("cache.refresh_rate", 1, 1000),
                t.integer("cache.resolution_rate", 1, 1_000_000),
                shared(t));
    }

    /** cache.shared: fleet mode, or empty. Everything it names is checked here, not later. */
    private static Optional<DaemonConfig.Shared> shared(ConfigTree t) throws ConfigException {
        String type = t.string("cache.shared.type");
        if (type.equals("none")) {
            return Optional.empty();
        }
        if (!type.equals("valkey") && !type.equals("redis")) {
            throw ConfigException.badValue("cache.shared.type", type,
                    "must be none, valkey or redis");
        }
        String uri = t.string("cache.shared.uri");
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            parsed = null;
        }
        if (parsed == null || parsed.getHost() == null
                || !Set.of("redis", "rediss").contains(String.valueOf(parsed.getScheme()))
                || parsed.getUserInfo() != null) {
            throw ConfigException.badValue("cache.shared.uri", uri, "must be redis://HOST:PORT "
                    + "or rediss://HOST:PORT (TLS), optionally /DB; the user and password go "
                    + "in cache.shared.username and password_file, not here");
        }
        Path keyFile = existingFile(t, "cache.shared.key_file").orElseThrow(() ->
                ConfigException.badValue("cache.shared.key_file", "", "must name the fleet "
                        + "key file every relay shares (head -c 32 /dev/urandom | base64)"));
        try {
            FleetKey.read(keyFile);
        } catch (IOException e) {
            throw ConfigException.badValue("cache.shared.key_file", keyFile,
                    e instanceof AccessDeniedException ? "cannot be read"
                            : e.getMessage());
        }
        String user = t.string("cache.shared.username");
        return Optional.of(new DaemonConfig.Shared(uri,
                user.isEmpty() ? Optional.empty() : Optional.of(user),
                existingFile(t, "cache.shared.password_file"),
                existingFile(t, "cache.shared.ca_file"), keyFile,
                t.duration("cache.shared.timeout", Duration.ofMillis(10), Duration.ofSeconds(5))));
    }

    /** An absolute path to a readable file, or empty when the key is empty. */
    private static Optional<Path> existingFile(ConfigTree t, String key) throws ConfigException {
        String v = t.string(key);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        Path p = Path.of(v);
        if (!p.isAbsolute() || !Files.isReadable(p)) {
            throw ConfigException.badValue(key, v, "must be the absolute path of a readable "
                    + "file");
        }
        return Optional.of(p);
    }

    /** Loopback only: the endpoint has no authentication and shows what mail goes where. */
    private static Optional<InetSocketAddress> metrics(ConfigTree t) throws ConfigException {
        String listen = t.string("metrics.listen");
        if (listen.isEmpty()) {
            return Optional.empty();
        }
        InetSocketAddress a;
        try {
            a = ((ListenAddress.Tcp) tcp(listen, true)).address();
        } catch (ConfigException e) {
            throw ConfigException.badValue("metrics.listen", listen, "must be IP:PORT or "
                    + "[IPv6]:PORT on loopback, e.g. 127.0.0.1:9461, or empty for none");
        }
        if (!a.getAddress().isLoopbackAddress()) {
            throw ConfigException.badValue("metrics.listen", listen, "is not a loopback "
                    + "address; the endpoint has no authentication");
        }
        return Optional.of(a);
    }

    private static String tlsrpt(ConfigTree t) throws ConfigException {
        String v = t.string("tlsrpt");
        if (!Set.of("auto", "on", "off").contains(v)) {
            throw ConfigException.badValue("tlsrpt", v, "must be auto, on or off");
        }
        return v;
    }

    private static DaemonConfig.Postfix postfix(ConfigTree t) throws ConfigException {
        String program = t.string("postfix.postconf");
        Optional<Path> postconf = Optional.empty();
        if (!program.isEmpty()) {
            Path p = Path.of(program);
            if (!p.isAbsolute() || !Files.isExecutable(p)) {
                throw ConfigException.badValue("postfix.postconf", program,
                        "must be the absolute path of an executable postconf, or empty");
            }
            postconf = Optional.of(p);
        }
        String dir = t.string("postfix.config_directory");
        Optional<Path> configDirectory = Optional.empty();
        if (!dir.isEmpty()) {
            Path p = Path.of(dir);
            if (!p.isAbsolute()) {
                throw ConfigException.badValue("postfix.config_directory", dir,
                        "must be an absolute path, or empty");
            }
            configDirectory = Optional.of(p);
        }
        return new DaemonConfig.Postfix(postconf, configDirectory);
    }

    private static ListenAddress tcp(String address, boolean allowRemote) throws ConfigException {
        String key = "socketmap.listen";
        int colon = address.lastIndexOf(':');
        String allowed = "must be IP:PORT or [IPv6]:PORT with an IP literal and a port from 0 "
                + "(any free port) to 65535, e.g. 127.0.0.1:8461 or [::1]:8461";
        if (colon < 0) {
            throw ConfigException.badValue(key, address, allowed);
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw ConfigException.badValue(key, address, allowed);
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        // Only literals: a host name would make start-up depend on DNS. The JDK parses a string
        // with ':' or a dotted quad as a literal and never resolves it.
        boolean literal = host.indexOf(':') >= 0 || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        InetAddress inet = null;
        if (literal) {
            try {
                inet = InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                inet = null;
            }
        }
        if (inet == null || port < 0 || port > 65535) {
            throw ConfigException.badValue(key, address, allowed);
        }
        if (!inet.isLoopbackAddress() && !allowRemote) {
            throw ConfigException.badValue(key, address, "is not a loopback address, and the "
                    + "socketmap protocol has no authentication; set socketmap.allow_remote: true"
                    + " to listen there anyway");
        }
        return new ListenAddress.Tcp(new InetSocketAddress(inet, port));
    }

    private static ListenAddress unix(ConfigTree t, String path) throws ConfigException {
        Path p = Path.of(path);
        if (!p.isAbsolute()) {
            throw ConfigException.badValue("socketmap.unix_socket.path", path,
                    "must be an absolute path");
        }
        String mode = t.string("socketmap.unix_socket.mode");
        if (!mode.matches("0?[0-7]{3}")) {
            throw ConfigException.badValue("socketmap.unix_socket.mode", mode,
                    "must be octal permissions such as \"0660\"");
        }
        String owner = t.string("socketmap.unix_socket.owner");
        String group = t.string("socketmap.unix_socket.group");
        return new ListenAddress.Unix(p, optional(owner), optional(group), permissions(mode));
    }

    private static Optional<String> optional(String s) {
        return s.isEmpty() ? Optional.empty() : Optional.of(s);
    }

    private static Set<PosixFilePermission> permissions(String octal) {
        int bits = Integer.parseInt(octal, 8);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_READ,
        };
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        for (int i = 0; i < order.length; i++) {
            if ((bits & (1 << i)) != 0) {
                set.add(order[i]);
            }
        }
        return set;
    }
}
