#!/usr/bin/env python3
"""A real SMTP server for tests (aiosmtpd): writes each message it accepts, whole and as
received (the DATA bytes after SMTP's dot-unstuffing), to <folder>/<n>.eml, plus the envelope
in <n>.json. Prints "listening <port>" on stdout once it accepts connections.

  smtp_sink.py --folder DIR [--port 0] [--user U --password P] [--starttls CERT KEY]
               [--require-starttls]

--user/--password: AUTH PLAIN and LOGIN are offered and required before MAIL.
--starttls: STARTTLS is offered with that certificate (make a throwaway one with `openssl req`).
--require-starttls: commands other than EHLO/STARTTLS/QUIT are refused until TLS is up.
"""
import argparse
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Folder:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        base = os.path.join(self.folder, "%04d" % n)
        with open(base + ".json.tmp", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "tls": session.ssl is not None,
                       "authenticated": bool(session.authenticated)}, f)
        os.rename(base + ".json.tmp", base + ".json")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--folder", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--require-starttls", action="store_true")
    a = p.parse_args()
    os.makedirs(a.folder, exist_ok=True)

    port = a.port
    if port == 0:  # a free port, chosen by the kernel
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()

    kwargs = {"decode_data": False, "enable_SMTPUTF8": True}
    if a.starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(a.starttls[0], a.starttls[1])
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = a.require_starttls
    if a.user is not None:
        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and
                  auth_data.login.decode() == a.user and
                  auth_data.password.decode() == a.password)
            return AuthResult(success=ok)
        kwargs["authenticator"] = authenticate
        kwargs["auth_required"] = True
        # Plain-text AUTH is allowed for tests without TLS; with --starttls it waits for TLS.
        kwargs["auth_require_tls"] = bool(a.starttls)
    controller = Controller(Folder(a.folder), hostname="127.0.0.1", port=port,
                            server_hostname="localhost", **kwargs)
    controller.start()
    print("listening %d" % port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
