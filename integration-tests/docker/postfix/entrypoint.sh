#!/bin/sh
# Starts Postfix in the foreground (PID 1 of the container) on the test's configuration:
#   /config/main.cf      copied to /etc/postfix/main.cf
#   /config/setup.sh     run next, if present (postconf -M/-F edits of master.cf, certificates)
#   /config/resolv.conf  the resolver for Postfix's DNS lookups, if present
# then copies resolv.conf and friends into the chroot as Debian's postfix.service does.
set -eu
cp /config/main.cf /etc/postfix/main.cf
if [ -f /config/resolv.conf ]; then
    cat /config/resolv.conf > /etc/resolv.conf
fi
if [ -f /config/setup.sh ]; then
    sh -eu /config/setup.sh
fi
# The chroot (resolv.conf, certificates) as Debian's postfix.service sets it up: Debian 12's
# unit runs configure-instance.sh itself; from Debian 13 "postfix check" (post-install) does.
if ! grep -q configure-instance.sh /usr/lib/postfix/sbin/post-install; then
    /usr/lib/postfix/configure-instance.sh -
fi
postfix check
exec postfix start-fg
