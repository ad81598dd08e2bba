// The backend examples of docs/integration.md (docs/examples/) work against a real
// sima-server: they mint a session token the browser can use, refuse a visitor who is not
// logged in, and never hand out the secret key, even when sima-server refuses the key.
// The webhook verification recipes of docs/webhooks.md ("Other languages": Python and the
// shell) accept what is signed as sima-server signs and refuse everything else.
// Needs a built sima-server: SIMA_SERVER_BIN, or build/release (or build/debug) in the repo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const serverBin = [process.env.SIMA_SERVER_BIN, `${repo}/build/release/server/sima-server`,
  `${repo}/build/debug/server/sima-server`].find((p) => p && existsSync(p));
const admin = `admin-${process.pid}-${Math.random().toString(36).slice(2)}`;
const children = [];
let dir, sima, key, keyFile;

// Starts a process and resolves with the first match of `pattern` in its stdout or stderr.
function start(cmd, args, env, pattern) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start:\n${seen}`)), 15000);
    const look = (chunk) => {
      seen += chunk;
      const m = seen.match(pattern);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited ${code}:\n${seen}`)); });
  });
}

before(async () => {
  assert.ok(serverBin, 'no sima-server binary: build it (cmake --build --preset release --target sima-server) or set SIMA_SERVER_BIN');
  dir = mkdtempSync(path.join(tmpdir(), 'sima-examples-'));
  const port = await start(serverBin, ['--listen=127.0.0.1:0', `--db=${dir}/sima.db`, '--access-log=off'],
    { SIMA_ADMIN_TOKEN: admin }, /"addr":"127\.0\.0\.1:(\d+)"/);
  sima = `http://127.0.0.1:${port}`;
  const org = await fetch(`${sima}/admin/orgs/`, {
    method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Example tenant' }),
  });
  assert.equal(org.status, 201);
  key = (await org.json()).api_key;
  keyFile = path.join(dir, 'sima.key');
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
});

after(() => {
  for (const c of children) c.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const examples = [
  ['Node', process.execPath, [`${repo}/docs/examples/session-backend.mjs`]],
  ['Python', 'python3', [`${repo}/docs/examples/session_backend.py`]],
];

for (const [name, cmd, args] of examples) {
  test(`${name} example: a logged-in user gets a session token that works on sima-server`, async () => {
    const port = await start(cmd, args, { PORT: '0', SIMA_SERVER_URL: sima, SIMA_SECRET_KEY_FILE: keyFile },
      /"listening": ?(\d+)/);
    const backend = `http://127.0.0.1:${port}/api/sima-session`;

    const anonymous = await fetch(backend, { method: 'POST' });
    assert.equal(anonymous.status, 401, 'no login, no token');

    const minted = await fetch(backend, { method: 'POST', headers: { 'X-Example-User': 'asha' } });
    assert.equal(minted.status, 201);
    const text = await minted.text();
    assert.ok(!text.includes(key), 'the secret key never reaches the browser');
    const session = JSON.parse(text);
    assert.match(session.token, /^st_[0-9a-f]+$/);
    assert.equal(session.api_url, sima);
    assert.ok(!Number.isNaN(Date.parse(session.expires_at)));

    // What the browser then does with it.
    const usage = await fetch(`${sima}/billing/usage/`, { headers: { Authorization: `Bearer ${session.token}` } });
    assert.equal(usage.status, 200);
    assert.equal((await usage.json()).plan, 'FREE');
    const escalate = await fetch(`${sima}/sessions/`, { method: 'POST', headers: { Authorization: `Bearer ${session.token}` } });
    assert.equal(escalate.status, 403, 'a session token cannot mint sessions');
  });

  test(`${name} example: a refused key is a 502 for the browser, without the key`, async () => {
    const wrongFile = path.join(dir, `wrong-${name}.key`);
    const wrong = `sk_${'0'.repeat(48)}`;
    writeFileSync(wrongFile, wrong, { mode: 0o600 });
    const port = await start(cmd, args, { PORT: '0', SIMA_SERVER_URL: sima, SIMA_SECRET_KEY_FILE: wrongFile },
      /"listening": ?(\d+)/);
    const answer = await fetch(`http://127.0.0.1:${port}/api/sima-session`, { method: 'POST', headers: { 'X-Example-User': 'asha' } });
    assert.equal(answer.status, 502);
    assert.ok(!(await answer.text()).includes(wrong));
  });
}

// --- docs/webhooks.md, "Other languages" ---

// The fenced blocks of one language in the "Other languages" section, in order.
function recipes(lang) {
  const doc = readFileSync(`${repo}/docs/webhooks.md`, 'utf8');
  const start = doc.indexOf('\n### Other languages\n');
  assert.ok(start >= 0, 'docs/webhooks.md has no "Other languages" section');
  const end = doc.indexOf('\n## ', start);
  const section = doc.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

// The Sima-Signature header as the server makes it: t=<unix seconds>,v1=<hex> per secret,
// HMAC-SHA256 keyed with the whole secret text over "<t>." + the raw body.
function sign(body, t, ...secrets) {
  const v1 = secrets.map((s) => `v1=${createHmac('sha256', s).update(`${t}.`).update(body).digest('hex')}`);
  return [`t=${t}`, ...v1].join(',');
}

const secret = 'whsec_7QeL2pXc9vRk4TbZ0yWn6sJmAa1dHf3G';
const previous = 'whsec_0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV';
const body = Buffer.from(JSON.stringify({
  id: 'evt_9aQ3ZkV7mB1xT0cL5wR8yP', type: 'subscription.activated', created: '2026-11-23T10:00:00Z',
  org_id: 'org_5f0c0d8e2b7a41c39a10', sequence: 42, data: { note: 'सीमा नाघ्यो', amount_paisa: 390000 },
}));
const now = () => Math.floor(Date.now() / 1000);

// [what, body, header, secret, accepted]
function cases() {
  const t = now();
  const tampered = Buffer.from(body.toString().replace('390000', '390001'));
  return [
    ['signed now', body, sign(body, t, secret), secret, true],
    ['signed 4 minutes ago', body, sign(body, t - 240, secret), secret, true],
    ['during a rotation, the new secret second', body, sign(body, t, previous, secret), secret, true],
    ['during a rotation, the old secret first', body, sign(body, t, previous, secret), previous, true],
    ['spaces after the commas', body, sign(body, t, secret).replaceAll(',', ', '), secret, true],
    ['another secret', body, sign(body, t, previous), secret, false],
    ['the secret without its whsec_ prefix', body, sign(body, t, secret.slice(6)), secret, false],
    ['a changed body', tampered, sign(body, t, secret), secret, false],
    ['signed 6 minutes ago (a replay)', body, sign(body, t - 360, secret), secret, false],
    ['signed 6 minutes ahead', body, sign(body, t + 360, secret), secret, false],
    ['a timestamp changed after signing', body, sign(body, t - 1000, secret).replace(`t=${t - 1000}`, `t=${t}`), secret, false],
    ['no timestamp', body, sign(body, t, secret).replace(/^t=\d+,/, ''), secret, false],
    ['no signature', body, `t=${t}`, secret, false],
    ['an empty header', body, '', secret, false],
    ['garbage', body, 'v1=,t=,=,,', secret, false],
  ];
}

test('the Python recipe accepts what the server signs and refuses the rest', (t) => {
  const [python] = recipes('python');
  assert.ok(python?.includes('def verify_webhook('), 'no Python recipe defining verify_webhook');
  const dir = mkdtempSync(path.join(tmpdir(), 'sima-recipe-py-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'recipe.py'), python);
  const list = cases();
  list.forEach(([, b], i) => writeFileSync(path.join(dir, `body${i}`), b));
  writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(list.map(([, , header, key]) => ({ header, key }))));
  const driver = [
    'import json, sys',
    'sys.path.insert(0, sys.argv[1])',
    'from recipe import verify_webhook',
    'cases = json.load(open(sys.argv[1] + "/cases.json"))',
    'for i, c in enumerate(cases):',
    '    raw = open(f"{sys.argv[1]}/body{i}", "rb").read()',
    '    print(json.dumps(verify_webhook(raw, c["header"], c["key"])))',
  ].join('\n');
  const run = spawnSync('python3', ['-c', driver, dir], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const got = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(got.map((ok, i) => `${list[i][0]}: ${ok}`), list.map(([what, , , , ok]) => `${what}: ${ok}`));
});

test('the shell recipe says valid only for what the server signs', (t) => {
  const [sh] = recipes('sh');
  assert.ok(sh?.includes('openssl dgst'), 'no shell recipe with openssl');
  const dir = mkdtempSync(path.join(tmpdir(), 'sima-recipe-sh-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const results = cases().map(([what, b, header, key, ok]) => {
    writeFileSync(path.join(dir, 'body.json'), b);
    const run = spawnSync('bash', ['-c', sh], { cwd: dir, encoding: 'utf8', env: { ...process.env, header, secret: key } });
    assert.equal(run.stderr, '', `${what}: ${run.stderr}`);
    return [`${what}: ${run.stdout.trim()}`, `${what}: ${ok ? 'valid' : 'NOT valid'}`];
  });
  assert.deepEqual(results.map(([got]) => got), results.map(([, want]) => want));
});

// The real thing: sima-server delivers an event to a receiver here, and both recipes accept
// that delivery as it arrived, and refuse it with one byte of the body changed.
test('the recipes accept a delivery sima-server signed', async (t) => {
  const [python] = recipes('python');
  const [sh] = recipes('sh');
  const got = [];
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => { got.push({ body: Buffer.concat(chunks), header: req.headers['sima-signature'] }); res.end('ok'); });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  t.after(() => receiver.close());
  const dir = mkdtempSync(path.join(tmpdir(), 'sima-recipe-live-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await start(serverBin, ['--listen=127.0.0.1:0', `--db=${dir}/sima.db`, '--access-log=off'],
    { SIMA_ADMIN_TOKEN: admin, SIMA_WEBHOOK_ALLOW_PRIVATE: '1', SIMA_WEBHOOK_INTERVAL_MS: '50' },
    /"addr":"127\.0\.0\.1:(\d+)"/);
  const base = `http://127.0.0.1:${port}`;
  const post = async (url, body) => {
    const res = await fetch(base + url, {
      method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const org = await post('/admin/orgs/', { name: 'Receiver' });
  assert.equal(org.status, 201);
  const hook = await post('/admin/webhooks/', { url: `http://127.0.0.1:${receiver.address().port}/hook`, org_id: org.body.org_id });
  assert.equal(hook.status, 201, JSON.stringify(hook.body));
  assert.equal((await post(`/admin/orgs/${org.body.org_id}/trial/`, { plan: 'PRO', days: 7 })).status, 200);
  for (let i = 0; i < 500 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(got.length > 0, 'no delivery arrived in 10 s');
  const { body: delivered, header } = got[0];
  assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);

  writeFileSync(path.join(dir, 'recipe.py'), python);
  const tampered = Buffer.from(delivered);
  tampered[tampered.length - 2] ^= 1;
  for (const [what, b, want] of [['as delivered', delivered, true], ['one byte changed', tampered, false]]) {
    writeFileSync(path.join(dir, 'body.json'), b);
    const py = spawnSync('python3', ['-c',
      'import sys; sys.path.insert(0, sys.argv[1]); from recipe import verify_webhook; '
      + 'print(verify_webhook(open(sys.argv[1] + "/body.json", "rb").read(), sys.argv[2], sys.argv[3]))',
      dir, header, hook.body.secret], { encoding: 'utf8' });
    assert.equal(py.stdout.trim(), want ? 'True' : 'False', `Python, ${what}: ${py.stderr}`);
    const shell = spawnSync('bash', ['-c', sh], { cwd: dir, encoding: 'utf8', env: { ...process.env, header, secret: hook.body.secret } });
    assert.equal(shell.stdout.trim(), want ? 'valid' : 'NOT valid', `shell, ${what}: ${shell.stderr}`);
  }
});
