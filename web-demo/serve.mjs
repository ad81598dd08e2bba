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
//   - POST /webhooks/ receives sima-server's webhooks, as an integrator's backend does: the raw
//     body is checked with `verifyWebhook` from the package (`sima/webhooks`), the last 50
//     genuine events are kept in memory, anything else is refused with 400 and counted.
//     GET /demo/webhooks.json lists them for webhooks.html. At start, with the admin token,
//     this process registers itself as a server-wide endpoint (POST /admin/webhooks/) and keeps
//     the secret it is given in memory only: never written, logged or sent to a browser.
//
// Dependencies: node:* and the sima package (`web-demo/node_modules/sima`, a link to wasm/
// that scripts/demo makes, as `npm install ../wasm` would). Configuration by environment:
//   SIMA_DEMO_LISTEN   host:port to listen on        (default 127.0.0.1:3000)
//   SIMA_SERVER_URL    where sima-server is reached  (default http://127.0.0.1:8080)
//   SIMA_DEMO_KEY_FILE file holding the org's sk_... (default ../demo-data/org.key)
//   SIMA_DEMO_ORG_FILE JSON {org_id, name} shown on the page (optional)
//   SIMA_ADMIN_TOKEN   sima-server's admin token, for the demo clock (optional: no skip-ahead)
//   SIMA_SIM_URL       the gateway simulator, whose clock moves with the server's (optional)
//   SIMA_DEMO_WEBHOOK_URL where sima-server reaches POST /webhooks/ (default: this listener's
//                      http://127.0.0.1:<port>/webhooks/)
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyWebhook, WebhookVerificationError } from 'sima/webhooks';

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

// --- webhooks -----------------------------------------------------------------------------------

const WEBHOOK_DESCRIPTION = 'sima web demo (web-demo/serve.mjs)';
const KEEP_EVENTS = 50;
const MAX_WEBHOOK_BODY = 256 * 1024; // sima's events are a few KB
const hooks = {
  secret: null, // the endpoint's whsec_...: this process's memory only
  endpoint: { id: null, url: null, status: 'not_registered', error: null },
  events: [], // newest first, at most KEEP_EVENTS
  received: 0,
  duplicates: 0,
  rejected: 0,
  lastRejection: null,
};

async function adminCall(method, route, body) {
  const res = await fetch(`${serverUrl}${route}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

// Registers this process as a server-wide endpoint. A run of the demo on the same data reuses
// its endpoint (same URL) with a new secret: the old one is only in a process that has ended,
// so it is rotated without overlap. Endpoints an earlier run left on another URL are removed,
// or sima-server would keep retrying a port nobody listens on.
async function registerWebhooks(url) {
  const list = await adminCall('GET', '/admin/webhooks/');
  if (list.status !== 200) return list;
  let mine = null;
  for (const e of list.body?.items ?? []) {
    if (e.url === url && !mine) mine = e;
    else if (e.description === WEBHOOK_DESCRIPTION) await adminCall('DELETE', `/admin/webhooks/${e.id}/`);
  }
  if (mine && !mine.enabled) {
    const patched = await adminCall('PATCH', `/admin/webhooks/${mine.id}/`, { enabled: true });
    if (patched.status !== 200) return patched;
  }
  const answer = mine
    ? await adminCall('POST', `/admin/webhooks/${mine.id}/rotate/`, { overlap_hours: 0 })
    : await adminCall('POST', '/admin/webhooks/', { url, description: WEBHOOK_DESCRIPTION });
  if ((answer.status === 200 || answer.status === 201) && typeof answer.body?.secret === 'string') {
    hooks.secret = answer.body.secret;
    Object.assign(hooks.endpoint, { id: answer.body.endpoint?.id ?? null, url, status: 'registered', error: null });
  }
  return answer;
}

// Tries until sima-server takes the registration; stops on an answer that will not change by
// waiting (no admin token, no such route, a refused URL).
async function keepRegistering(url) {
  hooks.endpoint.url = url;
  if (!adminToken) {
    Object.assign(hooks.endpoint, { status: 'not_registered', error: 'no SIMA_ADMIN_TOKEN: this demo cannot register for webhooks' });
    return;
  }
  for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
    let answer;
    try {
      answer = await registerWebhooks(url);
    } catch (e) {
      answer = { status: 0, body: { error: `sima-server is not reachable: ${e.message}` } };
    }
    if (hooks.secret) {
      console.error(`serve.mjs: receiving webhooks at ${url} (endpoint ${hooks.endpoint.id})`);
      return;
    }
    const why = `POST /admin/webhooks/ answered ${answer.status}: ${answer.body?.error ?? 'no JSON'}`;
    Object.assign(hooks.endpoint, { status: 'failed', error: why });
    if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) {
      console.error(`serve.mjs: webhooks not registered (${why})`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, delay).unref());
  }
}

// What the page shows of an event: a line a person can read at a glance.
function summarize(event) {
  const d = event.data ?? {};
  const rupees = (paisa) => (typeof paisa === 'number' ? `NPR ${(paisa / 100).toLocaleString('en-US')}` : '');
  if (d.usage) { // usage.threshold_crossed: {usage: {feature, threshold, used, limit, plan, ...}, subscription}
    const u = d.usage;
    const level = u.threshold === 'over' ? 'over the limit' : u.threshold ? `${u.threshold} %` : '';
    return [u.feature, typeof u.used === 'number' && typeof u.limit === 'number' ? `${u.used}/${u.limit}` : '', level, u.plan && `on ${u.plan}`]
      .filter(Boolean).join(' · ');
  }
  if (d.payment) {
    const p = d.payment;
    const provider = { khalti: 'Khalti', esewa: 'eSewa' }[String(p.provider).toLowerCase()] ?? p.provider;
    return [provider, rupees(p.amount_paisa), p.plan && `for ${p.plan}`, p.status && `(${p.status})`].filter(Boolean).join(' ');
  }
  if (d.subscription) {
    const sub = d.subscription;
    const was = d.previous_plan && d.previous_plan !== sub.plan ? `, was ${d.previous_plan}` : '';
    return `${sub.plan ?? '?'} plan, ${sub.state ?? 'state unknown'}${was}`;
  }
  return Object.keys(d).join(', ');
}

// POST /webhooks/: what an integrator's receiver does. The body is read raw and bounded: the
// signature covers its exact bytes, so it must not be parsed before it is verified.
async function receiveWebhook(req, res) {
  const refuse = (status, code, error) => {
    hooks.rejected += 1;
    hooks.lastRejection = { code, at: new Date().toISOString() };
    send(res, status, { error, code });
  };
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size <= MAX_WEBHOOK_BODY) chunks.push(chunk); // past it, read to the end to answer
  }
  if (size > MAX_WEBHOOK_BODY) return refuse(413, 'too_large', `a webhook body is at most ${MAX_WEBHOOK_BODY} bytes`);
  // No secret yet (not registered): 503, so sima-server tries again later.
  if (!hooks.secret) return send(res, 503, { error: 'this receiver is not registered yet', code: 'not_registered' });
  let event;
  try {
    event = verifyWebhook(Buffer.concat(chunks), req.headers['sima-signature'], hooks.secret);
  } catch (e) {
    if (!(e instanceof WebhookVerificationError)) throw e;
    return refuse(400, e.code, e.message);
  }
  // At least once: a retry or a re-send brings an event again; its id says so.
  if (hooks.events.some((seen) => seen.id === event.id)) {
    hooks.duplicates += 1;
    return send(res, 200, { received: true, duplicate: true });
  }
  hooks.received += 1;
  hooks.events.unshift({
    id: event.id, type: event.type, org_id: event.org_id ?? null, created: event.created ?? null, sequence: event.sequence ?? null,
    received_at: new Date().toISOString(), summary: summarize(event), verified: true,
  });
  hooks.events.length = Math.min(hooks.events.length, KEEP_EVENTS);
  send(res, 200, { received: true });
}

function webhooksJson(res) {
  send(res, 200, {
    endpoint: hooks.endpoint, received: hooks.received, duplicates: hooks.duplicates, rejected: hooks.rejected,
    last_rejection: hooks.lastRejection, events: hooks.events,
  }, 'application/json; charset=utf-8', { 'Cache-Control': 'no-store' });
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
    if (pathname === '/webhooks/' || pathname === '/webhooks') {
      if (req.method !== 'POST') return send(res, 405, { error: 'use POST', code: 'method_not_allowed' }, undefined, { Allow: 'POST' });
      return await receiveWebhook(req, res);
    }
    if (pathname === '/demo/webhooks.json') {
      if (req.method !== 'GET') return send(res, 405, { error: 'use GET', code: 'method_not_allowed' }, undefined, { Allow: 'GET' });
      return webhooksJson(res);
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
  const { port: bound } = server.address();
  console.error(`serve.mjs: web demo on http://${host}:${bound}/ (sima-server ${serverUrl})`);
  const local = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  keepRegistering(process.env.SIMA_DEMO_WEBHOOK_URL ?? `http://${local.includes(':') ? `[${local}]` : local}:${bound}/webhooks/`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
