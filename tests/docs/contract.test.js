// docs/openapi.json describes what sima-server really answers: requests of every kind go to a
// real server, and each answer's status must be one the document lists for that operation and
// its body must match the documented schema (Ajv, JSON Schema 2020-12).
// Needs a built sima-server: SIMA_SERVER_BIN, or build/release (or build/debug) in the repo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const doc = JSON.parse(readFileSync(`${repo}/docs/openapi.json`, 'utf8'));
const serverBin = [process.env.SIMA_SERVER_BIN, `${repo}/build/release/server/sima-server`,
  `${repo}/build/debug/server/sima-server`].find((p) => p && existsSync(p));
const admin = `admin-${process.pid}-${Math.random().toString(36).slice(2)}`;

const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
addFormats(ajv);
ajv.addKeyword('components');
ajv.addSchema({ $id: 'openapi.json', components: doc.components }, 'openapi.json');

const simBin = [process.env.SIMA_SIM_BIN, `${repo}/build/release/simulator/sima-gateway-sim`,
  `${repo}/build/debug/simulator/sima-gateway-sim`].find((p) => p && existsSync(p));
const children = [];
let dir, base, sim;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url, child, name) {
  for (let i = 0; i < 750; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}`);
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${name} did not start`);
}

before(async () => {
  assert.ok(serverBin, 'no sima-server binary: build it or set SIMA_SERVER_BIN');
  assert.ok(simBin, 'no sima-gateway-sim binary: build it or set SIMA_SIM_BIN');
  dir = mkdtempSync(path.join(tmpdir(), 'sima-contract-'));
  const simPort = await freePort();
  sim = `http://127.0.0.1:${simPort}`;
  const simChild = spawn(simBin, ['--listen', `127.0.0.1:${simPort}`, '--quiet'], { stdio: 'ignore' });
  children.push(simChild);
  await waitHealthy(`${sim}/_sim/health`, simChild, 'sima-gateway-sim');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const server = spawn(serverBin, [], {
    stdio: 'ignore',
    env: {
      ...process.env,
      SIMA_LISTEN: `127.0.0.1:${port}`, SIMA_DB: `${dir}/sima.db`, SIMA_ACCESS_LOG: 'off',
      SIMA_MAX_BODY: '2048', SIMA_ADMIN_TOKEN: admin, SIMA_PUBLIC_URL: base,
      SIMA_APP_URL: 'http://app.test/', SIMA_MAIL_DIR: `${dir}/mail`,
      KHALTI_BASE_URL: `${sim}/api/v2/`, KHALTI_SECRET_KEY: 'live_secret_key_68791341fdd94846a146f0457ff7b455',
      KHALTI_TIMEOUT_MS: '2000',
      ESEWA_FORM_URL: `${sim}/api/epay/main/v2/form`, ESEWA_STATUS_URL: `${sim}/api/epay/transaction/status/`,
      ESEWA_PRODUCT_CODE: 'EPAYTEST', ESEWA_SECRET_KEY: '8gBm/:&EnhH.1/q',
    },
  });
  children.push(server);
  await waitHealthy(`${base}/healthz`, server, 'sima-server');
});

after(() => {
  for (const c of children) c.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const resolve = (o) => (o?.$ref ? o.$ref.split('/').slice(1).reduce((x, k) => x[k.replaceAll('~1', '/').replaceAll('~0', '~')], doc) : o);
const anchored = (schema) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/'));
let problems = [];

// One request; `template` is the documented path. Checks the answer against the document.
async function call(method, template, url, { token, body, raw, type = 'application/json' } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) { payload = raw; headers['Content-Type'] = type; }
  else if (body !== undefined) { payload = JSON.stringify(body); headers['Content-Type'] = type; }
  const res = await fetch(base + url, { method, headers, body: payload, redirect: 'manual' });
  const text = await res.text();
  const answerType = res.headers.get('content-type') ?? '';
  const isHtml = answerType.startsWith('text/html');
  const json = text && !isHtml ? JSON.parse(text) : undefined;
  const where = `${method} ${url} -> ${res.status}`;
  const op = doc.paths[template]?.[method.toLowerCase()];
  if (!op) { problems.push(`${where}: ${method} ${template} is not in the document`); return { status: res.status, body: json }; }
  const documented = resolve(op.responses[String(res.status)]);
  if (!documented) {
    problems.push(`${where}: status ${res.status} is not documented (${Object.keys(op.responses)}) ${text.slice(0, 200)}`);
  } else if (isHtml) {
    if (!documented.content?.['text/html']) problems.push(`${where}: an HTML page, but none is documented`);
    if (/"code"\s*:/.test(text)) problems.push(`${where}: an HTML page carrying a JSON error`);
  } else if (json !== undefined) {
    if (documented.content?.['text/html']) problems.push(`${where}: JSON where a page is documented`);
    const schema = documented.content?.['application/json']?.schema;
    if (!schema) problems.push(`${where}: a body, but none is documented`);
    else {
      const validate = ajv.compile(anchored(schema));
      if (!validate(json)) problems.push(`${where}: ${text.slice(0, 300)}\n    ${ajv.errorsText(validate.errors)}`);
    }
  }
  if (res.headers.get('cache-control') !== 'no-store') problems.push(`${where}: Cache-Control is not no-store`);
  return { status: res.status, body: json, headers: res.headers };
}

test('every answer of a tour of the API is documented in openapi.json', async () => {
  problems = [];
  await call('GET', '/healthz', '/healthz');
  await call('GET', '/billing/plans/', '/billing/plans/');
  await call('POST', '/admin/orgs/', '/admin/orgs/', { token: admin, body: { name: '' } });
  await call('POST', '/admin/orgs/', '/admin/orgs/', { token: admin, body: { name: 'A', plan: 'GOLD' } });
  await call('POST', '/admin/orgs/', '/admin/orgs/', { body: { name: 'A' } });
  const org = await call('POST', '/admin/orgs/', '/admin/orgs/', { token: admin, body: { name: 'Acme', billing_email: 'b@acme.example' } });
  const key = org.body.api_key;
  await call('POST', '/admin/orgs/', '/admin/orgs/', { token: key, body: { name: 'B' } });

  const s = await call('POST', '/sessions/', '/sessions/', { token: key });
  const st = s.body.token;
  await call('POST', '/sessions/', '/sessions/', { token: st });
  await call('GET', '/billing/usage/', '/billing/usage/', { token: st });
  await call('GET', '/billing/usage/', '/billing/usage/', { token: 'st_nope' });
  await call('GET', '/billing/usage/', '/billing/usage/', { token: admin });

  const c = await call('POST', '/customers/', '/customers/', { token: st, body: { name: 'Ram', email: 'ram@example.np' } });
  await call('POST', '/customers/', '/customers/', { token: st, body: { name: 'Ram', email: 'not-an-email' } });
  await call('GET', '/customers/', '/customers/?limit=2', { token: st });
  await call('GET', '/customers/{id}/', `/customers/${c.body.id}/`, { token: st });
  await call('GET', '/customers/{id}/', '/customers/cus_00000000000000000000/', { token: st });

  for (let i = 0; i < 11; i++) {
    await call('POST', '/invoices/', '/invoices/', { token: key, body: { amount_paisa: 250000, customer_id: c.body.id, description: 'x' } });
  }
  await call('POST', '/invoices/', '/invoices/', { token: key, body: { amount_paisa: 1, amount: 1 } });
  await call('POST', '/invoices/', '/invoices/', { token: key, raw: '{"amount_paisa":', type: 'application/json' });
  await call('POST', '/invoices/', '/invoices/', { token: key, raw: 'amount_paisa=1', type: 'application/x-www-form-urlencoded' });
  await call('POST', '/invoices/', '/invoices/', { token: key, raw: JSON.stringify({ description: 'x'.repeat(4000) }) });
  const list = await call('GET', '/invoices/', '/invoices/?limit=3', { token: key });
  await call('GET', '/invoices/', '/invoices/?limit=0', { token: key });
  await call('GET', '/invoices/{id}/', `/invoices/${list.body.items[0].id}/`, { token: key });

  await call('POST', '/team-members/', '/team-members/', { token: st, body: { email: 'sita@example.np' } });
  await call('POST', '/team-members/', '/team-members/', { token: st, body: { email: 'gita@example.np', name: 'Gita' } });
  await call('GET', '/team-members/', '/team-members/', { token: st });

  await call('POST', '/usage/{feature}/', '/usage/api_calls/', { token: st, body: { quantity: 2, idempotency_key: 'k-1' } });
  await call('POST', '/usage/{feature}/', '/usage/api_calls/', { token: st, body: { quantity: 2, idempotency_key: 'k-1' } });
  await call('POST', '/usage/{feature}/', '/usage/api_calls/', { token: st, body: { quantity: 3, idempotency_key: 'k-1' } });
  await call('POST', '/usage/{feature}/', '/usage/nope/', { token: st, body: {} });
  await call('POST', '/usage/{feature}/', '/usage/customers/', { token: st, body: { quantity: 100 } });

  // Kinds: a release the server refuses (it counts seats itself), a metered release, a switch
  // that is off, a value that fits and one that does not.
  await call('POST', '/usage/{feature}/', '/usage/team_members/', { token: st, body: { quantity: -1 } });
  await call('POST', '/usage/{feature}/', '/usage/invoices/', { token: st, body: { quantity: -1 } });
  const sw = await call('POST', '/usage/{feature}/', '/usage/pdf_export/', { token: st, body: {} });
  assert.equal(sw.status, 403);
  assert.equal(sw.body.upgrade.plan, 'BASIC');
  await call('POST', '/usage/{feature}/', '/usage/attachment_mb/', { token: st, body: { quantity: 5 } });
  await call('POST', '/usage/{feature}/', '/usage/attachment_mb/', { token: st, body: { quantity: 50 } });

  // Deletes free their place.
  const members = await call('GET', '/team-members/', '/team-members/', { token: st });
  const member = `/team-members/${members.body.items[0].id}/`;
  assert.equal((await call('DELETE', '/team-members/{id}/', member, { token: st })).status, 204);
  await call('DELETE', '/team-members/{id}/', member, { token: st });
  await call('DELETE', '/customers/{id}/', `/customers/${c.body.id}/`, { token: key, body: {} });
  await call('DELETE', '/customers/{id}/', '/customers/cus_00000000000000000000/', { token: key });

  // Overrides: set (a switch until a date, a deal on BASIC), refused, in force, listed, cleared.
  const overrides = `/admin/orgs/${org.body.org_id}/overrides/`;
  const one = '/admin/orgs/{org_id}/overrides/{feature}/';
  await call('PUT', one, `${overrides}pdf_export/`, { token: admin, body: { limit: true, until: '2099-01-01T00:00:00Z', reason: 'trial' } });
  await call('PUT', one, `${overrides}invoices/`, { token: admin, body: { limit: 5000, plan: 'BASIC', reason: 'deal #42' } });
  await call('PUT', one, `${overrides}invoices/`, { token: admin, body: { limit: true } });
  await call('PUT', one, `${overrides}invoices/`, { token: admin, body: { limit: 5, until: '2000-01-01T00:00:00Z' } });
  await call('PUT', one, `${overrides}nope/`, { token: admin, body: { limit: 1 } });
  await call('PUT', one, `${overrides}invoices/`, { token: key, body: { limit: 1 } });
  assert.equal((await call('POST', '/usage/{feature}/', '/usage/pdf_export/', { token: st, body: {} })).status, 200);
  const usage = await call('GET', '/billing/usage/', '/billing/usage/', { token: st });
  assert.equal(usage.body.overrides.length, 2);
  await call('GET', '/admin/orgs/{org_id}/overrides/', overrides, { token: admin });
  await call('DELETE', one, `${overrides}invoices/`, { token: admin, body: { reason: 'deal ended' } });
  await call('DELETE', one, `${overrides}invoices/`, { token: admin });
  await call('GET', '/admin/orgs/{org_id}/overrides/', '/admin/orgs/org_00000000000000000000/overrides/', { token: admin });

  await call('POST', '/billing/khalti/init/', '/billing/khalti/init/', { token: st, body: { plan: 'FREE' } });
  await call('POST', '/billing/khalti/init/', '/billing/khalti/init/', { token: st, body: { plan: 'PRO', amount: 1 } });
  await call('POST', '/billing/esewa/init/', '/billing/esewa/init/', { token: st, body: { plan: 'PRO' } });
  await call('POST', '/billing/khalti/verify/', '/billing/khalti/verify/', { token: st, body: { payment_id: 999 } });
  await call('POST', '/billing/esewa/verify/', '/billing/esewa/verify/', { token: st, body: { payment_id: 'x' } });
  await call('GET', '/billing/payments/', '/billing/payments/', { token: st });
  await call('GET', '/billing/payments/{id}/', '/billing/payments/7/', { token: st });
  await call('GET', '/billing/khalti/callback/', '/billing/khalti/callback/?pidx=unknown');
  await call('GET', '/billing/esewa/callback/', '/billing/esewa/callback/?data=bm90IHNpZ25lZA==');

  // Renewals: the subscription, a change at the end and its undo, quotes, a trial.
  const paid = await call('POST', '/admin/orgs/', '/admin/orgs/', { token: admin, body: { name: 'Paid', plan: 'PRO' } });
  const pk = paid.body.api_key;
  const sub = await call('GET', '/billing/subscription/', '/billing/subscription/', { token: pk });
  assert.equal(sub.body.subscription.state, 'active');
  await call('GET', '/billing/subscription/', '/billing/subscription/', { token: 'sk_nope' });
  await call('POST', '/billing/subscription/', '/billing/subscription/', { token: pk, body: { change: 'switch', plan: 'BASIC' } });
  await call('POST', '/billing/subscription/', '/billing/subscription/', { token: pk, body: { change: 'cancel' } });
  await call('POST', '/billing/subscription/', '/billing/subscription/', { token: pk, body: { change: 'undo' } });
  await call('POST', '/billing/subscription/', '/billing/subscription/', { token: pk, body: { change: 'switch' } });
  await call('POST', '/billing/subscription/', '/billing/subscription/', { token: pk, body: { change: 'switch', plan: 'GOLD' } });
  await call('POST', '/billing/subscription/', '/billing/subscription/', { token: st, body: { change: 'cancel' } });
  const quote = await call('GET', '/billing/quote/', '/billing/quote/?plan=PRO', { token: st });
  assert.equal(quote.status, 200);
  await call('GET', '/billing/quote/', '/billing/quote/?plan=BASIC', { token: pk });
  await call('GET', '/billing/quote/', '/billing/quote/?plan=GOLD', { token: pk });
  await call('GET', '/billing/quote/', '/billing/quote/', { token: pk });
  const trial = '/admin/orgs/{org_id}/trial/';
  await call('POST', trial, `/admin/orgs/${org.body.org_id}/trial/`, { token: admin, body: { plan: 'PRO', days: 7 } });
  await call('POST', trial, `/admin/orgs/${org.body.org_id}/trial/`, { token: admin, body: { plan: 'PRO', days: 0 } });
  await call('POST', trial, `/admin/orgs/${paid.body.org_id}/trial/`, { token: admin, body: { plan: 'BASIC', days: 7 } });
  await call('POST', trial, '/admin/orgs/org_00000000000000000000/trial/', { token: admin, body: { plan: 'PRO', days: 7 } });
  await call('POST', trial, `/admin/orgs/${org.body.org_id}/trial/`, { token: key, body: { plan: 'PRO', days: 7 } });

  // Pay links: pages for people, never JSON. The demo clock does not exist without its setting.
  await call('GET', '/pay/{token}/', '/pay/not-a-token/');
  await call('POST', '/pay/{token}/', '/pay/not-a-token/', { raw: 'provider=khalti', type: 'application/x-www-form-urlencoded' });
  await call('GET', '/demo/clock/', '/demo/clock/', { token: admin });

  assert.deepEqual(problems, [], `answers that openapi.json does not describe:\n${problems.join('\n')}`);
});

// The live usage stream never ends: its head is checked, then the first event's data against
// the Usage schema, and the stream is dropped.
test('the live usage events answer as documented in openapi.json', async () => {
  problems = [];
  const org = await call('POST', '/admin/orgs/', '/admin/orgs/', { token: admin, body: { name: 'Live' } });
  const other = await call('POST', '/admin/orgs/', '/admin/orgs/', { token: admin, body: { name: 'Other' } });
  const key = org.body.api_key;
  const stream = '/events/{org_id}/';
  const path = `/events/${org.body.org_id}/`;
  await call('GET', stream, path);
  await call('GET', stream, `${path}?token=${key}`, { token: key });
  await call('GET', stream, `/events/${other.body.org_id}/`, { token: key });
  await call('GET', stream, path, { token: admin });
  const auth = '/events/{org_id}/auth/';
  assert.equal((await call('GET', auth, `${path}auth/`, { token: key })).status, 204);
  await call('GET', auth, `/events/${other.body.org_id}/auth/`, { token: key });
  await call('GET', auth, `${path}auth/`, { token: 'sk_nope' });

  const abort = new AbortController();
  const res = await fetch(base + path, { headers: { Authorization: `Bearer ${key}` }, signal: abort.signal });
  const ok = doc.paths[stream].get.responses[String(res.status)];
  assert.ok(ok?.content?.['text/event-stream'], `GET ${path} -> ${res.status}: not a documented stream`);
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('x-accel-buffering'), 'no');
  const reader = res.body.getReader();
  let text = '';
  while (!/\ndata: .*\n\n/.test(text)) {
    const { value, done } = await reader.read();
    assert.ok(!done, `the stream ended before its first event: ${text}`);
    text += new TextDecoder().decode(value);
  }
  abort.abort();
  assert.match(text, /^retry: 3000\n\nid: \d+-[0-9a-f]{16}\nevent: usage\ndata: /);
  const data = JSON.parse(text.match(/\ndata: (.*)\n\n/)[1]);
  const validate = ajv.compile({ $ref: 'openapi.json#/components/schemas/Usage' });
  assert.ok(validate(data), ajv.errorsText(validate.errors));
  assert.equal(text.match(/\nid: (.*)\n/)[1], data.version);
  assert.deepEqual(problems, [], `answers that openapi.json does not describe:\n${problems.join('\n')}`);
});

test('every answer of the webhook admin API is documented in openapi.json', async () => {
  problems = [];
  const org = await call('POST', '/admin/orgs/', '/admin/orgs/', { token: admin, body: { name: 'Hooked', billing_email: 'h@acme.example' } });
  const orgId = org.body.org_id;
  const key = org.body.api_key;
  const hooks = '/admin/webhooks/';
  const url = 'https://hooks.example.com/sima';
  const created = await call('POST', hooks, hooks, { token: admin, body: { url, description: 'billing', org_id: orgId } });
  assert.equal(created.status, 201);
  const wide = await call('POST', hooks, hooks, { token: admin, body: { url } });
  assert.equal(wide.status, 201);
  await call('POST', hooks, hooks, { token: admin, body: { url: 'http://127.0.0.1:9/' } });
  await call('POST', hooks, hooks, { token: admin, body: { url, org_id: 'org_00000000000000000000' } });
  await call('POST', hooks, hooks, { token: admin, raw: '{"url":' });
  await call('POST', hooks, hooks, { token: admin, raw: 'url=x', type: 'application/x-www-form-urlencoded' });
  await call('POST', hooks, hooks, { token: admin, raw: JSON.stringify({ url: `${url}/${'a'.repeat(3000)}` }) });
  await call('POST', hooks, hooks, { body: { url } });
  await call('POST', hooks, hooks, { token: key, body: { url } });
  await call('GET', hooks, hooks, { token: admin });
  await call('GET', hooks, `${hooks}?org_id=${orgId}`, { token: admin });
  await call('GET', hooks, `${hooks}?org_id=nope`, { token: admin });

  const one = '/admin/webhooks/{endpoint_id}/';
  const id = created.body.endpoint.id;
  await call('GET', one, `${hooks}${id}/`, { token: admin });
  await call('GET', one, `${hooks}we_AAAAAAAAAAAAAAAAAAAAAA/`, { token: admin });
  await call('PATCH', one, `${hooks}${id}/`, { token: admin, body: { enabled: false, description: '' } });
  await call('PATCH', one, `${hooks}${id}/`, { token: admin, body: { enabled: 'no' } });
  await call('PATCH', one, `${hooks}${id}/`, { token: admin, body: { enabled: true } });
  const rotate = '/admin/webhooks/{endpoint_id}/rotate/';
  await call('POST', rotate, `${hooks}${id}/rotate/`, { token: admin });
  await call('POST', rotate, `${hooks}${id}/rotate/`, { token: admin, body: { overlap_hours: 0 } });
  await call('POST', rotate, `${hooks}${id}/rotate/`, { token: admin, body: { overlap_hours: 169 } });

  // Events of this organization (a trial is a change of its subscription).
  await call('POST', '/admin/orgs/{org_id}/trial/', `/admin/orgs/${orgId}/trial/`, { token: admin, body: { plan: 'PRO', days: 7 } });
  const events = '/admin/webhook-events/';
  const list = await call('GET', events, `${events}?org_id=${orgId}&limit=1`, { token: admin });
  await call('GET', events, `${events}?limit=0`, { token: admin });
  await call('GET', events, events, { token: key });
  const event = '/admin/webhook-events/{event_id}/';
  const resend = '/admin/webhook-events/{event_id}/resend/';
  for (const e of list.body.items) {
    await call('GET', event, `${events}${e.id}/`, { token: admin });
    await call('POST', resend, `${events}${e.id}/resend/`, { token: admin });
    await call('POST', resend, `${events}${e.id}/resend/`, { token: admin, body: { endpoint_id: wide.body.endpoint.id } });
    await call('POST', resend, `${events}${e.id}/resend/`, { token: admin, body: { endpoint_id: 'nope' } });
  }
  await call('GET', event, `${events}evt_AAAAAAAAAAAAAAAAAAAAAA/`, { token: admin });
  await call('POST', resend, `${events}evt_AAAAAAAAAAAAAAAAAAAAAA/resend/`, { token: admin });

  assert.equal((await call('DELETE', one, `${hooks}${id}/`, { token: admin })).status, 204);
  await call('DELETE', one, `${hooks}${id}/`, { token: admin });
  assert.deepEqual(problems, [], `answers that openapi.json does not describe:\n${problems.join('\n')}`);
});

async function simCall(method, url, body) {
  const res = await fetch(sim + url, { method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  assert.ok(res.ok, `${method} ${url} at the simulator: ${res.status}`);
  return res.json();
}

// The browser posting eSewa's form, as integration.md shows.
async function postForm(init) {
  const res = await fetch(init.form_url, { method: 'POST', body: new URLSearchParams(init.fields), redirect: 'manual' });
  assert.ok(res.status < 400, `eSewa's form refused the fields: ${res.status} ${await res.text()}`);
}

// The browser following a gateway's redirect back to sima-server's target.
async function follow(template, redirectUrl) {
  const u = new URL(redirectUrl);
  assert.equal(u.origin, base, `the gateway sends the browser back to sima-server: ${redirectUrl}`);
  return call('GET', template, u.pathname + u.search);
}

test('every answer of paying with Khalti and eSewa is documented in openapi.json', async () => {
  problems = [];
  const org = await fetch(`${base}/admin/orgs/`, {
    method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Payer', billing_email: 'pay@example.np' }),
  });
  const key = (await org.json()).api_key;
  const st = (await (await fetch(`${base}/sessions/`, { method: 'POST', headers: { Authorization: `Bearer ${key}` } })).json()).token;

  // Khalti: init, verify while pending, pay, callback, verify, reads.
  const k = await call('POST', '/billing/khalti/init/', '/billing/khalti/init/', { token: st, body: { plan: 'PRO' } });
  assert.ok(k.status === 200 || k.status === 201, `khalti init: ${k.status}`);
  await call('POST', '/billing/khalti/init/', '/billing/khalti/init/', { token: st, body: { plan: 'PRO' } });
  await call('POST', '/billing/khalti/verify/', '/billing/khalti/verify/', { token: st, body: { payment_id: k.body.payment_id } });
  await call('POST', '/billing/khalti/verify/', '/billing/khalti/verify/', { token: st, body: { payment_id: k.body.payment_id, pidx: 'not-its-pidx' } });
  const paid = await simCall('POST', `/_sim/khalti/${k.body.pidx}/pay`, { mobile: '9800000001' });
  await follow('/billing/khalti/callback/', paid.redirect_url);
  const v = await call('POST', '/billing/khalti/verify/', '/billing/khalti/verify/', { token: st, body: { payment_id: k.body.payment_id, pidx: k.body.pidx } });
  assert.equal(v.status, 200);
  await call('GET', '/billing/payments/{id}/', `/billing/payments/${k.body.payment_id}/`, { token: st });

  // eSewa: a cheaper plan is a conflict now; PRO again extends. Pay, then a cancelled one.
  await call('POST', '/billing/esewa/init/', '/billing/esewa/init/', { token: st, body: { plan: 'BASIC' } });
  const e = await call('POST', '/billing/esewa/init/', '/billing/esewa/init/', { token: st, body: { plan: 'PRO' } });
  assert.ok(e.status === 200 || e.status === 201, `esewa init: ${e.status}`);
  await call('POST', '/billing/khalti/verify/', '/billing/khalti/verify/', { token: st, body: { payment_id: e.body.payment_id } });
  await postForm(e.body);
  const epaid = await simCall('POST', `/_sim/esewa/${e.body.fields.transaction_uuid}/pay`, {});
  await follow('/billing/esewa/callback/', epaid.redirect_url);
  await call('POST', '/billing/esewa/verify/', '/billing/esewa/verify/', { token: st, body: { payment_id: e.body.payment_id } });

  const c = await call('POST', '/billing/esewa/init/', '/billing/esewa/init/', { token: key, body: { plan: 'PRO' } });
  await postForm(c.body);
  const cancelled = await simCall('POST', `/_sim/esewa/${c.body.fields.transaction_uuid}/cancel`, {});
  await follow('/billing/esewa/failure/', cancelled.redirect_url);
  await call('POST', '/billing/esewa/verify/', '/billing/esewa/verify/', { token: key, body: { payment_id: c.body.payment_id } });

  const kc = await call('POST', '/billing/khalti/init/', '/billing/khalti/init/', { token: key, body: { plan: 'PRO' } });
  const kcancel = await simCall('POST', `/_sim/khalti/${kc.body.pidx}/cancel`, {});
  await follow('/billing/khalti/callback/', kcancel.redirect_url);
  await call('POST', '/billing/khalti/verify/', '/billing/khalti/verify/', { token: key, body: { payment_id: kc.body.payment_id } });
  await call('GET', '/billing/payments/', '/billing/payments/?limit=10', { token: key });

  assert.deepEqual(problems, [], `answers that openapi.json does not describe:\n${problems.join('\n')}`);
});
