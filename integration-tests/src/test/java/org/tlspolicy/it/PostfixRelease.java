package org.tlspolicy.it;

/**
 * The Postfix generations the end-to-end suite runs against, each from its Debian release's
 * own packages in images scripts/lib/docker.sh builds from a debootstrap rootfs.
 */
enum PostfixRelease {

    /** Debian 12 (bookworm): Postfix 3.7, before TLSRPT; systemd 252; OpenJDK 17. */
    DEBIAN_12("3.7", "Debian 12", ""),
    /** Debian 13 (trixie): Postfix 3.10 built with libtlsrpt; systemd 257; OpenJDK 21. */
    DEBIAN_13("3.10", "Debian 13", "_TRIXIE");

    private final String postfix;
    private final String debian;
    private final String suffix;

    PostfixRelease(String postfix, String debian, String suffix) {
        this.postfix = postfix;
        this.debian = debian;
        this.suffix = suffix;
    }

    /** The Postfix major.minor version, e.g. {@code 3.10}. */
    String postfix() {
        return postfix;
    }

    /** "Debian 13". */
    String debian() {
        return debian;
    }

    /** "Postfix 3.10 (Debian 13)". */
    String label() {
        return "Postfix " + postfix + " (" + debian + ")";
    }

    /** Whether this Postfix reads TLSRPT attributes and sends libtlsrpt datagrams. */
    boolean tlsrpt() {
        return this == DEBIAN_13;
    }

    /** The image with this release's Postfix. */
    String postfixImage() {
        return ContainerShell.image("TLSPOLICY_POSTFIX_IMAGE" + suffix);
    }

    /** That image with the JRE the .deb depends on. */
    String packageTestImage() {
        return ContainerShell.image("TLSPOLICY_PACKAGE_TEST_IMAGE" + suffix);
    }

    /** That image with systemd as PID 1. */
    String systemdTestImage() {
        return ContainerShell.image("TLSPOLICY_SYSTEMD_TEST_IMAGE" + suffix);
    }
}
