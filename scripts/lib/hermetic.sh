# The system paths a tlspolicy installation uses, which no test may create, change or remove:
# a test run on a relay where tlspolicyd runs must leave it alone (issue 32). Sourced, not run.
#
# system_paths_snapshot: one line per path that exists: the path and its inode (a control
#   socket bound again, a store made anew, show as another inode; a running daemon writing its
#   own files does not change them).
# check_system_paths BEFORE: fails, naming the differences, when the paths now differ.

SYSTEM_PATHS=(/run/tlspolicyd /run/tlspolicyd/control.sock /var/lib/tlspolicyd
    /var/lib/tlspolicyd/cache.db /var/lib/tlsrpt-sender /var/lib/tlsrpt-sender/tlsrpt.db
    /etc/tlspolicyd /etc/tlsrpt-sender /etc/postfix/main.cf)

system_paths_snapshot() {
    local p
    # Instances (tlspolicyd@NAME) and the receiver have paths of their own.
    for p in "${SYSTEM_PATHS[@]}" /run/tlspolicyd-* /var/lib/tlspolicyd-* \
        /var/lib/tlsrpt-receiver /var/lib/tlsrpt-receiver/reports.db; do
        if [ -e "$p" ]; then
            echo "$p $(stat -c %i "$p")"
        fi
    done
}

check_system_paths() {
    local before=$1 after
    after=$(system_paths_snapshot)
    if [ "$before" != "$after" ]; then
        echo "the tests touched system paths (they must use their own temporary directories):" >&2
        diff <(echo "$before") <(echo "$after") >&2 || true
        return 1
    fi
}
