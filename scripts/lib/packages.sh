# Debian package installation shared by the scripts. Sourced, not run.
# Installs only what is missing, so a second run touches nothing and needs no network.

# ensure_packages PKG...: installs the packages not yet installed (as root, Debian 12).
ensure_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: ${missing[*]}; run this as root to install them" >&2
        return 1
    fi
    # Postfix must not configure or start a mail system on this host: its tools are enough.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "installing: ${missing[*]}"
    # Nor may unbound (or any other daemon) start as a service: the tests start their own on
    # loopback ports. policy-rc.d (invoke-rc.d's policy hook) refuses starts during the install;
    # one that was already there is left alone.
    local policy=/usr/sbin/policy-rc.d
    local own_policy=false
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=true
    fi
    local status=0
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" || status=$?
    if $own_policy; then
        rm -f "$policy"
    fi
    disable_services_of "${missing[@]}"
    return $status
}

# disable_services_of PKG...: the packages just installed for building and testing must not
# leave a service enabled at boot (postfix-mta-sts-resolver would take 127.0.0.1:8461, unbound
# port 53): the tests start their own. Services of packages installed before are left alone.
# SYSTEMD_ROOT (default /) is the tree whose unit links are changed (the tests use another).
disable_services_of() {
    local pkg unit root="${SYSTEMD_ROOT:-/}"
    command -v systemctl >/dev/null || return 0
    for pkg in "$@"; do
        for unit in $(dpkg -L "$pkg" 2>/dev/null |
                grep -E '^/(usr/)?lib/systemd/system/[^/]+\.(service|socket|timer)$' |
                xargs -r -n1 basename); do
            if systemctl --root="$root" is-enabled "$unit" >/dev/null 2>&1; then
                systemctl --root="$root" disable "$unit" >/dev/null 2>&1 &&
                    echo "disabled at boot: $unit (installed for the tests)"
            fi
        done
    done
}

# The JDK and build tool, for building tlspolicyd from source; help2man makes the package's
# man pages from the programs' --help.
BUILD_PACKAGES=(openjdk-17-jdk-headless maven help2man)
