#!/usr/bin/env python3
"""A burst of webhook events through a real sima-server to a local receiver.

Starts sima-server (SQLite, SIMA_WEBHOOK_ALLOW_PRIVATE=1) and a receiver in this process that
checks every signature, makes ORGS organizations on PRO, waits until their own events are
delivered, then makes N subscription changes (cancel / undo in turn, one event each) from
ORGS threads as fast as the server answers. Prints the events per second from the first change
to the last delivery, that time, and the latency of each event (the change answered -> the
event received) at p50 and p99.

Usage: bench/webhooks.py [N]   (default 1000; loopback only)
Env: SIMA_BENCH_BUILD (build/release), SIMA_BENCH_ORGS (20), SIMA_WEBHOOK_CONCURRENCY (8).
"""
import hashlib
import hmac
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
ORGS = int(os.environ.get("SIMA_BENCH_ORGS", "20"))
BUILD = os.environ.get("SIMA_BENCH_BUILD", os.path.join(ROOT, "build", "release"))
SERVER = os.path.join(BUILD, "server", "sima-server")
ADMIN = "bench-admin-" + os.urandom(8).hex()

lock = threading.Lock()
arrivals = {}  # event id -> (org_id, sequence, monotonic seconds of the first 2xx)
bad_signatures = 0
secret = b""


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

    def do_POST(self):
        global bad_signatures
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        now = time.monotonic()
        header = self.headers.get("Sima-Signature", "")
        parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
        t = next((v for k, v in parts if k == "t"), "")
        expected = hmac.new(secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()
        ok = any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)
        event = json.loads(body)
        with lock:
            if not ok:
                bad_signatures += 1
            arrivals.setdefault(event["id"], (event["org_id"], event["sequence"], now))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read() or b"null")


def wait_for(pred, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return False


def main():
    global secret
    if not os.access(SERVER, os.X_OK):
        print(f"== building release sima-server in {BUILD}", file=sys.stderr)
        subprocess.run(["cmake", "--preset", "release", "-B", BUILD], check=True,
                       stdout=subprocess.DEVNULL, cwd=ROOT)
        subprocess.run(["cmake", "--build", BUILD, "--target", "sima-server", "-j", "2"],
                       check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, SIMA_LISTEN=f"127.0.0.1:{port}", SIMA_DB=f"{tmp}/bench.db",
               SIMA_ADMIN_TOKEN=ADMIN, SIMA_ACCESS_LOG="off", SIMA_MAIL_DIR=f"{tmp}/mail",
               SIMA_PUBLIC_URL=base, SIMA_WEBHOOK_ALLOW_PRIVATE="1")
    server = subprocess.Popen([SERVER], env=env, stderr=open(f"{tmp}/server.err", "w"))
    try:
        def healthy():
            try:
                return urllib.request.urlopen(base + "/healthz", timeout=1).status == 200
            except OSError:
                return False
        if not wait_for(healthy, 20):
            sys.exit("sima-server did not start: " + open(f"{tmp}/server.err").read())
        _, created = call(base, "POST", "/admin/webhooks/", ADMIN,
                          {"url": f"http://127.0.0.1:{receiver.server_port}/hooks"})
        secret = created["secret"].encode()
        keys = []
        org_of_key = {}
        for i in range(ORGS):
            _, org = call(base, "POST", "/admin/orgs/", ADMIN,
                          {"name": f"Bench {i}", "billing_email": f"b{i}@bench.test",
                           "plan": "PRO"})
            keys.append(org["api_key"])
            org_of_key[org["api_key"]] = org["org_id"]
        # The organizations' own events (if any) first, so the burst is measured alone: until
        # nothing more arrives for longer than the sender's interval (1 s).
        seen = -1
        while True:
            time.sleep(1.5)
            with lock:
                if len(arrivals) == seen:
                    break
                seen = len(arrivals)
        before = {}
        with lock:
            for org, seq, _ in arrivals.values():
                before[org] = max(before.get(org, 0), seq)
            baseline = len(arrivals)

        answered = {}  # api key -> [monotonic seconds each change was answered]
        per_org = [N // ORGS + (1 if i < N % ORGS else 0) for i in range(ORGS)]

        def changes(i):
            times = answered.setdefault(keys[i], [])
            for n in range(per_org[i]):
                call(base, "POST", "/billing/subscription/", keys[i],
                     {"change": "cancel" if n % 2 == 0 else "undo"})
                times.append(time.monotonic())

        start = time.monotonic()
        threads = [threading.Thread(target=changes, args=(i,)) for i in range(ORGS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        changed = time.monotonic()
        if not wait_for(lambda: len(arrivals) >= baseline + N, 300):
            sys.exit(f"only {len(arrivals) - baseline} of {N} events arrived")
        # Pair each organization's k-th change with its k-th new event (by sequence).
        latencies = []
        last = 0.0
        with lock:
            new = [a for a in arrivals.values() if a[1] > before.get(a[0], 0)]
        by_org = {}
        for org, seq, at in new:
            by_org.setdefault(org, []).append((seq, at))
            last = max(last, at)
        for key, times in answered.items():
            events = sorted(by_org.get(org_of_key.get(key), []))
            latencies += [at - t for (seq, at), t in zip(events, times)]
        latencies.sort()
        total = last - start
        print(f"events: {len(new)} from {N} changes of {ORGS} organizations, "
              f"bad signatures: {bad_signatures}")
        print(f"changes made in {changed - start:.2f} s; first change to last delivery "
              f"{total:.2f} s: {len(new) / total:.0f} events/s")
        if latencies:
            p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
            print(f"delivery latency (change answered -> received): p50 {p(0.50):.0f} ms, "
                  f"p99 {p(0.99):.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    finally:
        server.terminate()
        server.wait()
        receiver.shutdown()


if __name__ == "__main__":
    main()
