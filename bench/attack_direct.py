#!/usr/bin/env python3
"""Attack shapes straight at one sima-server (no nginx in front): prints what each costs.

Usage: bench/attack_direct.py [path/to/sima-server]   (default build/debug/server/sima-server)

Starts the server on a free loopback port with a fresh database and the default settings
(64 workers) and measures /healthz while idle and slowloris connections are open; then, each
on a fresh server, every attack shape: the answer, the time it took and the growth of the
server's peak memory (VmHWM). tests/attack/ holds the probes that go through nginx.
"""
import gzip
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/debug/server/sima-server")
ADMIN = "attack-admin-" + os.urandom(8).hex()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def connect(port, timeout=20.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_answer(s, limit=None):
    """(status, headers dict, body bytes, total bytes) of one answer; status 0 = none."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            got = s.recv(65536)
            if not got:
                return 0, {}, b"", len(data)
            data += got
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length and (limit is None or len(rest) < limit):
            got = s.recv(1 << 20)
            if not got:
                break
            rest += got
        return status, headers, rest[:length], len(head) + 4 + len(rest)
    except (socket.timeout, ConnectionError):
        return 0, {}, b"", len(data)


def request(port, raw, timeout=20.0):
    s = connect(port, timeout)
    try:
        s.sendall(raw)
        return read_answer(s)
    finally:
        s.close()


def healthz_ms(port, timeout=20.0):
    t0 = time.monotonic()
    status, _, _, _ = request(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                              timeout)
    ms = (time.monotonic() - t0) * 1000
    return f"{ms:8.1f} ms" if status == 200 else f"no answer ({ms / 1000:.1f} s, status {status})"


def post_json(port, path, token, body):
    body = json.dumps(body).encode()
    raw = (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
           f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
           f"Connection: close\r\n\r\n").encode() + body
    status, _, answer, _ = request(port, raw)
    return status, json.loads(answer or b"{}")


def invoices(port, key):
    raw = (f"GET /invoices/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
           f"Connection: close\r\n\r\n").encode()
    _, _, body, _ = request(port, raw)
    doc = json.loads(body or b"[]")
    items = doc.get("items", doc.get("invoices", doc)) if isinstance(doc, dict) else doc
    return len(items) if isinstance(items, list) else -1


class Server:
    """A sima-server on a free port with a fresh database and a PRO organization."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp()
        self.port = free_port()
        env = dict(os.environ, SIMA_LISTEN=f"127.0.0.1:{self.port}", SIMA_DB=f"{self.tmp}/a.db",
                   SIMA_ADMIN_TOKEN=ADMIN, SIMA_ACCESS_LOG="off")
        self.proc = subprocess.Popen([BIN], env=env, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                if request(self.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        _, org = post_json(self.port, "/admin/orgs/", ADMIN, {"name": "Attack", "plan": "PRO"})
        self.key = org["api_key"]
        self.pid = self.proc.pid

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    print(f"sima-server {BIN}\n")
    srv = Server()
    port, key, pid = srv.port, srv.key, srv.pid
    try:
        print(f"/healthz, nothing else open        {healthz_ms(port)}")
        for n in (64, 2000):
            idle = [connect(port) for _ in range(n)]
            print(f"/healthz, {n:4d} idle connections    {healthz_ms(port)}")
            for s in idle:
                s.close()
            time.sleep(0.3)
            slow = []
            for _ in range(n):
                s = connect(port)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                slow.append(s)
            stop = threading.Event()

            def trickle():
                while not stop.wait(1.0):
                    for s in slow:
                        try:
                            s.send(b"X")
                        except OSError:
                            pass

            t = threading.Thread(target=trickle)
            t.start()
            time.sleep(0.2)
            print(f"/healthz, {n:4d} slowloris heads     {healthz_ms(port)}")
            stop.set()
            t.join()
            for s in slow:
                s.close()
            time.sleep(0.3)
        print()
    finally:
        srv.stop()

    state = {}

    def shape(name, fn):
        fresh = Server()
        state.update(port=fresh.port, key=fresh.key)
        try:
            before = hwm_kib(fresh.pid)
            t0 = time.monotonic()
            result = fn()
            secs = time.monotonic() - t0
            grew = (hwm_kib(fresh.pid) - before) / 1024
            print(f"{name:34s} {result:40s} {secs:6.2f} s   peak RSS +{grew:7.1f} MiB")
        finally:
            fresh.stop()

    if True:

        def header_line():
            port, key = state["port"], state["key"]
            s = connect(port, 60)
            line = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
            try:
                s.sendall(line)
                chunk = b"a" * (1 << 20)
                for _ in range(64):
                    s.sendall(chunk)
                s.sendall(b"\r\n\r\n")
            except OSError:
                pass
            status, _, _, _ = read_answer(s)
            s.close()
            return f"status {status}"

        def chunked_unauthenticated():
            port, key = state["port"], state["key"]
            s = connect(port, 60)
            sent = 0
            try:
                s.sendall(b"POST /invoices/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                          b"\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk = b"100000\r\n" + b" " * (1 << 20) + b"\r\n"
                for _ in range(128):
                    s.sendall(chunk)
                    sent += 1
                s.sendall(b"0\r\n\r\n")
            except OSError:
                pass
            status, _, _, _ = read_answer(s)
            s.close()
            return f"status {status}, {sent} of 128 MiB taken"

        bomb = gzip.compress(b" " * (60 << 20), 9)

        def gzip_bomb():
            port, key = state["port"], state["key"]
            raw = (f"POST /invoices/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                   f"Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
                   f"Content-Length: {len(bomb)}\r\nConnection: close\r\n\r\n").encode() + bomb
            status, _, _, _ = request(port, raw, 60)
            return f"status {status} ({len(bomb) // 1024} KiB sent)"

        def ranges():
            port, key = state["port"], state["key"]
            spec = "bytes=0-" + ",0-" * 2000
            raw = (f"GET /billing/plans/ HTTP/1.1\r\nHost: x\r\nRange: {spec}\r\n"
                   f"Connection: close\r\n\r\n").encode()
            s = connect(port, 60)
            s.sendall(raw)
            total = 0
            status = 0
            first = True
            while True:
                try:
                    got = s.recv(1 << 20)
                except OSError:
                    break
                if not got:
                    break
                if first:
                    status = int(got.split(b" ", 2)[1])
                    first = False
                total += len(got)
            s.close()
            return f"status {status}, {total / 1024:.0f} KiB answered"

        def declared_gigabyte():
            port, key = state["port"], state["key"]
            s = connect(port, 60)
            s.sendall((f"POST /invoices/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                       f"Content-Type: application/json\r\nContent-Length: {1 << 30}\r\n\r\n")
                      .encode())
            stop = threading.Event()

            def body():
                chunk = b" " * (1 << 20)
                try:
                    for _ in range(1024):
                        if stop.is_set():
                            return
                        s.sendall(chunk)
                except OSError:
                    pass

            t = threading.Thread(target=body)
            t.start()
            status, _, _, _ = read_answer(s)
            stop.set()
            s.close()
            t.join()
            return f"status {status}"

        def pipelined():
            port, key = state["port"], state["key"]
            body = b'{"amount_paisa":100}'
            one = (f"POST /invoices/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                   ).encode() + body
            before = invoices(port, key)
            s = connect(port, 8)
            s.sendall(one * 3)
            answers = 0
            while answers < 3 and read_answer(s)[0] != 0:
                answers += 1
            s.close()
            return f"{answers} answers, {invoices(port, key) - before} invoices"

        def smuggled():
            port, key = state["port"], state["key"]
            body = b'{"amount_paisa":100}'
            inner = (f"POST /invoices/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                     ).encode() + body
            outer = (f"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: {len(inner)}\r\n\r\n"
                     ).encode() + inner
            before = invoices(port, key)
            s = connect(port, 3)
            s.sendall(outer)
            statuses = []
            while len(statuses) < 2:
                status = read_answer(s)[0]
                if status == 0:
                    break
                statuses.append(status)
            s.close()
            return f"answers {statuses}, {invoices(port, key) - before} invoices made"

        def multipart():
            port, key = state["port"], state["key"]
            raw = (f"POST /invoices/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                   f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 4\r\n"
                   f"Connection: close\r\n\r\n--b\n").encode()
            return f"status {request(port, raw)[0]}"

        shape("64 MiB header line", header_line)
        shape("128 MiB chunked, no credential", chunked_unauthenticated)
        shape("gzip bomb (60 MiB inflated)", gzip_bomb)
        shape("2,000 overlapping Ranges", ranges)
        shape("1 GiB declared Content-Length", declared_gigabyte)
        shape("3 pipelined POSTs", pipelined)
        shape("CL.0 smuggled POST", smuggled)
        shape("multipart/form-data", multipart)


if __name__ == "__main__":
    main()
