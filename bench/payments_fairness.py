#!/usr/bin/env python3
"""Starvation and lookup coalescing of the payment paths, against the local simulator.

1. Coalescing: 50 hits at once on one eSewa payment's failure target (its failure_url as init
   gave it) and 50 Khalti callbacks for one pidx; prints the lookups the simulator received
   (GET /_sim/stats).
2. Starvation: one organization's browser session sends N Khalti inits (default 2000, 8 at a
   time); then another organization inits, pays at the simulator and never comes back, so only
   the reconciler (default interval, 5 s) can activate it. Prints the inits' answers, how many
   payments the first organization left open, and the seconds until the other's paid payment
   was activated (or that it was not within the wait).

Measured (debug build, 2 shared cores, N=2000, default 5 s reconcile interval):
  before (3ae61dc): 50 failure hits -> 50 status checks, 50 callbacks -> 50 lookups;
                    2000 x 201, 2000 open; org B activated after 318.7 s
  after:            1 status check, 1 lookup; 1994 x 200 (offered again), 1 x 201, 5 x 429
                    (while it was being started), 1 open; org B activated after 8.8 s

Usage: bench/payments_fairness.py [N]
Env: SIMA_BENCH_SERVER (sima-server binary; default build/debug/server/sima-server: pass an
     older build to compare), SIMA_BENCH_SIM (default build/debug/simulator/sima-gateway-sim),
     SIMA_BENCH_WAIT (seconds to wait for the activation, default 400).
"""
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.environ.get("SIMA_BENCH_SERVER", f"{ROOT}/build/debug/server/sima-server")
SIM = os.environ.get("SIMA_BENCH_SIM", f"{ROOT}/build/debug/simulator/sima-gateway-sim")
WAIT = float(os.environ.get("SIMA_BENCH_WAIT", "400"))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
KHALTI_KEY = "live_secret_key_68791341fdd94846a146f0457ff7b455"
ESEWA_KEY = "8gBm/:&EnhH.1/q"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(method, url, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with OPENER.open(req, timeout=60) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else {}), dict(r.headers)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {}
        return e.code, parsed, dict(e.headers)


def wait_healthy(url):
    for _ in range(300):
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except Exception:
            time.sleep(0.05)
    raise SystemExit(f"not healthy: {url}")


def main():
    tmp = tempfile.mkdtemp(prefix="sima-fairness-")
    port, sim_port = free_port(), free_port()
    api, sim = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sim_port}"
    admin = secrets.token_hex(16)
    procs = [subprocess.Popen([SIM, "--listen", f"127.0.0.1:{sim_port}", "--quiet"])]
    env = dict(os.environ, SIMA_LISTEN=f"127.0.0.1:{port}", SIMA_DB=f"{tmp}/bench.db",
               SIMA_ADMIN_TOKEN=admin, SIMA_ACCESS_LOG="off", SIMA_MAIL_DIR=f"{tmp}/mail",
               SIMA_PUBLIC_URL=api, SIMA_APP_URL="http://app.test",
               KHALTI_BASE_URL=f"{sim}/api/v2/", KHALTI_SECRET_KEY=KHALTI_KEY,
               ESEWA_FORM_URL=f"{sim}/api/epay/main/v2/form",
               ESEWA_STATUS_URL=f"{sim}/api/epay/transaction/status/",
               ESEWA_SECRET_KEY=ESEWA_KEY)
    with open(f"{tmp}/server.err", "w") as err:
        procs.append(subprocess.Popen([SERVER], env=env, stderr=err))
    try:
        wait_healthy(f"{sim}/_sim/health")
        wait_healthy(f"{api}/healthz")

        def new_org(name):
            s, b, _ = call("POST", f"{api}/admin/orgs/", admin,
                           {"name": name, "billing_email": f"{name}@bench.test"})
            assert s == 201, b
            return b["api_key"]

        print(f"server: {SERVER}")
        # 1. Coalescing (first: nothing else is pending yet).
        key_c = new_org("c")
        s, e, _ = call("POST", f"{api}/billing/esewa/init/", key_c, {"plan": "BASIC"})
        assert s == 201, e
        form = urllib.parse.urlencode(e["fields"]).encode()
        urllib.request.urlopen(urllib.request.Request(e["form_url"], data=form), timeout=10).read()
        s, k, _ = call("POST", f"{api}/billing/khalti/init/", key_c, {"plan": "BASIC"})
        assert s == 201, k
        _, before, _ = call("GET", f"{sim}/_sim/stats")
        failure_url = e["fields"]["failure_url"]
        callback = f"{api}/billing/khalti/callback/?pidx={k['pidx']}&status=Pending"
        with ThreadPoolExecutor(100) as pool:
            list(pool.map(lambda u: call("GET", u), [failure_url] * 50 + [callback] * 50))
        _, after, _ = call("GET", f"{sim}/_sim/stats")
        print(f"50 hits on one eSewa failure target ({failure_url.split('?')[1].split('=')[0]}=): "
              f"{after['esewa_status_checks'] - before['esewa_status_checks']} status checks; "
              f"50 Khalti callbacks for one pidx: "
              f"{after['khalti_lookups'] - before['khalti_lookups']} lookups")
        # 2. Starvation.
        key_a = new_org("a")
        s, b, _ = call("POST", f"{api}/sessions", key_a)
        session = b.get("session_token") or b.get("token") or key_a
        answers = {}
        lock = threading.Lock()

        def init(_):
            s, _, _ = call("POST", f"{api}/billing/khalti/init/", session, {"plan": "PRO"})
            with lock:
                answers[s] = answers.get(s, 0) + 1

        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(init, range(N)))
        init_secs = time.monotonic() - t0
        _, listed, _ = call("GET", f"{api}/billing/payments/?limit=1000", key_a)
        open_a = sum(1 for p in listed.get("items", []) if p["status"] == "PENDING")
        print(f"{N} inits from org A's session in {init_secs:.1f} s: answers "
              + ", ".join(f"{k}x{v}" for k, v in sorted(answers.items()))
              + f"; org A's open (PENDING) payments: {open_a}"
              + (" (first 1000 listed)" if len(listed.get("items", [])) >= 1000 else ""))

        key_b = new_org("b")
        s, b, _ = call("POST", f"{api}/billing/khalti/init/", key_b, {"plan": "PRO"})
        assert s == 201, b
        paid_at = time.monotonic()
        call("POST", f"{sim}/_sim/khalti/{b['pidx']}/pay", None, {})
        activated = None
        while time.monotonic() - paid_at < WAIT:
            _, p, _ = call("GET", f"{api}/billing/payments/{b['payment_id']}/", key_b)
            if p.get("status") == "SUCCESS":
                activated = time.monotonic() - paid_at
                break
            time.sleep(0.25)
        print("org B paid right after init; activated by the reconciler after "
              + (f"{activated:.1f} s" if activated is not None else f"> {WAIT:.0f} s (not yet)"))

    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main()
