// The demo's app server: plays the integrator's backend for web-demo/.
//
//   - serves the static pages of web-demo/ and the built `sima` package at /sima/
//     (wasm/src/*.js and wasm/dist/sima_core.{js,wasm});
//   - POST /api/session mints a browser session token (st_...) by calling sima-server's
//     POST /sessions/ with the organization's secret key. The secret key is read from a file
//     and stays in this process: it is never sent to a browser.
//   - GET /healthz answers {"status":"ok"} (scripts/demo waits for it).
//
// No npm dependencies (node:http only). Configuration by environment:
//   SIMA_DEMO_LISTEN   host:port to listen on        (default 127.0.0.1:3000)
//   SIMA_SERVER_URL    where sima-server is reached  (default http://127.0.0.1:8080)
//   SIMA_DEMO_KEY_FILE file holding the org's sk_... (default ../demo-data/org.key)
//   SIMA_DEMO_ORG_FILE JSON {org_id, name} shown on the page (optional)
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
  { prefix: '/sima/src/', dir: path.join(repo, 'wasm', 'src'), allow: /^[a-z]+\.js$/ },
  { prefix: '/sima/dist/', dir: path.join(repo, 'wasm', 'dist'), allow: /^sima_core\.(js|wasm)$/ },
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

async function serveFile(req, res, pathname) {
  if (pathname === '/') pathname = '/index.html';
  for (const { prefix, dir, allow } of MOUNTS) {
    if (!pathname.startsWith(prefix)) continue;
    const name = pathname.slice(prefix.length);
    if (!allow.test(name)) break; // no folders, no dotfiles, no traversal
    const file = path.join(dir, name);
    try {
      if (!(await stat(file)).isFile()) break;
      const data = await readFile(file);
      const type = TYPES[path.extname(name)] ?? 'application/octet-stream';
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': data.length, 'Cache-Control': 'no-cache' });
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
