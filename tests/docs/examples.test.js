// The backend examples of docs/integration.md (docs/examples/) work against a real
// sima-server: they mint a session token the browser can use, refuse a visitor who is not
// logged in, and never hand out the secret key, even when sima-server refuses the key.
// Needs a built sima-server: SIMA_SERVER_BIN, or build/release (or build/debug) in the repo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
