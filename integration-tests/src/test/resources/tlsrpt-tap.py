#!/usr/bin/python3
# Relays Postfix's TLSRPT datagrams to tlsrpt-sender's collector, saving a copy of each:
#   tlsrpt-tap.py LISTEN FORWARD DIR
# listens on the AF_UNIX datagram socket LISTEN (mode 0666: the container's postfix user
# writes to it), writes every datagram, unchanged, to DIR/NNN.json and sends it on to the
# socket FORWARD. A relay only: it parses nothing, so what the collector gets is what Postfix
# sent. Prints "ready" once listening.
import os
import socket
import sys

listen, forward, out = sys.argv[1:4]
try:
    os.unlink(listen)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(listen)
os.chmod(listen, 0o666)
fwd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
os.makedirs(out, exist_ok=True)
print("ready", flush=True)
n = 0
while True:
    data = s.recv(65536)
    n += 1
    with open(os.path.join(out, "%03d.json" % n), "wb") as f:
        f.write(data)
    try:
        fwd.sendto(data, forward)
    except OSError as e:
        print("forward failed: %s" % e, file=sys.stderr, flush=True)
