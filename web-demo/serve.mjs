// The demo's app server: plays the integrator's backend for web-demo/.
//
//   - serves the static pages of web-demo/ and the `sima` package at /sima/ as it ships
//     (wasm/dist/: the minified modules, sima_core.js and sima_core.wasm, built by
//     scripts/build-wasm);
//   - POST /api/session mints a browser session token (st_...) by calling sima-server's
//     POST /sessions/ with the organization's secret key. The secret key is read from a file
//     and stays in this process: it is never sent to a browser.
//   - GET /healthz answers {"status":"ok"} (scripts/demo waits for it).
//   - GET /api/demo-clock answers sima-server's demo clock ({enabled: true, now, offset_seconds}),
//     or {enabled: false} when the server has none (SIMA_DEMO_CLOCK is off); POST /api/demo-clock {"advance_seconds": n}
//     moves it (sima-server's POST /demo/clock/, which needs the admin token: it stays here)
//     and the gateway simulator's clock (POST /_sim/clock) by the same step, so the demo shows
//     renewals, grace and expiry without waiting for them.
//
// No npm dependencies (node:http only). Configuration by environment:
//   SIMA_DEMO_LISTEN   host:port to listen on        (default 127.0.0.1:3000)
//   SIMA_SERVER_URL    where sima-server is reached  (default http://127.0.0.1:8080)
//   SIMA_DEMO_KEY_FILE file holding the org's sk_... (default ../demo-data/org.key)
//   SIMA_DEMO_ORG_FILE JSON {org_id, name} shown on the page (optional)
//   SIMA_ADMIN_TOKEN   sima-server's admin token, for the demo clock (optional: no skip-ahead)
//   SIMA_SIM_URL       the gateway simulator, whose clock moves with the server's (optional)
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const [host, port] = splitListen(process.env.SIMA_DEMO_LISTEN ?? '127.0.0.1:3000');
const serverUrl = (process.env.SIMA_SERVER_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const keyFile = process.env.SIMA_DEMO_KEY_FILE ?? path.join(repo, 'demo-data', 'org.key');
const orgFile = process.env.SIMA_DEMO_ORG_FILE ?? path.join(path.dirname(keyFile), 'org.json');
const adminToken = process.env.SIMA_ADMIN_TOKEN ?? '';
const simUrl = (process.env.SIMA_SIM_URL ?? '').replace(/\/+$/, '');
const MAX_ADVANCE = 400 * 86400; // as sima-server and the simulator accept

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

// URL prefix -> folder, and which files below it may be served.
const MOUNTS = [
  { prefix: '/sima/', dir: path.join(repo, 'wasm', 'dist'), allow: /^[a-z_]+\.(js|wasm)$/ },
  { prefix: '/', dir: here, allow: /^[a-z0-9-]+\.(html|css|js|svg|ico)$/ },
];

function splitListen(listen) {
  const colon = listen.lastIndexOf(':');
  return [listen.slice(0, colon), Number(listen.slice(colon + 1))];
}

function send(res, status, body, type = 'application/json; charset=utf-8', extra = {}) {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(data), ...extra });
  res.end(data);
}

async function secretKey() {
  const key = (await readFile(keyFile, 'utf8')).trim();
  if (!key.startsWith('sk_')) throw new Error(`${keyFile} does not hold a secret key`);
  return key;
}

async function orgInfo() {
  try {
    const org = JSON.parse(await readFile(orgFile, 'utf8'));
    return { org_id: org.org_id ?? null, name: org.name ?? null };
  } catch {
    return { org_id: null, name: null };
  }
}

// POST /api/session: what a real backend does after its own login check.
async function mintSession(res) {
  let answer;
  try {
    answer = await fetch(`${serverUrl}/sessions/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await secretKey()}` },
    });
  } catch (e) {
    return send(res, 502, { error: `sima-server is not reachable: ${e.message}`, code: 'upstream_unreachable' });
  }
  const body = await answer.json().catch(() => null);
  if (answer.status !== 201 || typeof body?.token !== 'string') {
    return send(res, 502, { error: 'sima-server refused to mint a session', code: 'upstream_error', status: answer.status });
  }
  send(res, 201, { token: body.token, expires_at: body.expires_at, api_url: serverUrl, org: await orgInfo() },
    'application/json; charset=utf-8', { 'Cache-Control': 'no-store' });
}

// GET/POST /api/demo-clock: the server's demo clock through its admin API (the token never
// leaves this process). Without one (no token here, or SIMA_DEMO_CLOCK off on the server) GET
// answers {enabled: false} and POST 404.
const NO_CLOCK = { error: 'sima-server has no demo clock (SIMA_DEMO_CLOCK is off)', code: 'not_found' };
async function demoClock(req, res) {
  const none = () => (req.method === 'POST' ? send(res, 404, NO_CLOCK) : send(res, 200, { enabled: false }));
  if (!adminToken) return none();
  let advance = null;
  if (req.method === 'POST') {
    const body = await readJson(req);
    advance = body?.advance_seconds;
    if (!Number.isInteger(advance) || advance < 1 || advance > MAX_ADVANCE) {
      return send(res, 400, { error: `advance_seconds must be a whole number from 1 to ${MAX_ADVANCE}`, code: 'validation_error', field: 'advance_seconds' });
    }
  }
  const init = { method: req.method === 'POST' ? 'POST' : 'GET', headers: { Authorization: `Bearer ${adminToken}` } };
  if (advance !== null) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify({ advance_seconds: advance });
  }
  let answer;
  try {
    answer = await fetch(`${serverUrl}/demo/clock/`, init);
  } catch (e) {
    return send(res, 502, { error: `sima-server is not reachable: ${e.message}`, code: 'upstream_unreachable' });
  }
  const clock = await answer.json().catch(() => null);
  if (answer.status === 404) return none();
  if (answer.status !== 200 || typeof clock?.offset_seconds !== 'number') {
    return send(res, 502, { error: 'sima-server refused to move its clock', code: 'upstream_error', status: answer.status });
  }
  if (advance !== null && simUrl) {
    // The simulator's clock follows, so a payment started after the jump is not an expired pidx.
    const sim = await fetch(`${simUrl}/_sim/clock`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ advance_seconds: advance }) }).catch((e) => ({ ok: false, status: e.message }));
    if (!sim.ok) console.error(`serve.mjs: the simulator's clock did not move (${sim.status})`);
  }
  send(res, 200, { enabled: true, now: clock.now, offset_seconds: clock.offset_seconds }, 'application/json; charset=utf-8', { 'Cache-Control': 'no-store' });
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 4096) return null;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}

async function serveFile(req, res, pathname) {
  if (pathname === '/') pathname = '/index.html';
  for (const { prefix, dir, allow } of MOUNTS) {
    if (!pathname.startsWith(prefix)) continue;
    const name = pathname.slice(prefix.length);
    if (!allow.test(name)) break; // no folders, no dotfiles, no traversal
    const file = path.join(dir, name);
    try {
      const info = await stat(file);
      if (!info.isFile()) break;
      const type = TYPES[path.extname(name)] ?? 'application/octet-stream';
      // no-cache: the browser asks every time (a rebuilt package shows at once) and a returning
      // visitor's unchanged files come back as 304 from its cache (with the compiled wasm).
      const etag = `"${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ETag: etag, 'Cache-Control': 'no-cache' });
        res.end();
        return;
      }
      const data = await readFile(file);
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': data.length, 'Cache-Control': 'no-cache', ETag: etag });
      res.end(req.method === 'HEAD' ? undefined : data);
      return;
    } catch {
      break;
    }
  }
  send(res, 404, '<!doctype html><title>Not found</title><p>Not found. <a href="/">Back to the dashboard</a></p>',
    'text/html; charset=utf-8');
}

const server = http.createServer(async (req, res) => {
  const { pathname } = new URL(req.url, 'http://localhost');
  try {
    if (pathname === '/healthz') return send(res, 200, { status: 'ok' });
    if (pathname === '/api/session') {
      if (req.method !== 'POST') return send(res, 405, { error: 'use POST', code: 'method_not_allowed' }, undefined, { Allow: 'POST' });
      req.resume();
      return await mintSession(res);
    }
    if (pathname === '/api/demo-clock') {
      if (req.method !== 'GET' && req.method !== 'POST') return send(res, 405, { error: 'use GET or POST', code: 'method_not_allowed' }, undefined, { Allow: 'GET, POST' });
      return await demoClock(req, res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, { error: 'use GET', code: 'method_not_allowed' }, undefined, { Allow: 'GET, HEAD' });
    }
    return await serveFile(req, res, decodeURIComponent(pathname));
  } catch (e) {
    if (!res.headersSent) send(res, 500, { error: 'internal error', code: 'internal_error' });
    console.error(`serve.mjs: ${req.method} ${pathname}: ${e.message}`);
  }
});

server.listen(port, host, () => {
  console.error(`serve.mjs: web demo on http://${host}:${server.address().port}/ (sima-server ${serverUrl})`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
