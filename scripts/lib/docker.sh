# The Docker engine and the Postfix image of the end-to-end tests. Sourced, not run.
#
# ensure_docker_engine: points DOCKER_HOST at a running engine. When none answers (neither
#   $DOCKER_HOST nor /var/run/docker.sock), starts Debian's dockerd as this test world needs it
#   (vfs storage, no bridge, no iptables: containers use host networking) with its own socket,
#   state and image store under /var/lib/tlspolicy-test/docker, and stops it again on exit.
# ensure_postfix_image: builds integration-tests/docker/postfix unless an image of the same
#   Dockerfile and entrypoint exists, and exports its name as TLSPOLICY_POSTFIX_IMAGE; the
#   same for docker/package-test (that image and a JRE) as TLSPOLICY_PACKAGE_TEST_IMAGE and
#   docker/systemd-test (that and systemd) as TLSPOLICY_SYSTEMD_TEST_IMAGE. All three for
#   Debian 12 (bookworm, Postfix 3.7) and Debian 13 (trixie, Postfix 3.10; the names end in
#   _TRIXIE). Without a registry, the bases are debootstrap rootfs (cached as images).

TLSPOLICY_DOCKER_DIR=/var/lib/tlspolicy-test/docker
TLSPOLICY_DOCKER_RUN=/run/tlspolicy-test-docker
TLSPOLICY_DOCKER_STARTED=""

ensure_docker_engine() {
    if [ -n "${DOCKER_HOST:-}" ] && docker info >/dev/null 2>&1; then
        return 0
    fi
    if [ -S /var/run/docker.sock ] &&
        DOCKER_HOST=unix:///var/run/docker.sock docker info >/dev/null 2>&1; then
        export DOCKER_HOST=unix:///var/run/docker.sock
        return 0
    fi
    # An engine this script started earlier (another run's, still going) is used as it is.
    if [ -S "$TLSPOLICY_DOCKER_RUN/docker.sock" ] &&
        DOCKER_HOST="unix://$TLSPOLICY_DOCKER_RUN/docker.sock" docker info >/dev/null 2>&1; then
        export DOCKER_HOST="unix://$TLSPOLICY_DOCKER_RUN/docker.sock"
        return 0
    fi
    mkdir -p "$TLSPOLICY_DOCKER_DIR" "$TLSPOLICY_DOCKER_RUN"
    export DOCKER_HOST="unix://$TLSPOLICY_DOCKER_RUN/docker.sock"
    echo "starting dockerd ($DOCKER_HOST, log $TLSPOLICY_DOCKER_DIR/dockerd.log)"
    dockerd --host "$DOCKER_HOST" --pidfile "$TLSPOLICY_DOCKER_RUN/dockerd.pid" \
        --exec-root "$TLSPOLICY_DOCKER_RUN/exec" --data-root "$TLSPOLICY_DOCKER_DIR/data" \
        --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
        >"$TLSPOLICY_DOCKER_DIR/dockerd.log" 2>&1 &
    TLSPOLICY_DOCKER_STARTED=$!
    local i
    for i in $(seq 1 60); do
        if docker info >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$TLSPOLICY_DOCKER_STARTED" 2>/dev/null; then
            echo "dockerd exited; its log:" >&2
            tail -20 "$TLSPOLICY_DOCKER_DIR/dockerd.log" >&2
            return 1
        fi
        sleep 0.5
    done
    echo "dockerd did not answer within 30 s" >&2
    return 1
}

# stop_docker_engine: stops the dockerd ensure_docker_engine started, if it started one.
stop_docker_engine() {
    [ -n "$TLSPOLICY_DOCKER_STARTED" ] || return 0
    # Containers a killed test run left behind would otherwise hold their addresses.
    docker ps -q --filter label=org.testcontainers=true | xargs -r docker rm -f >/dev/null 2>&1
    kill "$TLSPOLICY_DOCKER_STARTED" 2>/dev/null || true
    local i
    for i in $(seq 1 60); do
        kill -0 "$TLSPOLICY_DOCKER_STARTED" 2>/dev/null || break
        sleep 0.5
    done
    TLSPOLICY_DOCKER_STARTED=""
}

ensure_postfix_image() {
    local suite
    for suite in bookworm trixie; do
        ensure_suite_images "$suite" || return 1
    done
}

# ensure_suite_images SUITE: the three test images on a debootstrap rootfs of Debian SUITE
# (bookworm: Postfix 3.7, systemd 252, OpenJDK 17; trixie: Postfix 3.10 with libtlsrpt,
# systemd 257, OpenJDK 21), exported as TLSPOLICY_{POSTFIX,PACKAGE_TEST,SYSTEMD_TEST}_IMAGE for
# bookworm and the same names ending in _TRIXIE for trixie.
ensure_suite_images() {
    local suite=$1 suffix=""
    [ "$suite" = bookworm ] || suffix="_$(echo "$suite" | tr a-z A-Z)"
    local base
    base=$(ensure_debian_base "$suite") || return 1
    local postfix package systemd
    postfix=$(ensure_image "tlspolicy-test/postfix-$suite" \
        integration-tests/docker/postfix "$base") || return 1
    # The Debian package's test: that image and the JRE the package depends on.
    package=$(ensure_image "tlspolicy-test/package-test-$suite" \
        integration-tests/docker/package-test "$postfix") || return 1
    # The units under a real systemd: that image with systemd as PID 1.
    systemd=$(ensure_image "tlspolicy-test/systemd-test-$suite" \
        integration-tests/docker/systemd-test "$package") || return 1
    export "TLSPOLICY_POSTFIX_IMAGE$suffix=$postfix"
    export "TLSPOLICY_PACKAGE_TEST_IMAGE$suffix=$package"
    export "TLSPOLICY_SYSTEMD_TEST_IMAGE$suffix=$systemd"
}

# ensure_debian_base SUITE: a minimal Debian SUITE image from a debootstrap rootfs (made once,
# then found by name); prints its name.
ensure_debian_base() {
    local suite=$1
    # Bump the base's tag when the way it is made changes: images are found by name.
    local base="tlspolicy-test/debian-$suite:debootstrap-2"
    if ! docker image inspect "$base" >/dev/null 2>&1; then
        local rootfs
        rootfs=$(mktemp -d /var/tmp/tlspolicy-rootfs.XXXXXX)
        echo "building $base with debootstrap (once; about a minute)" >&2
        debootstrap --variant=minbase "$suite" "$rootfs" \
            "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$rootfs.log" 2>&1 || {
            tail -20 "$rootfs.log" >&2
            rm -rf "$rootfs" "$rootfs.log"
            return 1
        }
        rm -f "$rootfs"/var/cache/apt/archives/*.deb
        chmod 755 "$rootfs" # mktemp made it 0700: the image's / would shut out non-root users
        tar -C "$rootfs" -c . | docker import - "$base" >/dev/null
        rm -rf "$rootfs" "$rootfs.log"
    fi
    echo "$base"
}

# ensure_image NAME CONTEXT BASE: builds CONTEXT's Dockerfile FROM BASE as NAME:DIGEST unless
# an image of that digest (of BASE's name and CONTEXT's files) exists; prints NAME:DIGEST.
ensure_image() {
    local name=$1 context=$2 base=$3
    local digest
    digest=$( (echo "$base"; cat "$context"/*) | sha256sum | cut -c1-12)
    local image="$name:$digest"
    if ! docker image inspect "$image" >/dev/null 2>&1; then
        echo "building $image" >&2
        local log="$TLSPOLICY_DOCKER_DIR/build.log"
        mkdir -p "$TLSPOLICY_DOCKER_DIR"
        docker build --network host --build-arg BASE="$base" -t "$image" "$context" \
            >"$log" 2>&1 || {
            tail -30 "$log" >&2
            return 1
        }
    fi
    echo "$image"
}
