// An integrator's backend minting sima session tokens, with Node's standard library only
// (Node 18+: global fetch). Run:
//   SIMA_SERVER_URL=https://api.example.com SIMA_SECRET_KEY_FILE=/etc/myapp/sima.key \
//   PORT=3000 node session-backend.mjs
// The browser, once logged in to YOUR app, calls POST /api/sima-session and gets
//   {"token": "st_...", "expires_at": "...", "api_url": "https://api.example.com"}
// The secret key (sk_...) is read from a file and never leaves this process.
import http from 'node:http';
import { readFileSync } from 'node:fs';

const serverUrl = (process.env.SIMA_SERVER_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const keyFile = process.env.SIMA_SECRET_KEY_FILE ?? 'sima.key';
const port = Number(process.env.PORT ?? 3000);

// One organization per tenant of your app: keep each tenant's key and pick it by the logged-in
// user's tenant. This example serves one organization.
function secretKeyFor(/* user */) {
  return readFileSync(keyFile, 'utf8').trim();
}

// REPLACE with your own login check (session cookie, JWT...). Here: a header set by a test.
function currentUser(req) {
  const user = req.headers['x-example-user'];
  return typeof user === 'string' && user !== '' ? { id: user } : null;
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function mintSession(req, res) {
  const user = currentUser(req);
  if (!user) return send(res, 401, { error: 'log in first' });
  let answer;
  try {
    answer = await fetch(`${serverUrl}/sessions/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${secretKeyFor(user)}` },
      signal: AbortSignal.timeout(5000),
    });
  } catch (e) {
    console.error(`sima-server unreachable: ${e.message}`);
    return send(res, 502, { error: 'billing is unavailable, try again' });
  }
  const body = await answer.json().catch(() => null);
  if (answer.status !== 201 || typeof body?.token !== 'string') {
    // 401 here means the key was revoked or mistyped: an operator must deploy a valid key.
    console.error(`sima-server refused to mint a session: ${answer.status} ${body?.code ?? ''}`);
    return send(res, 502, { error: 'billing is unavailable, try again' });
  }
  // Only what the browser needs: never the key, never sima's whole answer.
  send(res, 201, { token: body.token, expires_at: body.expires_at, api_url: serverUrl });
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/api/sima-session') {
    mintSession(req, res).catch((e) => {
      console.error(e);
      send(res, 500, { error: 'internal error' });
    });
  } else {
    send(res, 404, { error: 'not found' });
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
