#!/usr/bin/env python3
"""Attack probe for sima-server, direct or behind the nginx front (deploy/nginx/).

Runs one attack shape at a time and, while it runs, asks GET /healthz on a fresh connection
every 100 ms and records how long each answer takes. Prints one row per shape: what the
server did with the attack, and the health latency (p50 / max / failures) beside it.

  probe.py --url http://127.0.0.1:8443 --api-key sk_... [--assert] [--server-pid PID]

--assert (the test, through nginx) fails unless every /healthz probe under every shape answered
200 in under a second, the framing shapes were refused, every pipelined request got its answer
and no smuggled invoice exists. Without it (e.g. direct against sima-server) it only reports.

With --admin-token it also probes the webhook admin API: its routes without a token, with a
wrong one and with an organization's key; oversized and garbage bodies; endpoint URLs that point
at the server's own network (169.254.169.254, 127.0.0.1, [::1], localhost, a name resolving to
loopback); and that no signing secret appears in any answer but the one that made it, nor in
any line of the --log files (the access logs, the server's output).
Standard library only.
"""

import argparse
import asyncio
import concurrent.futures
import gzip
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import sys
import time
import urllib.parse

HEALTH_INTERVAL = 0.1  # seconds between /healthz probes
HEALTH_TIMEOUT = 5.0  # a probe slower than this counts as failed (and as 5 s)
HEALTH_LIMIT = 1.0  # --assert: every probe under this


class Target:
    def __init__(self, url, api_key, host_header):
        u = urllib.parse.urlsplit(url)
        self.host = u.hostname
        self.port = u.port or 80
        self.api_key = api_key
        self.host_header = host_header or f"{self.host}:{self.port}"

    async def open(self, timeout=5.0):
        return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout)

    def head(self, method, path, extra=(), auth=True):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host_header}"]
        if auth and self.api_key:
            lines.append(f"Authorization: Bearer {self.api_key}")
        lines.extend(extra)
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def read_response(reader, timeout, body_cap=1 << 30):
    """Reads one HTTP/1.1 response. Returns (status, headers, body_len, body_prefix) or None
    on close/timeout before a status line. The body is counted, not kept (first 4 KiB kept)."""
    deadline = time.monotonic() + timeout

    async def line():
        left = deadline - time.monotonic()
        if left <= 0:
            raise asyncio.TimeoutError
        return await asyncio.wait_for(reader.readline(), left)

    try:
        status_line = await line()
        if not status_line:
            return None
        parts = status_line.decode("latin-1").split()
        status = int(parts[1])
        headers = {}
        while True:
            h = await line()
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        length = 0
        prefix = b""
        if "content-length" in headers:
            want = int(headers["content-length"])
            while length < want and length < body_cap:
                left = deadline - time.monotonic()
                chunk = await asyncio.wait_for(reader.read(min(1 << 20, want - length)), max(left, 0.01))
                if not chunk:
                    break
                if len(prefix) < 4096:
                    prefix += chunk[: 4096 - len(prefix)]
                length += len(chunk)
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await line()).split(b";")[0], 16)
                if size == 0:
                    await line()
                    break
                data = await asyncio.wait_for(reader.readexactly(size + 2), max(deadline - time.monotonic(), 0.01))
                if len(prefix) < 4096:
                    prefix += data[: 4096 - len(prefix)]
                length += size
        return status, headers, length, prefix
    except (asyncio.TimeoutError, ConnectionError, ValueError, IndexError, asyncio.IncompleteReadError):
        return None


def close(writer):
    try:
        writer.transport.abort()
    except Exception:
        pass


def health_once(host, port, host_header):
    """One GET /healthz on a fresh connection (blocking). Returns (seconds, status or None);
    a failure counts as HEALTH_TIMEOUT seconds."""
    start = time.monotonic()
    status = None
    try:
        with socket.create_connection((host, port), timeout=HEALTH_TIMEOUT) as sock:
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while b"\r\n" not in data:
                left = HEALTH_TIMEOUT - (time.monotonic() - start)
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
            if data.startswith(b"HTTP/1."):
                status = int(data.split(b" ", 2)[1])
    except (OSError, ValueError, IndexError):
        pass
    took = time.monotonic() - start
    return (max(took, HEALTH_TIMEOUT) if status is None else took), status


def _health_loop(host, port, host_header, stop, out):
    # A probe starts every HEALTH_INTERVAL even while earlier ones still wait, as a load
    # balancer's checks would; a stuck server shows as slow probes, not as fewer probes.
    with concurrent.futures.ThreadPoolExecutor(max_workers=int(HEALTH_TIMEOUT / HEALTH_INTERVAL) + 4) as pool:
        futures = []
        while not stop.is_set():
            futures.append(pool.submit(health_once, host, port, host_header))
            stop.wait(HEALTH_INTERVAL)
        out.put([f.result() for f in futures])


class Health:
    """Probes /healthz every HEALTH_INTERVAL (each on a fresh connection) from a separate
    process, so the attack's own work in this process never delays a probe."""

    def __init__(self, target):
        ctx = multiprocessing.get_context("fork")
        self._stop = ctx.Event()
        self._out = ctx.Queue()
        self._proc = ctx.Process(
            target=_health_loop, args=(target.host, target.port, target.host_header, self._stop, self._out)
        )
        self.samples = []

    def start(self):
        self._proc.start()

    async def stop(self):
        self._stop.set()
        loop = asyncio.get_running_loop()
        self.samples = await loop.run_in_executor(None, self._out.get)
        await loop.run_in_executor(None, self._proc.join)

    def summary(self):
        times = [s for s, _ in self.samples]
        bad = sum(1 for _, st in self.samples if st != 200)
        return {
            "probes": len(times),
            "p50_ms": round(statistics.median(times) * 1000, 1) if times else None,
            "max_ms": round(max(times) * 1000, 1) if times else None,
            "failed": bad,
        }


# ---------------------------------------------------------------------------------- shapes
# Each shape returns a short text of what the server did, and a dict of facts for --assert.


async def shape_baseline(t, hold):
    await asyncio.sleep(hold)
    return "no attack", {}


async def open_many(t, n, batch=200):
    socks = []
    for i in range(0, n, batch):
        res = await asyncio.gather(*(t.open(3.0) for _ in range(min(batch, n - i))), return_exceptions=True)
        socks.extend(x for x in res if not isinstance(x, BaseException))
    return socks


async def answers_so_far(socks):
    """What the server has already answered on each socket (status: count); unanswered open
    sockets count as "held", closed ones as "closed"."""
    results = await asyncio.gather(*(read_response(r, 0.2) for r, w in socks))
    counts = {}
    for (r, w), resp in zip(socks, results):
        key = str(resp[0]) if resp else ("closed" if r.at_eof() else "held")
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{v} {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


async def shape_idle(t, hold, n=2000):
    socks = await open_many(t, n)
    await asyncio.sleep(hold)
    seen = await answers_so_far(socks)
    for r, w in socks:
        close(w)
    return f"{len(socks)}/{n} connected; after {hold:.0f}s: {seen}", {"opened": len(socks)}


async def shape_slowloris(t, hold, n=500):
    socks = await open_many(t, n)
    for r, w in socks:
        w.write(f"GET /healthz HTTP/1.1\r\nHost: {t.host_header}\r\n".encode())
    end = time.monotonic() + hold
    i = 0
    while time.monotonic() < end:
        await asyncio.sleep(0.5)
        for r, w in socks:
            if not w.is_closing():
                w.write(f"X-Slow-{i}: a\r\n".encode())
        i += 1
    seen = await answers_so_far(socks)
    for r, w in socks:
        close(w)
    return f"{len(socks)} trickling a header line every 0.5 s; after {hold:.0f}s: {seen}", {"opened": len(socks)}


async def shape_slow_body(t, hold, n=200):
    socks = await open_many(t, n)
    head = t.head("POST", "/invoices/", ["Content-Type: application/json", "Content-Length: 1000"])
    for r, w in socks:
        w.write(head + b"{")
    end = time.monotonic() + hold
    while time.monotonic() < end:
        await asyncio.sleep(0.5)
        for r, w in socks:
            if not w.is_closing():
                w.write(b" ")
    seen = await answers_so_far(socks)
    for r, w in socks:
        close(w)
    return f"{len(socks)} bodies trickled a byte every 0.5 s; after {hold:.0f}s: {seen}", {"opened": len(socks)}


async def stream_until_answer(t, head, chunks, total, cap_seconds):
    """Sends head, then up to `total` bytes from the chunk generator while watching for an
    answer. Returns (status or None, bytes of body sent, seconds to answer or to give up)."""
    start = time.monotonic()
    r, w = await t.open()
    w.write(head)
    answer = asyncio.ensure_future(read_response(r, cap_seconds))
    sent = 0
    try:
        for chunk in chunks:
            if answer.done() or sent >= total or time.monotonic() - start > cap_seconds:
                break
            w.write(chunk)
            sent += len(chunk)
            await asyncio.wait_for(w.drain(), max(cap_seconds - (time.monotonic() - start), 0.01))
    except (ConnectionError, asyncio.TimeoutError, OSError):
        pass
    resp = await answer
    took = time.monotonic() - start
    close(w)
    return (resp[0] if resp else None), sent, took


def repeat(block, total):
    sent = 0
    while sent < total:
        yield block
        sent += len(block)


async def shape_huge_header(t, hold, size=64 << 20):
    head = f"GET /healthz HTTP/1.1\r\nHost: {t.host_header}\r\nX-Huge: ".encode()
    status, sent, took = await stream_until_answer(t, head, repeat(b"a" * 65536, size), size, hold + 10)
    return f"{status or 'no answer'} after {mib(sent)} of a 64 MiB header line, {took:.1f}s", {"status": status}


async def shape_chunked_bomb(t, hold, size=128 << 20):
    head = t.head("POST", "/invoices/", ["Content-Type: application/json", "Transfer-Encoding: chunked"], auth=False)
    block = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
    status, sent, took = await stream_until_answer(t, head, repeat(block, size), size, hold + 10)
    return f"{status or 'no answer'} after {mib(sent)} of a 128 MiB chunked body (no credential), {took:.1f}s", {
        "status": status
    }


_gzip_body = None


def gzip_bomb():
    """60 MiB of JSON (an invoice, then spaces) compressed to about 60 KiB; made once, before
    any probing starts, as compressing blocks the event loop for a second."""
    global _gzip_body
    if _gzip_body is None:
        raw = b'{"amount_paisa":1,"description":"gzip"}' + b" " * (60 << 20)
        _gzip_body = gzip.compress(raw, 9)
    return _gzip_body


async def shape_gzip_bomb(t, hold):
    body = gzip_bomb()
    head = t.head(
        "POST",
        "/invoices/",
        ["Content-Type: application/json", "Content-Encoding: gzip", f"Content-Length: {len(body)}"],
    )
    start = time.monotonic()
    r, w = await t.open()
    w.write(head + body)
    resp = await read_response(r, hold + 10)
    took = time.monotonic() - start
    close(w)
    status = resp[0] if resp else None
    return f"{status or 'no answer'} for {len(body) // 1024} KiB of gzip (60 MiB inflated), {took:.1f}s", {
        "status": status
    }


async def shape_ranges(t, hold, n=2000):
    async def get(extra):
        r, w = await t.open()
        w.write(t.head("GET", "/billing/plans/", [*extra, "Connection: close"], auth=False))
        resp = await read_response(r, hold + 10, body_cap=512 << 20)
        close(w)
        return resp

    plain = await get([])
    resp = await get([f"Range: bytes={','.join('0-' for _ in range(n))}"])
    if not plain or not resp:
        return "no answer", {"status": None}
    status, _, length, _ = resp
    return f"{status}, {mib(length)} answering {n} overlapping ranges of a {mib(plain[2])} answer", {
        "status": status,
        "bytes": length,
        "plain_bytes": plain[2],
    }


def invoice_request(t, description, extra=()):
    body = json.dumps({"amount_paisa": 4242, "description": description}).encode()
    head = t.head("POST", "/invoices/", ["Content-Type: application/json", f"Content-Length: {len(body)}", *extra])
    return head + body


async def send_and_collect(t, parts, want, timeout):
    """Writes each part of raw bytes 0.3 s apart (a server that reads one request per socket
    read sees the later parts as a new request), then reads up to `want` responses."""
    r, w = await t.open()
    for i, data in enumerate(parts):
        if i:
            await asyncio.sleep(0.3)
        try:
            w.write(data)
            await w.drain()
        except ConnectionError:
            break
    statuses = []
    for _ in range(want):
        resp = await read_response(r, timeout)
        if not resp:
            break
        statuses.append(resp[0])
    close(w)
    return statuses


async def shape_framing(t, hold, marker):
    """CL+TE, two Content-Lengths and CL.0 (a body on GET), each hiding a POST /invoices/ whose
    description carries `marker`; success for the server means none of them creates it."""
    smuggled = invoice_request(t, marker)
    results = []
    # CL + TE: Content-Length covers the smuggled request, chunked framing ends before it.
    cl_te = t.head(
        "POST",
        "/invoices/",
        ["Content-Type: application/json", f"Content-Length: {5 + len(smuggled)}", "Transfer-Encoding: chunked"],
    )
    results.append(("CL+TE", await send_and_collect(t, [cl_te + b"0\r\n\r\n", smuggled], 2, 2.0)))
    # Two Content-Lengths: the first says 2 (`{}`), the second covers the smuggled request.
    two_cl = t.head(
        "POST",
        "/invoices/",
        ["Content-Type: application/json", "Content-Length: 2", f"Content-Length: {2 + len(smuggled)}"],
    )
    results.append(("2xCL", await send_and_collect(t, [two_cl + b"{}", smuggled], 2, 2.0)))
    # CL.0: GET with a body; a server that ignores it reads the body as the next request.
    cl0 = t.head("GET", "/healthz", [f"Content-Length: {len(smuggled)}"], auth=False)
    results.append(("CL.0", await send_and_collect(t, [cl0, smuggled], 2, 2.0)))
    text = ", ".join(f"{name} {'/'.join(map(str, s)) or 'closed'}" for name, s in results)
    return text, {"answers": dict(results)}


async def shape_pipelined(t, hold, n=3):
    data = b"".join(invoice_request(t, f"pipelined {i}") for i in range(n))
    statuses = await send_and_collect(t, [data], n, 3.0)
    return f"{len(statuses)} answers to {n} pipelined POSTs ({'/'.join(map(str, statuses))})", {
        "answers": len(statuses),
        "sent": n,
    }


async def shape_declared_gb(t, hold):
    head = t.head("POST", "/invoices/", ["Content-Type: application/json", "Content-Length: 1073741824"])
    status, sent, took = await stream_until_answer(t, head, repeat(b" " * 65536, 1 << 30), 1 << 30, 20.0)
    return f"{status or 'no answer'} after {took:.2f}s and {mib(sent)} sent of a declared 1 GiB body", {
        "status": status,
        "seconds": took,
    }


SHAPES = [
    ("baseline", shape_baseline),
    ("2,000 idle sockets", shape_idle),
    ("slowloris x500", shape_slowloris),
    ("slow bodies x200", shape_slow_body),
    ("64 MiB header line", shape_huge_header),
    ("128 MiB chunked body", shape_chunked_bomb),
    ("gzip bomb 60 MiB", shape_gzip_bomb),
    ("2,000 ranges", shape_ranges),
    ("framing (smuggling)", shape_framing),
    ("3 pipelined POSTs", shape_pipelined),
    ("declared 1 GiB body", shape_declared_gb),
]


# ------------------------------------------------------------------------- webhook admin API
# Not a load shape: one request at a time. Each check is (what, passed, detail).

WEBHOOKS = "/admin/webhooks/"
WEBHOOK_EVENTS = "/admin/webhook-events/"


def request(t, method, path, token=None, body=None, content_type="application/json", timeout=10.0):
    """One request on a fresh connection (blocking): (status or None, body text)."""
    headers = {"Host": t.host_header, "Connection": "close"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = content_type
        if isinstance(body, str):
            body = body.encode()
    conn = http.client.HTTPConnection(t.host, t.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        res = conn.getresponse()
        return res.status, res.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return None, ""
    finally:
        conn.close()


def loopback_names():
    """localhost spelt with a trailing dot, and a name of /etc/hosts other than localhost that
    resolves only to loopback here (if there is one): names, not addresses, that reach the
    machine itself."""
    names = ["localhost.", "api.localhost"]
    try:
        with open("/etc/hosts") as f:
            lines = f.read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        words = line.split("#")[0].split()
        if len(words) < 2 or not (words[0].startswith("127.") or words[0] == "::1"):
            continue
        for name in words[1:]:
            if "localhost" in name:
                continue
            try:
                found = {ai[4][0] for ai in socket.getaddrinfo(name, 80)}
            except OSError:
                continue
            if found and all(a.startswith("127.") or a == "::1" for a in found):
                return names + [name]
    return names


def webhook_admin_checks(t, admin, logs):
    checks = []
    answers = []  # every answer body that must not carry a secret
    secrets = []

    def check(what, passed, detail=""):
        checks.append((what, bool(passed), detail))

    def call(method, path, token=None, body=None, **kw):
        status, text = request(t, method, path, token, body, **kw)
        answers.append(text)
        return status, text

    def field_of(text):
        try:
            return json.loads(text).get("field")
        except (ValueError, AttributeError):
            return None

    # A real endpoint (a public name), so the routes with an id have something to guard.
    status, text = request(t, "POST", WEBHOOKS, admin, json.dumps({"url": "https://hooks.example.com/probe"}))
    created = json.loads(text) if status == 201 else {}
    check("admin creates an endpoint", status == 201, f"{status}")
    endpoint = created.get("endpoint", {}).get("id", "we_AAAAAAAAAAAAAAAAAAAAAA")
    if created.get("secret"):
        secrets.append(created["secret"])
    event = "evt_AAAAAAAAAAAAAAAAAAAAAA"
    one = f"{WEBHOOKS}{endpoint}/"
    routes = [
        ("POST", WEBHOOKS, json.dumps({"url": "https://hooks.example.com/x"})),
        ("GET", WEBHOOKS, None),
        ("GET", f"{WEBHOOKS}?org_id=org_00000000000000000000", None),
        ("GET", one, None),
        ("PATCH", one, json.dumps({"enabled": False})),
        ("POST", f"{one}rotate/", json.dumps({"overlap_hours": 0})),
        ("DELETE", one, None),
        ("GET", WEBHOOK_EVENTS, None),
        ("GET", f"{WEBHOOK_EVENTS}{event}/", None),
        ("POST", f"{WEBHOOK_EVENTS}{event}/resend/", "{}"),
    ]
    for who, token, want in (("no token", None, 401), ("a wrong token", "not-the-admin-token", 401),
                             ("an organization's key", t.api_key, 403)):
        got = [call(m, p, token, b)[0] for m, p, b in routes]
        check(f"every webhook route refuses {who} ({want})", all(s == want for s in got), f"{got}")

    status, text = request(t, "GET", one, admin)
    check("the endpoint is unchanged by the refused calls",
          status == 200 and json.loads(text).get("enabled") is True, f"{status}")
    answers.append(text)

    # Bodies the server must refuse before doing anything.
    big = json.dumps({"url": "https://hooks.example.com/" + "a" * (70 << 10)})
    deep = '{"url":' + "[" * 200 + "]" * 200 + "}"
    for what, body, ctype, want in (
        ("a 70 KiB body", big, "application/json", {413}),
        ("a URL over 2048 bytes", json.dumps({"url": "https://hooks.example.com/" + "a" * 3000}), "application/json", {400}),
        ("truncated JSON", '{"url":', "application/json", {400}),
        ("invalid UTF-8", b'{"url":"\xff\xfe"}', "application/json", {400}),
        ("a JSON array", "[]", "application/json", {400}),
        ("nesting 200 deep", deep, "application/json", {400}),
        ("a form body", "url=https://hooks.example.com/", "application/x-www-form-urlencoded", {415}),
        ("an unknown field (secret)", json.dumps({"url": "https://hooks.example.com/", "secret": "whsec_x"}), "application/json", {400}),
    ):
        status, _ = call("POST", WEBHOOKS, admin, body, content_type=ctype)
        check(f"create refuses {what}", status in want, f"{status}")
    for what, path, body in (
        ("PATCH with garbage", one, "{]"),
        ("rotate with a huge overlap", f"{one}rotate/", json.dumps({"overlap_hours": 10**30})),
        ("resend with a bad endpoint_id", f"{WEBHOOK_EVENTS}{event}/resend/", json.dumps({"endpoint_id": "x" * 5000})),
    ):
        method = "PATCH" if path == one else "POST"
        status, _ = call(method, path, admin, body)
        check(f"{what} is refused", status == 400, f"{status}")

    # Endpoints pointing at the server's own network: refused at create and at change.
    targets = ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:8080/", "http://[::1]:8080/",
               "http://localhost/", "http://2130706433/", "http://[::ffff:127.0.0.1]/", "http://10.0.0.1/",
               "http://0.0.0.0/"] + [f"http://{name}/" for name in loopback_names()]
    for url in targets:
        status, text = call("POST", WEBHOOKS, admin, json.dumps({"url": url}))
        check(f"create refuses {url}", status == 400 and field_of(text) == "url", f"{status} {text[:120]}")
        status, text = call("PATCH", one, admin, json.dumps({"url": url}))
        check(f"change refuses {url}", status == 400 and field_of(text) == "url", f"{status}")

    # Secrets: only the answer that made one carries it.
    status, text = request(t, "POST", f"{one}rotate/", admin, json.dumps({"overlap_hours": 1}))
    check("admin rotates the secret", status == 200, f"{status}")
    if status == 200:
        secrets.append(json.loads(text)["secret"])
    for path in (one, WEBHOOKS, f"{WEBHOOK_EVENTS}?limit=1000"):
        call("GET", path, admin)
    status, _ = call("DELETE", one, admin)
    check("admin deletes the endpoint", status == 204, f"{status}")
    leaked = [s[:10] + "…" for s in secrets if any(s in a or s[6:] in a for a in answers)]
    check("no secret in any other answer", secrets and not leaked, f"{len(secrets)} secrets, leaked {leaked}")
    time.sleep(0.5)  # the access log is written every 50 ms
    for log in logs:
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError as e:
            check(f"read {log}", False, str(e))
            continue
        leaked = [s[:10] + "…" for s in secrets if s in text or s[6:] in text]
        check(f"no secret in {os.path.basename(log)}", not leaked, f"{len(text)} bytes, leaked {leaked}")
    return checks


def mib(n):
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n / 1024:.0f} KiB"


def peak_rss_mib(pid):
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


async def wait_healthy(t, limit=20.0):
    """Before the next shape: wait until /healthz answers quickly again (direct mode recovers
    slowly from some shapes)."""
    loop = asyncio.get_running_loop()
    end = time.monotonic() + limit
    while time.monotonic() < end:
        took, status = await loop.run_in_executor(None, health_once, t.host, t.port, t.host_header)
        if status == 200 and took < 0.5:
            return True
        await asyncio.sleep(0.5)
    return False


async def list_invoices(t):
    """The organization's invoices (newest 1,000), or None if they cannot be listed."""
    r, w = await t.open()
    w.write(t.head("GET", "/invoices/?limit=1000", ["Connection: close"]))
    try:
        raw = await asyncio.wait_for(r.read(), 10.0)
    except (asyncio.TimeoutError, ConnectionError):
        return None
    finally:
        close(w)
    head, _, body = raw.partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0] + b" ":
        return None
    if b"transfer-encoding: chunked" in head.lower():
        out, rest = b"", body
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2 :]
        body = out
    return json.loads(body)["items"]


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True, help="http://host:port of sima-server or of the nginx front")
    ap.add_argument("--api-key", required=True, help="an organization's secret key (sk_...)")
    ap.add_argument("--label", default="", help="name printed above the table")
    ap.add_argument("--assert", dest="check", action="store_true", help="fail unless the front held")
    ap.add_argument("--server-pid", type=int, help="sima-server's pid, for its peak RSS")
    ap.add_argument("--hold", type=float, default=3.0, help="seconds each shape is held")
    ap.add_argument("--only", help="comma-separated shape numbers (1 = idle ...), for a quick look")
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("--admin-token", help="the admin token: also probe the webhook admin API")
    ap.add_argument("--log", action="append", default=[], help="a log file no secret may appear in (repeatable)")
    args = ap.parse_args()

    t = Target(args.url, args.api_key, None)
    marker = f"smuggled-{os.getpid()}-{int(time.time())}"
    only = {int(x) for x in args.only.split(",")} if args.only else None
    rows = []
    failures = []

    print(f"\n{args.label or args.url}: /healthz every {HEALTH_INTERVAL * 1000:.0f} ms during each shape", flush=True)
    header = f"{'shape':<22} {'probes':>6} {'p50 ms':>8} {'max ms':>8} {'failed':>6} {'RSS MiB':>8}  server's answer"
    print(header)
    print("-" * len(header))
    gzip_bomb()
    for i, (name, fn) in enumerate(SHAPES):
        if only is not None and i not in only and i != 0:
            continue
        recovered = await wait_healthy(t)
        health = Health(t)
        health.start()
        started = time.monotonic()
        try:
            if fn is shape_framing:
                text, facts = await fn(t, args.hold, marker)
            else:
                text, facts = await fn(t, args.hold)
        except Exception as e:  # a shape that breaks the probe is a row, not a crash
            text, facts = f"probe error: {type(e).__name__}: {e}", {"error": True}
        # Keep probing for the whole hold, also after a quick refusal: what the server still
        # does with an attack it has answered (inflating, discarding) shows here.
        await asyncio.sleep(max(0.0, args.hold - (time.monotonic() - started)))
        await health.stop()
        s = health.summary()
        rss = peak_rss_mib(args.server_pid)
        if not recovered:
            text += " (server was still slow before this shape)"
        rows.append({"shape": name, **s, "peak_rss_mib": rss, "answer": text, "facts": facts})
        print(
            f"{name:<22} {s['probes']:>6} {s['p50_ms']:>8} {s['max_ms']:>8} {s['failed']:>6} "
            f"{rss if rss is not None else '-':>8}  {text}",
            flush=True,
        )
        if args.check:
            if s["failed"] or s["max_ms"] is None or s["max_ms"] >= HEALTH_LIMIT * 1000:
                failures.append(f"{name}: /healthz max {s['max_ms']} ms, {s['failed']} failed")
            if facts.get("error"):
                failures.append(f"{name}: {text}")
            if fn in (shape_idle, shape_slowloris, shape_slow_body):
                if facts.get("opened") != {shape_idle: 2000, shape_slowloris: 500, shape_slow_body: 200}[fn]:
                    failures.append(f"{name}: the probe could not open its sockets ({text})")
            if fn is shape_ranges and facts.get("bytes", 1 << 30) > facts.get("plain_bytes", 0):
                failures.append(f"{name}: the answer grew ({text})")
            if fn is shape_framing:
                for shape, answers in facts["answers"].items():
                    if any(st < 400 for st in answers):
                        failures.append(f"framing {shape}: accepted ({answers})")
            if fn is shape_pipelined and facts["answers"] != facts["sent"]:
                failures.append(f"pipelined: {facts['answers']} answers to {facts['sent']} requests")
            if fn in (shape_huge_header, shape_chunked_bomb, shape_gzip_bomb, shape_declared_gb):
                if facts.get("status") is None or facts["status"] < 400:
                    failures.append(f"{name}: not refused ({text})")
            if fn is shape_declared_gb and facts.get("seconds", 99) >= HEALTH_LIMIT:
                failures.append(f"{name}: refused only after {facts['seconds']:.1f}s")

    await wait_healthy(t)
    invoices = await list_invoices(t)
    if invoices is None:
        smuggled = None
        print("\ninvoices: could not list them with the organization's key")
        if args.check:
            failures.append("could not list invoices to look for a smuggled one")
    else:
        smuggled = sum(1 for inv in invoices if inv.get("description") == marker)
        print(f"\nsmuggled invoices created: {smuggled}")
        if args.check and smuggled:
            failures.append(f"{smuggled} smuggled invoice(s) created")
    webhook_checks = []
    if args.admin_token:
        loop = asyncio.get_running_loop()
        webhook_checks = await loop.run_in_executor(None, webhook_admin_checks, t, args.admin_token, args.log)
        passed = sum(1 for _, ok, _ in webhook_checks if ok)
        print(f"\nwebhook admin API: {passed}/{len(webhook_checks)} checks passed")
        for what, ok, detail in webhook_checks:
            if not ok:
                print(f"  FAILED {what}: {detail}")
                if args.check:
                    failures.append(f"webhooks: {what} ({detail})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"label": args.label, "rows": rows, "smuggled_invoices": smuggled,
                       "webhook_checks": webhook_checks}, f, indent=1)

    if args.check:
        if failures:
            print("\nFAILED:\n  " + "\n  ".join(failures))
            return 1
        print(f"\nOK: /healthz under {HEALTH_LIMIT:.0f} s through every shape, no smuggled invoice"
              + (", the webhook admin API held" if webhook_checks else ""))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
