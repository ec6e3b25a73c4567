package org.tlspolicy.tlsrpt.postfixlog;

/**
 * A receiving MX as Postfix names it in its log: {@code HOST[IP]:PORT}.
 *
 * @param host the MX host name (Postfix writes the IP again when it has no name)
 * @param ip   the address connected to
 * @param port the TCP port, or 0 where Postfix wrote none
 */
public record Endpoint(String host, String ip, int port) {

    /** Parses {@code host[ip]} or {@code host[ip]:port} ending at {@code end}; null if not one. */
    static Endpoint parse(String s, int from, int end) {
        int open = s.indexOf('[', from);
        if (open <= from || open >= end) {
            return null;
        }
        int close = s.indexOf(']', open);
        if (close < 0 || close > end || close == open + 1) {
            return null;
        }
        int port = 0;
        if (close + 1 < end) {
            if (s.charAt(close + 1) != ':' || close + 2 >= end || end - close - 2 > 5) {
                return null;
            }
            for (int i = close + 2; i < end; i++) {
                char c = s.charAt(i);
                if (c < '0' || c > '9') {
                    return null;
                }
                port = port * 10 + (c - '0');
            }
            if (port > 65535) {
                return null;
            }
        }
        String host = s.substring(from, open);
        String ip = s.substring(open + 1, close);
        if (host.indexOf(' ') >= 0 || ip.indexOf(' ') >= 0) {
            return null;
        }
        return new Endpoint(host, ip, port);
    }

    @Override
    public String toString() {
        return host + "[" + ip + "]" + (port > 0 ? ":" + port : "");
    }
}
