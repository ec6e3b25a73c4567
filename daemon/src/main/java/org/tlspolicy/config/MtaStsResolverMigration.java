package org.tlspolicy.config;

import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.common.ScalarStyle;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Converts a postfix-mta-sts-resolver (mta-sts-daemon) configuration into tlspolicyd's, for
 * operators who migrate: the same listener (127.0.0.1:8461 by default, or its unix socket), the
 * same shutdown timeout, strict_testing and fetch timeout, and the nearest cache settings; what
 * has no equivalent is named in comments at the top of the result, never silently dropped.
 *
 * <p>mta-sts-daemon reads its file with PyYAML (YAML 1.1), where {@code mode: 0666} is octal and
 * {@code yes} is true; the file is read here as a node tree (every scalar its text) and those
 * YAML 1.1 rules applied by hand, so that a socket mode is not misread as decimal.
 */
public final class MtaStsResolverMigration {

    /** Keys mta-sts-daemon reads (postfix_mta_sts_resolver/utils.py populate_cfg_defaults). */
    private static final Set<String> KNOWN = Set.of("host", "port", "path", "mode", "reuse_port",
            "shutdown_timeout", "cache_grace", "proactive_policy_fetching", "cache",
            "default_zone", "zones");

    private static final int MAX_FILE_CHARS = 1 << 20;

    /**
     * @param yaml  tlspolicyd's configuration, with the notes as comments first
     * @param notes what could not be carried over, and why
     */
    public record Result(String yaml, List<String> notes) {
        public Result {
            notes = List.copyOf(notes);
        }
    }

    private MtaStsResolverMigration() {
    }

    /** Converts the text of an mta-sts-daemon.yml; the result is a valid tlspolicyd config. */
    public static Result convert(String text) throws ConfigException {
        if (text.length() > MAX_FILE_CHARS) {
            throw new ConfigException("mta-sts-daemon config larger than 1 MiB");
        }
        Object doc;
        try {
            Optional<Node> root = new Compose(LoadSettings.builder()
                    .setAllowDuplicateKeys(false).setMaxAliasesForCollections(10)
                    .setLabel("mta-sts-daemon config").build()).composeString(text);
            doc = root.isEmpty() ? null : raw(root.get(), 0);
        } catch (YamlEngineException e) {
            throw new ConfigException("mta-sts-daemon config is not valid YAML: "
                    + e.getMessage());
        }
        Map<String, Object> cfg = doc == null ? Map.of() : section(doc, "the file");
        List<String> notes = new ArrayList<>();
        StringBuilder y = new StringBuilder();
        for (String key : cfg.keySet()) {
            if (!KNOWN.contains(key)) {
                notes.add("key " + key + " is not an mta-sts-daemon setting (it ignores it): "
                        + "not converted");
            }
        }
        listener(cfg, y, notes);
        if (cfg.containsKey("reuse_port")) {
            notes.add("reuse_port: tlspolicyd runs one process; SO_REUSEPORT is not needed");
        }
        if (cfg.containsKey("shutdown_timeout")) {
            y.append("shutdown_grace: ").append(millis(cfg.get("shutdown_timeout"),
                    "shutdown_timeout")).append("ms\n");
        }
        zones(cfg, y, notes);
        cache(cfg, y, notes);
        if (cfg.containsKey("proactive_policy_fetching")) {
            notes.add("proactive_policy_fetching: tlspolicyd always refreshes policies in use "
                    + "before they expire (cache.refresh_rate limits the pace)");
        }
        StringBuilder out = new StringBuilder("# tlspolicyd configuration converted from "
                + "mta-sts-daemon's.\n");
        for (String n : notes) {
            out.append("# NOTE: ").append(n).append('\n');
        }
        out.append(y);
        String yaml = out.toString();
        ConfigLoader.parse(yaml); // the result must be usable as it is
        return new Result(yaml, notes);
    }

    private static void listener(Map<String, Object> cfg, StringBuilder y, List<String> notes)
            throws ConfigException {
        if (cfg.get("path") != null) {
            String path = scalar(cfg.get("path"), "path");
            y.append("socketmap:\n  listen: []\n  unix_socket:\n    path: ").append(quote(path))
                    .append('\n');
            if (cfg.get("mode") != null) {
                long mode = integer(cfg.get("mode"), "mode");
                if (mode < 0 || mode > 07777) {
                    throw new ConfigException("mta-sts-daemon key mode: " + cfg.get("mode")
                            + " is not a file mode");
                }
                y.append("    mode: \"0").append(Long.toOctalString(mode & 0777)).append("\"\n");
            }
            notes.add("the unix socket is now owned by tlspolicyd's user; set "
                    + "socketmap.unix_socket.owner/group for Postfix (e.g. postfix)");
            return;
        }
        String host = cfg.get("host") == null ? "127.0.0.1" : scalar(cfg.get("host"), "host");
        long port = cfg.get("port") == null ? 8461 : integer(cfg.get("port"), "port");
        if (host.equalsIgnoreCase("localhost")) {
            host = "127.0.0.1";
        }
        boolean literal = host.indexOf(':') >= 0 || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        InetAddress address;
        try {
            if (!literal) {
                throw new UnknownHostException(host);
            }
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new ConfigException("mta-sts-daemon key host: " + host + " is not an IP "
                    + "address; tlspolicyd listens on IP literals only");
        }
        String listen = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        if (!listen.equals("127.0.0.1:8461")) {
            y.append("socketmap:\n  listen: [").append(quote(listen)).append("]\n");
        }
        if (!address.isLoopbackAddress()) {
            if (listen.equals("127.0.0.1:8461")) {
                y.append("socketmap:\n");
            }
            y.append("  allow_remote: true\n");
            notes.add("host " + host + " is not on loopback: the socketmap protocol has no "
                    + "authentication, so allow_remote: true is set; firewall the port, or "
                    + "better, listen on loopback");
        }
    }

    private static void zones(Map<String, Object> cfg, StringBuilder y, List<String> notes)
            throws ConfigException {
        Map<String, Object> zone = cfg.get("default_zone") == null ? Map.of()
                : section(cfg.get("default_zone"), "default_zone");
        StringBuilder sts = new StringBuilder();
        if (zone.get("strict_testing") != null
                && bool(zone.get("strict_testing"), "default_zone.strict_testing")) {
            sts.append("  strict_testing: true\n");
        }
        if (zone.get("timeout") != null) {
            long ms = millis(zone.get("timeout"), "default_zone.timeout");
            // The whole lookup's limit there; here the policy fetch's (DNS has its own).
            sts.append("  fetch_timeout: ").append(Math.max(100, Math.min(90_000, ms)))
                    .append("ms\n");
        }
        if (zone.get("require_sni") != null) {
            notes.add("default_zone.require_sni: tlspolicyd always asks Postfix to send the MX "
                    + "host name as SNI (servername=hostname)");
        }
        if (!sts.isEmpty()) {
            y.append("mta_sts:\n").append(sts);
        }
        if (cfg.get("zones") != null && !section(cfg.get("zones"), "zones").isEmpty()) {
            notes.add("zones " + section(cfg.get("zones"), "zones").keySet() + ": tlspolicyd "
                    + "answers one map name (socketmap.map_name, \"postfix\"), and answers other "
                    + "names PERM where mta-sts-daemon used its default zone; point every "
                    + "smtp_tls_policy_maps entry at the map name, or run one tlspolicyd per zone");
        }
    }

    private static void cache(Map<String, Object> cfg, StringBuilder y, List<String> notes)
            throws ConfigException {
        StringBuilder c = new StringBuilder();
        if (cfg.get("cache") != null) {
            Map<String, Object> cache = section(cfg.get("cache"), "cache");
            String type = cache.get("type") == null ? "internal"
                    : scalar(cache.get("type"), "cache.type").toLowerCase(Locale.ROOT);
            Map<String, Object> options = cache.get("options") == null ? Map.of()
                    : section(cache.get("options"), "cache.options");
            switch (type) {
                case "internal" -> {
                    if (options.get("cache_size") != null) {
                        long size = integer(options.get("cache_size"), "cache.options.cache_size");
                        c.append("  max_entries: ").append(Math.max(100,
                                Math.min(100_000_000, size))).append('\n');
                    }
                    notes.add("cache type internal kept nothing across restarts; tlspolicyd "
                            + "keeps policies in its SQLite file (cache.path)");
                }
                case "sqlite" -> notes.add("cache.options.filename: mta-sts-daemon's SQLite "
                        + "cache is not read (another format); tlspolicyd fetches policies "
                        + "afresh into its own file (cache.path)");
                default -> notes.add("cache type " + type + ": tlspolicyd keeps its cache in "
                        + "memory and an SQLite file (cache.path), no " + type + " server");
            }
        }
        if (cfg.get("cache_grace") != null) {
            long ms = millis(cfg.get("cache_grace"), "cache_grace");
            if (ms < 60_000) {
                notes.add("cache_grace " + cfg.get("cache_grace") + "s: cache.check_interval is "
                        + "at least 1m; set to 1m");
            }
            // Both: how old a cached policy may be before its TXT id is checked again.
            c.append("  check_interval: ").append(Math.max(60_000, Math.min(604_800_000L, ms)))
                    .append("ms\n");
        }
        if (!c.isEmpty()) {
            y.append("cache:\n").append(c);
        }
    }

    /**
     * The node tree with every scalar as its text, untyped (YAML 1.1 rules are applied per
     * key); a plain null ({@code ~}, {@code null}, nothing) as null, as PyYAML reads it.
     */
    private static Object raw(Node node, int depth) throws ConfigException {
        if (depth > 20) {
            throw new ConfigException("mta-sts-daemon config nested too deeply");
        }
        if (node instanceof ScalarNode scalar) {
            String v = scalar.getValue();
            boolean plain = scalar.getScalarStyle() == ScalarStyle.PLAIN;
            return plain && Set.of("", "~", "null", "Null", "NULL").contains(v) ? null : v;
        }
        if (node instanceof SequenceNode seq) {
            List<Object> out = new ArrayList<>();
            for (Node n : seq.getValue()) {
                out.add(raw(n, depth + 1));
            }
            return out;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode key)) {
                throw new ConfigException("mta-sts-daemon config has a key that is not a string");
            }
            out.put(key.getValue(), raw(t.getValueNode(), depth + 1));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Object o, String where) throws ConfigException {
        if (o instanceof Map<?, ?> m) {
            for (Object k : m.keySet()) {
                if (!(k instanceof String)) {
                    throw new ConfigException("mta-sts-daemon config: " + where
                            + " has a key that is not a string");
                }
            }
            return (Map<String, Object>) m;
        }
        throw new ConfigException("mta-sts-daemon config: " + where + " must be a mapping");
    }

    private static String scalar(Object o, String key) throws ConfigException {
        if (o instanceof String s) {
            return s;
        }
        throw new ConfigException("mta-sts-daemon key " + key + " must be a single value");
    }

    /** YAML 1.1 integers as PyYAML reads them: 0o?NNN octal, 0xNN hex, else decimal. */
    static long integer(Object o, String key) throws ConfigException {
        String s = scalar(o, key).strip().replace("_", "");
        try {
            if (s.matches("[-+]?0x[0-9a-fA-F]+")) {
                return Long.parseLong(s.replace("0x", ""), 16);
            }
            if (s.matches("[-+]?0o?[0-7]+")) {
                return Long.parseLong(s.replace("0o", "0"), 8);
            }
            if (s.matches("[-+]?[0-9]{1,18}")) {
                return Long.parseLong(s);
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new ConfigException("mta-sts-daemon key " + key + ": " + s + " is not a number");
    }

    /** Seconds, possibly fractional (PyYAML float or int), as milliseconds. */
    private static long millis(Object o, String key) throws ConfigException {
        String s = scalar(o, key).strip();
        try {
            BigDecimal seconds = new BigDecimal(s);
            if (seconds.signum() >= 0 && seconds.compareTo(BigDecimal.valueOf(1_000_000)) < 0) {
                return seconds.movePointRight(3).longValue();
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new ConfigException("mta-sts-daemon key " + key + ": " + s
                + " is not a number of seconds");
    }

    /** YAML 1.1 booleans as PyYAML reads them. */
    private static boolean bool(Object o, String key) throws ConfigException {
        String s = scalar(o, key).strip().toLowerCase(Locale.ROOT);
        if (Set.of("true", "yes", "on", "y").contains(s)) {
            return true;
        }
        if (Set.of("false", "no", "off", "n").contains(s)) {
            return false;
        }
        throw new ConfigException("mta-sts-daemon key " + key + ": " + s + " is not true or "
                + "false");
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
