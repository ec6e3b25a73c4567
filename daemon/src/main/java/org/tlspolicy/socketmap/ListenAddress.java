package org.tlspolicy.socketmap;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.nio.file.attribute.PosixFilePermission;

/** Where the server listens: a TCP address, or a unix domain socket with its ownership. */
public sealed interface ListenAddress {

    /** A TCP listener, e.g. 127.0.0.1:8461 as in {@code socketmap:inet:127.0.0.1:8461:postfix}. */
    record Tcp(InetSocketAddress address) implements ListenAddress {
        @Override
        public String toString() {
            return "inet:" + address.getHostString() + ":" + address.getPort();
        }
    }

    /**
     * A unix domain socket, e.g. under Postfix's queue directory for a chrooted smtp(8), as in
     * {@code socketmap:unix:private/tlspolicy:postfix}.
     */
    record Unix(Path path, Optional<String> owner, Optional<String> group,
                Set<PosixFilePermission> mode) implements ListenAddress {
        public Unix {
            mode = Set.copyOf(mode);
        }

        @Override
        public String toString() {
            return "unix:" + path;
        }
    }
}
