# The world and the servers bench/run-comparison, run-cached and run-cold share. Sourced, not
# run, from the repository's top directory. Everything listens on loopback only.
#
# bench_init: a work directory ($work) and a cleanup on exit that stops every server started
#   here (processes in $pids, containers in $containers) and the Docker engine if it was
#   started here. KEEP_WORK=1 keeps the directory.
# world_zone ZONE STS NOSTS: writes $work/ZONE.zone: STS domains dN.ZONE with an MTA-STS TXT
#   record and a policy host mta-sts.dN.ZONE at 127.0.0.1; NOSTS names nN.ZONE have no
#   records at all (NXDOMAIN, as most mail domains have no MTA-STS).
# world_certs ZONE STS: a CA ($work/ca.pem) and the policy host's certificate for every
#   mta-sts.dN.ZONE ($work/host.pem, $work/host.key).
# start_knot ZONE ADDRESS PORT: knotd, authoritative for ZONE (no DNSSEC: a validating
#   resolver would call it insecure, and its answers carry no AD bit).
# start_policy_host ADDRESS PORT: the HTTPS policy host (python3 ssl, TLS 1.3): every
#   mta-sts.D answers "mode: enforce, mx: mx.D, max_age 86400", and adds a line D to
#   $work/policy-fetches.log.
# start_tlspolicyd NAME PORT DANE [JAR]: tlspolicyd on its default configuration but for the
#   listener, a cache file in $work, the world's CA as extra_ca_file and DNS at
#   $BENCH_DNS; DANE "on" trusts the resolver's AD bit (dnssec: resolver), so with this
#   unsigned world every domain is "no DANE" and DANE's cached answer is read before every
#   MTA-STS answer; "off" disables DANE. JVM options: $TLSPOLICYD_JAVA_OPTS, by default the
#   unit's (read from postfix-conf/systemd/tlspolicyd.service). $TLSPOLICYD_SHARED, if set,
#   is the value of cache.shared (fleet mode).
# start_resolver_112 NAME PORT / start_resolver_150 NAME PORT: postfix-mta-sts-resolver's
#   mta-sts-daemon on its default configuration but for the listener: Debian 12's 1.1.2 from
#   the host's package, in a private mount namespace whose /etc/resolv.conf names $BENCH_DNS
#   and whose CA bundle is the world's; Debian 13's 1.5.0 from its package in a container
#   (bench/docker/mta-sts-resolver, host networking) with the same two files bind-mounted.
#   The resolver needs its DNS server on port 53: BENCH_DNS is 127.0.0.54 (port 53).
# wait_ports PORT...: waits until each 127.0.0.1:PORT accepts connections.
# rss_kib NAME: the resident set of server NAME's process, in KiB.
# loadgen, wait_jobs, summarize: running load generators and summing up their lines (below).

BENCH_DNS_ADDRESS=127.0.0.54
bench_jar=bench/target/tlspolicy-bench.jar
containers=()
pids=()
declare -A server_pid

bench_init() {
    work=$(mktemp -d)
    trap bench_cleanup EXIT
}

bench_cleanup() {
    local c pid
    for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    # Not a bare wait: it would wait for the Docker engine start_resolver_150 may have started,
    # which stop_docker_engine stops only after (run-cold hung here).
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ ${#containers[@]} -eq 0 ] || stop_docker_engine
    if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $work"; else rm -rf "$work"; fi
}

world_zone() { # zone sts nosts
    local zone=$1 sts=$2 nosts=$3
    /usr/bin/python3 - "$work/$zone.zone" "$zone" "$sts" <<'PY'
import sys
path, zone, sts = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "w") as z:
    z.write(f"$ORIGIN {zone}.\n$TTL 3600\n@ SOA ns.{zone}. h.{zone}. 1 3600 900 604800 300\n"
            f"@ NS ns.{zone}.\nns A 127.0.0.1\n")
    for i in range(sts):
        z.write(f'_mta-sts.d{i} TXT "v=STSv1; id=1;"\nmta-sts.d{i} A 127.0.0.1\n')
PY
}

world_certs() { # zone sts
    local zone=$1 sts=$2 san
    # The extensions Python 3.13's strict verification (VERIFY_X509_STRICT) requires.
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
        -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
    san=$(for i in $(seq 0 $((sts - 1))); do printf 'DNS:mta-sts.d%d.%s,' "$i" "$zone"; done)
    openssl req -newkey rsa:2048 -nodes -subj "/CN=mta-sts.d0.$zone" \
        -keyout "$work/host.key" -out "$work/host.csr" 2>/dev/null
    printf '%s\n' "subjectAltName=${san%,}" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" > "$work/host.ext"
    openssl x509 -req -in "$work/host.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
        -CAcreateserial -days 2 -extfile "$work/host.ext" -out "$work/host.pem" 2>/dev/null
}

start_knot() { # zone address port
    cat > "$work/knot.conf" <<KNOT
server:
  listen: $2@$3
  rundir: $work
log:
  - target: stderr
    any: warning
database:
  storage: $work
zone:
  - domain: $1.
    file: $work/$1.zone
    storage: $work
KNOT
    /usr/sbin/knotd -c "$work/knot.conf" > "$work/knot.log" 2>&1 &
    pids+=($!)
}

start_policy_host() { # address port
    /usr/bin/python3 - "$work" "$1" "$2" > "$work/policy-host.log" 2>&1 <<'PY' &
import http.server, ssl, sys
work, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Policy(http.server.BaseHTTPRequestHandler):
    # Headers and body go out as two writes: with Nagle on, the body waits for the client's
    # delayed ACK of the headers (40 ms on Linux), as no real web server makes it wait.
    disable_nagle_algorithm = True
    def do_GET(self):
        domain = self.headers.get("Host", "").split(":")[0].removeprefix("mta-sts.")
        with open(f"{work}/policy-fetches.log", "a") as fetches:  # one line per fetch
            fetches.write(domain + "\n")
        body = f"version: STSv1\nmode: enforce\nmx: mx.{domain}\nmax_age: 86400\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024  # socketserver's 5 drops the connects of daemons warming up at once
server = Server((address, port), Policy)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(f"{work}/host.pem", f"{work}/host.key")
# The handshake in the request's thread, not in accept(): one at a time, it made the
# daemons' fetches time out when several warmed up at once.
server.socket = context.wrap_socket(server.socket, server_side=True,
                                    do_handshake_on_connect=False)
server.serve_forever()
PY
    pids+=($!)
}

# The JVM options of the shipped unit, so that the figures are those of a packaged daemon.
unit_java_opts() {
    sed -n 's/^ExecStart=.*exec \/usr\/bin\/java \(.*\) -jar .*/\1/p' \
        postfix-conf/systemd/tlspolicyd.service
}

start_tlspolicyd() { # name port dane [jar]
    local name=$1 port=$2 dane jar=${4:-daemon/target/tlspolicyd.jar}
    case $3 in
        on) dane='{dnssec: resolver}' ;;
        off) dane='{enabled: false}' ;;
        *) echo "start_tlspolicyd: DANE on or off, not $3" >&2; return 1 ;;
    esac
    cat > "$work/$name.yml" <<YAML
socketmap:
  listen: ["127.0.0.1:$port"]
dns:
  servers: ["${BENCH_DNS:-$BENCH_DNS_ADDRESS:53}"]
mta_sts:
  extra_ca_file: $work/ca.pem
  allow_private_addresses: true   # the bench world is on loopback
dane: $dane
cache:
  path: $work/$name-cache.db
${TLSPOLICYD_SHARED:+  shared: $TLSPOLICYD_SHARED}
control:
  socket: $work/$name-control.sock
YAML
    # The unit's environment too (MALLOC_ARENA_MAX and the like).
    local env
    env=$(sed -n 's/^Environment=\([A-Z_]*=[^ ]*\)$/\1/p' postfix-conf/systemd/tlspolicyd.service \
        | grep -v '^TLSPOLICYD_CONFIG=' || true)
    # shellcheck disable=SC2086
    env $env java ${TLSPOLICYD_JAVA_OPTS:-$(unit_java_opts)} -jar "$jar" serve \
        --config "$work/$name.yml" > "$work/$name.log" 2>&1 &
    pids+=($!)
    server_pid[$name]=$!
}

mta_sts_daemon_config() { # name port
    echo "nameserver $BENCH_DNS_ADDRESS" > "$work/resolv.conf"
    printf 'host: 127.0.0.1\nport: %s\n' "$2" > "$work/$1.yml"
}

start_resolver_112() { # name port
    mta_sts_daemon_config "$1" "$2"
    unshare --mount --propagation private /bin/sh -c "
        mount --bind '$work/resolv.conf' /etc/resolv.conf &&
        mount --bind '$work/ca.pem' /etc/ssl/certs/ca-certificates.crt &&
        exec mta-sts-daemon -c '$work/$1.yml' -v warn" > "$work/$1.log" 2>&1 &
    pids+=($!)
    server_pid[$1]=$!
}

start_resolver_150() { # name port
    mta_sts_daemon_config "$1" "$2"
    if [ -z "${resolver_150_image:-}" ]; then
        . scripts/lib/docker.sh
        ensure_docker_engine >&2
        local base
        base=$(ensure_debian_base trixie)
        resolver_150_image=$(ensure_image tlspolicy-bench/mta-sts-resolver-trixie \
            bench/docker/mta-sts-resolver "$base")
    fi
    local container="tlspolicy-bench-$1-$$"
    containers+=("$container")
    docker run -d --name "$container" --network host \
        -v "$work/resolv.conf:/etc/resolv.conf:ro" \
        -v "$work/ca.pem:/etc/ssl/certs/ca-certificates.crt:ro" \
        -v "$work/$1.yml:/etc/mta-sts-daemon.yml:ro" \
        "$resolver_150_image" -c /etc/mta-sts-daemon.yml -v warn > /dev/null
    server_pid[$1]=$(docker inspect -f '{{.State.Pid}}' "$container")
}

wait_ports() { # port...
    local port
    for port in "$@"; do
        for _ in $(seq 1 300); do
            (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
            sleep 0.1
        done
    done
}

rss_kib() { # name
    ps -o rss= -p "${server_pid[$1]}" | tr -d ' '
}

# The package versions measured, for the output's header.
describe_versions() {
    echo "# java: $(java -version 2>&1 | head -1); $(nproc) cores; tlspolicyd JVM options:" \
        "${TLSPOLICYD_JAVA_OPTS:-$(unit_java_opts)}"
    echo "# postfix-mta-sts-resolver on the host: $(dpkg-query -W -f '${Version}' \
        postfix-mta-sts-resolver)${resolver_150_image:+; in $resolver_150_image: $(docker run \
        --rm --entrypoint dpkg-query "$resolver_150_image" -W -f '${Version}' \
        postfix-mta-sts-resolver)}"
}

# summarize [-v NAME=VALUE]... PROGRAM FILE...: awk PROGRAM with bench/lib.awk's functions
#   (field, median, num, ms), on FILE...
summarize() {
    local opts=()
    while [ "${1:-}" = -v ]; do opts+=(-v "$2"); shift 2; done
    awk "${opts[@]}" "$(cat bench/lib.awk)
$1" "${@:2}"
}

# loadgen LABEL PORT CONNECTIONS KEYS [WARMUP] [DURATION] [--option value]...: one run of
#   bench's LoadGenerator on $work/KEYS (WARMUP 2 s, DURATION $seconds by default); prints its
#   line of key=value figures.
loadgen() {
    java -cp "$bench_jar" org.tlspolicy.bench.LoadGenerator --label "$1" --port "$2" \
        --connections "$3" --keys "$work/$4" --warmup "${5:-2}" --duration "${6:-$seconds}" \
        "${@:7}"
}

# wait_jobs: waits for this shell's background jobs that are not servers (load generators):
#   not those in $pids, nor the Docker engine if start_resolver_150 started one here (it ran
#   for ever: run-cached hung after its first resolver's warm-up on a machine without a
#   running engine).
wait_jobs() {
    local job
    for job in $(jobs -p); do
        [[ " ${pids[*]} ${TLSPOLICY_DOCKER_STARTED:-} " == *" $job "* ]] || wait "$job"
    done
}
