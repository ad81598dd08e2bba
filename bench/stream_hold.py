#!/usr/bin/env python3
"""How many idle live usage streams one sima-server holds (SIMA_EVENTS=embedded), and what
normal requests cost meanwhile.

Usage: bench/stream_hold.py [path/to/sima-server] [counts]
       (default build/release/server/sima-server, else build/debug; counts 0,1000,4000,10000)

Starts the server on a free loopback port with a fresh database and caps high enough for the
largest count, opens GET /events/{org_id}/ streams of one organization up to each count (each
must answer 200 and its first event), then times 1000 GET /billing/plans/ on one keep-alive
connection. Prints, per count: streams held, the requests' median and p99, the server's RSS
and thread count (streams hold no thread each: the count stays flat). With nginx + nchan in
front, bench/streams* (live usage operations) measures the other setup.
"""
import http.client
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else next(
    p for p in (os.path.join(ROOT, "build/release/server/sima-server"),
                os.path.join(ROOT, "build/debug/server/sima-server")) if os.path.exists(p))
COUNTS = [int(x) for x in (sys.argv[2] if len(sys.argv) > 2 else "0,1000,4000,10000").split(",")]
ADMIN = "bench-admin-" + os.urandom(8).hex()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        return int(f.read().split(name + ":")[1].split()[0])


def timings(port, n=1000):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        conn.request("GET", "/billing/plans/")
        r = conn.getresponse()
        r.read()
        lat.append((time.perf_counter() - t) * 1000)
        assert r.status == 200, r.status
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1]


def first_event(sock):
    sock.settimeout(10)
    buf = b""
    while b"\r\n\r\n" not in buf or b"\ndata: " not in buf or not buf.endswith(b"\n\n"):
        part = sock.recv(65536)
        if not part:
            break
        buf += part
    return buf.startswith(b"HTTP/1.1 200")


def main():
    # The client holds one descriptor per stream too.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = free_port()
    folder = tempfile.mkdtemp(prefix="sima-stream-hold-")
    env = dict(os.environ, SIMA_LISTEN=f"127.0.0.1:{port}", SIMA_DB=f"{folder}/sima.db",
               SIMA_ACCESS_LOG="off", SIMA_ADMIN_TOKEN=ADMIN,
               SIMA_MAX_STREAMS=str(max(COUNTS) + 10), SIMA_MAX_STREAMS_PER_ORG=str(max(COUNTS) + 10))
    server = subprocess.Popen([BIN], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port)
                c.request("GET", "/healthz")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.02)
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("POST", "/admin/orgs/", json.dumps({"name": "Bench"}),
                  {"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"})
        org = json.loads(c.getresponse().read())
        head = (f"GET /events/{org['org_id']}/ HTTP/1.1\r\nHost: bench\r\n"
                f"Authorization: Bearer {org['api_key']}\r\n\r\n").encode()
        print(f"sima-server {BIN}")
        held, good = [], 0
        for n in COUNTS:
            start = len(held)
            while len(held) < n:
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(head)
                held.append(s)
            good += sum(first_event(s) for s in held[start:])
            median, p99 = timings(port)
            print(f"streams held {good:6d}/{n:<6d}  GET /billing/plans/ median {median:6.2f} ms"
                  f"  p99 {p99:6.2f} ms  server RSS {proc_field(server.pid, 'VmRSS') // 1024} MiB"
                  f"  threads {proc_field(server.pid, 'Threads')}", flush=True)
        for s in held:
            s.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
