"""An integrator's backend minting sima session tokens, with Python's standard library only.

Run:
    SIMA_SERVER_URL=https://api.example.com SIMA_SECRET_KEY_FILE=/etc/myapp/sima.key \
    PORT=3000 python3 session_backend.py

The browser, once logged in to YOUR app, calls POST /api/sima-session and gets
    {"token": "st_...", "expires_at": "...", "api_url": "https://api.example.com"}
The secret key (sk_...) is read from a file and never leaves this process.
In a Flask or Django app, mint_session() is the whole view: call it after your login check.
"""
import json
import os
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVER_URL = os.environ.get("SIMA_SERVER_URL", "http://127.0.0.1:8080").rstrip("/")
KEY_FILE = os.environ.get("SIMA_SECRET_KEY_FILE", "sima.key")
PORT = int(os.environ.get("PORT", "3000"))


def secret_key_for(user):
    """One organization per tenant of your app: pick the tenant's key. Here: one organization."""
    with open(KEY_FILE, encoding="utf-8") as f:
        return f.read().strip()


def mint_session(user):
    """Returns (status, body) for the browser. Raises nothing."""
    request = urllib.request.Request(
        SERVER_URL + "/sessions/",
        method="POST",
        headers={"Authorization": "Bearer " + secret_key_for(user)},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            body = json.load(answer)
            status = answer.status
    except urllib.error.HTTPError as e:
        # 401 here means the key was revoked or mistyped: an operator must deploy a valid key.
        print(f"sima-server refused to mint a session: {e.code}", file=sys.stderr)
        return 502, {"error": "billing is unavailable, try again"}
    except (urllib.error.URLError, OSError, ValueError) as e:
        print(f"sima-server unreachable: {e}", file=sys.stderr)
        return 502, {"error": "billing is unavailable, try again"}
    if status != 201 or not isinstance(body.get("token"), str):
        return 502, {"error": "billing is unavailable, try again"}
    # Only what the browser needs: never the key, never sima's whole answer.
    return 201, {"token": body["token"], "expires_at": body["expires_at"], "api_url": SERVER_URL}


class Handler(BaseHTTPRequestHandler):
    def current_user(self):
        """REPLACE with your own login check (session cookie, JWT...). Here: a test header."""
        user = self.headers.get("X-Example-User")
        return {"id": user} if user else None

    def send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if self.path != "/api/sima-session":
            return self.send(404, {"error": "not found"})
        user = self.current_user()
        if user is None:
            return self.send(401, {"error": "log in first"})
        self.send(*mint_session(user))

    def log_message(self, fmt, *args):  # no request lines on stderr
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print(json.dumps({"listening": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
