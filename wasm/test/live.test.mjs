// Live usage against a fake sima-server on node:http that streams GET /events/{org_id}/ as
// docs/api.md says: the client applies pushed changes, ignores older ones, reconnects with
// Last-Event-ID, falls back to polling on 503/404 and comes back; tabs share one stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { createClient } from '../src/node.js';
import { SseParser } from '../src/live.js';
import { catalog, snapshot } from './fixtures.mjs';

test('SSE: fields, comments, retry, multi-line data and CRLF, in chunks cut anywhere', () => {
  const text = 'retry: 3000\r\n\r\n: ping\n\nid: 1-aa\nevent: usage\ndata: {"a":\ndata:1}\n\n' +
    'data: no event name\r\rid: 2-bb\nevent: usage\ndata: {"b":2}\nunknown: x\n\n: ping\n\nevent: empty\n\ndata: tail';
  const expected = [
    { id: '1-aa', event: 'usage', data: '{"a":\n1}' },
    { id: '1-aa', event: 'message', data: 'no event name' },
    { id: '2-bb', event: 'usage', data: '{"b":2}' },
  ];
  const parse = (chunks) => {
    const events = [];
    const retries = [];
    const parser = new SseParser((e) => events.push(e), (ms) => retries.push(ms));
    for (const c of chunks) parser.push(c);
    return { events, retries };
  };
  assert.deepEqual(parse([text]), { events: expected, retries: [3000] });
  for (let i = 0; i <= text.length; i++) {
    assert.deepEqual(parse([text.slice(0, i), text.slice(i)]), { events: expected, retries: [3000] }, `cut at ${i}`);
  }
  assert.deepEqual(parse([...text]), { events: expected, retries: [3000] }, 'one character at a time');
});

// The state of an organization as the server versions it: "<ms>-<16 hex of the state>".
function answer(used, ms, org = 'org_test') {
  const body = { ...snapshot('FREE', used), org_id: org };
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
  return { ...body, as_of: new Date(ms).toISOString(), version: `${ms}-${hash}` };
}

// mode: 'stream' | 404 | 503 for GET /events/; push(state) writes an event to every open
// stream; drop() ends them; `events` records each events request's headers.
async function liveServer() {
  const s = { mode: 'stream', state: answer({ invoices: 3 }, 1_000_000), streams: new Set(), events: [], usageReads: 0, urls: [] };
  const server = createServer((req, res) => {
    s.urls.push(req.url);
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== 'Bearer st_live') return send(401, { error: 'Unauthorized', code: 'unauthorized' });
    if (req.url === '/billing/plans/') return send(200, catalog);
    if (req.url === '/billing/usage/') {
      s.usageReads++;
      return send(200, s.state);
    }
    if (req.url === '/events/org_test/') {
      s.events.push({ lastEventId: req.headers['last-event-id'] ?? null, accept: req.headers.accept });
      if (s.mode === 503) return send(503, { error: 'Too many streams', code: 'too_many_streams' }, { 'Retry-After': '1' });
      if (s.mode === 404) return send(404, { error: 'Not found', code: 'not_found' });
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' });
      res.write('retry: 1000\n\n');
      if (VersionHash(req.headers['last-event-id']) !== VersionHash(s.state.version)) res.write(event(s.state));
      s.streams.add(res);
      res.on('close', () => s.streams.delete(res));
      return undefined;
    }
    return send(404, { error: 'Not found', code: 'not_found' });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  s.base = `http://127.0.0.1:${server.address().port}/`;
  s.push = (state, { change = true } = {}) => {
    if (change) s.state = state;
    for (const res of s.streams) res.write(event(state));
  };
  s.drop = () => {
    for (const res of s.streams) res.destroy();
  };
  s.close = () => new Promise((resolve) => {
    s.drop();
    server.closeAllConnections();
    server.close(resolve);
  });
  return s;
}
const VersionHash = (v) => (typeof v === 'string' ? v.slice(v.indexOf('-') + 1) : '');
const event = (state) => `id: ${state.version}\nevent: usage\ndata: ${JSON.stringify(state)}\n\n`;

// Resolves once `predicate()` holds (checked every 10 ms; 10 s at most).
async function until(client, predicate, what) {
  for (const end = Date.now() + 10000; !predicate();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function liveClient(server, options = {}) {
  const client = await createClient({ baseUrl: server.base, token: 'st_live', live: true, persist: false, refreshInterval: 50, ...options });
  return client;
}

test('applies pushed changes, ignores older versions, reconnects with Last-Event-ID and re-reads the usage', async (t) => {
  const server = await liveServer();
  t.after(() => server.close());
  const client = await liveClient(server);
  t.after(() => client.close());
  await until(client, () => client.getSnapshot().live === 'open', 'the stream');
  assert.equal(client.usage()[0].used, 3);
  assert.deepEqual(server.events[0], { lastEventId: null, accept: 'text/event-stream' });
  assert.ok(server.urls.every((u) => !u.includes('st_live')), 'no token in a URL');

  const reasons = [];
  client.subscribe((e) => reasons.push(e.reason));
  server.push(answer({ invoices: 9 }, 2_000_000));
  await until(client, () => client.usage()[0].used === 9, 'the pushed change');
  assert.equal(client.getSnapshot().asOf.getTime(), 2_000_000);
  assert.deepEqual(reasons, ['live']);

  // An older state (e.g. a poll answered before the push) changes nothing.
  server.push(answer({ invoices: 1 }, 1_500_000), { change: false });
  server.push(answer({ invoices: 10 }, 3_000_000));
  await until(client, () => client.usage()[0].used === 10, 'the next change');
  assert.deepEqual(reasons, ['live', 'live']);

  const reads = server.usageReads;
  server.drop();
  await until(client, () => client.getSnapshot().live === 'connecting', 'the drop');
  assert.equal(client.getSnapshot().stale, true, 'a lost stream may have missed a change');
  server.state = answer({ invoices: 10, customers: 2 }, 4_000_000); // changed while disconnected
  await until(client, () => client.getSnapshot().live === 'open' && client.usage()[1].used === 2, 'the reconnect');
  assert.equal(server.events.length, 2);
  assert.equal(server.events[1].lastEventId, answer({ invoices: 10 }, 3_000_000).version);
  await until(client, () => server.usageReads > reads && !client.getSnapshot().stale, 'the re-read after the reconnect');
});

test('a server whose CORS refuses Last-Event-ID: the next reconnect goes without it', async (t) => {
  const server = await liveServer();
  t.after(() => server.close());
  // What a browser's fetch does when the preflight does not allow a header: a TypeError.
  const corsFetch = (url, init) => (init?.headers?.['Last-Event-ID'] ? Promise.reject(new TypeError('Failed to fetch')) : fetch(url, init));
  const client = await liveClient(server, { fetch: corsFetch });
  t.after(() => client.close());
  await until(client, () => client.getSnapshot().live === 'open', 'the stream');
  server.drop();
  server.state = answer({ invoices: 4 }, 2_000_000);
  await until(client, () => server.events.length === 2 && client.getSnapshot().live === 'open', 'the reconnect');
  assert.equal(server.events[1].lastEventId, null);
  await until(client, () => client.usage()[0].used === 4, 'the state after the reconnect');
});

test('polls on 503 and 404, then streams again', async (t) => {
  const server = await liveServer();
  t.after(() => server.close());
  server.mode = 503;
  const client = await liveClient(server);
  t.after(() => client.close());
  await until(client, () => client.getSnapshot().live === 'polling', 'polling');
  server.state = answer({ invoices: 7 }, 2_000_000);
  await until(client, () => client.usage()[0].used === 7, 'a polled change');
  server.mode = 'stream';
  await until(client, () => client.getSnapshot().live === 'open', 'the stream after Retry-After');
  server.push(answer({ invoices: 8 }, 3_000_000));
  await until(client, () => client.usage()[0].used === 8, 'a pushed change');

  server.mode = 404; // e.g. the server restarted with SIMA_EVENTS=off
  server.drop();
  await until(client, () => client.getSnapshot().live === 'polling', 'polling after a 404');
  server.mode = 'stream';
  await until(client, () => client.getSnapshot().live === 'open', 'the stream again (10 refresh intervals later)');
  client.close();
  assert.equal(client.getSnapshot().live, 'off');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(server.streams.size, 0, 'close() ends the stream');
});

// A Web Locks stand-in: one holder per name, the next request granted when it returns.
function fakeLocks() {
  const queues = new Map();
  return {
    request(name, { signal }, callback) {
      return new Promise((resolve, reject) => {
        const q = queues.get(name) ?? [];
        queues.set(name, q);
        const entry = { grant: () => Promise.resolve().then(callback).then(resolve, reject).finally(() => { q.shift(); q[0]?.grant(); }) };
        signal?.addEventListener('abort', () => {
          const at = q.indexOf(entry);
          if (at > 0) { q.splice(at, 1); reject(new DOMException('aborted', 'AbortError')); }
        });
        q.push(entry);
        if (q.length === 1) entry.grant();
      });
    },
  };
}

test('tabs share one stream: the lock holder streams and relays over BroadcastChannel; the next takes over', async (t) => {
  const server = await liveServer();
  t.after(() => server.close());
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { locks: fakeLocks() }, configurable: true });
  t.after(() => (had ? Object.defineProperty(globalThis, 'navigator', had) : delete globalThis.navigator));
  const first = await liveClient(server);
  await until(first, () => first.getSnapshot().live === 'open', 'the first tab streaming');
  const second = await liveClient(server);
  t.after(() => second.close());
  await until(second, () => second.getSnapshot().live === 'open', 'the second tab hearing the status');
  assert.equal(server.events.length, 1, 'one stream for both tabs');

  server.push(answer({ invoices: 6 }, 2_000_000));
  await until(second, () => second.usage()[0].used === 6, 'the relayed change');
  assert.equal(first.usage()[0].used, 6);

  first.close(); // the tab closes: its lock passes on
  await until(second, () => server.events.length === 2 && server.streams.size === 1, 'the second tab streaming');
  assert.equal(server.events[1].lastEventId, answer({ invoices: 6 }, 2_000_000).version, 'it resumes from the relayed id');
  server.push(answer({ invoices: 7 }, 3_000_000));
  await until(second, () => second.usage()[0].used === 7, 'a change on the new stream');
});

// A Storage stand-in: what localStorage offers, in memory.
function memoryStorage() {
  const m = new Map();
  return {
    m,
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => { m.set(k, String(v)); },
    removeItem: (k) => { m.delete(k); },
  };
}

test('persist: a returning visit draws the stored snapshot at once, stale, then the server\'s', async (t) => {
  const server = await liveServer();
  t.after(() => server.close());
  const storage = memoryStorage();
  const one = await liveClient(server, { live: false, persist: storage });
  const key = `sima:v1:${server.base}`;
  const stored = JSON.parse(storage.getItem(key));
  assert.deepEqual(Object.keys(stored).sort(), ['as_of', 'plans', 'usage', 'version']);
  assert.equal(stored.version, server.state.version);
  assert.ok(!storage.getItem(key).includes('st_live'), 'the token is never stored');
  one.close();

  // The next visit: the server is slow; the page draws from storage without waiting.
  server.state = answer({ invoices: 5 }, 2_000_000);
  let release;
  const gate = new Promise((r) => { release = r; });
  const slowFetch = async (url, init) => { await gate; return fetch(url, init); };
  const two = await liveClient(server, { live: false, persist: storage, fetch: slowFetch });
  const drawn = two.getSnapshot();
  assert.equal(drawn.stale, true);
  assert.equal(drawn.usage[0].used, 3);
  assert.equal(drawn.asOf.getTime(), 1_000_000);
  release();
  await until(two, () => !two.getSnapshot().stale, 'the revalidation');
  assert.equal(two.usage()[0].used, 5);
  assert.equal(JSON.parse(storage.getItem(key)).usage.usage.invoices.used, 5);

  // Another organization's snapshot is replaced by this one's; corrupt storage is ignored;
  // a storage that refuses writes (quota, private mode) breaks nothing.
  storage.setItem(key, JSON.stringify({ ...stored, usage: answer({ invoices: 1 }, 500, 'org_other') }));
  const three = await liveClient(server, { live: false, persist: storage });
  await until(three, () => !three.getSnapshot().stale, 'the fresh answer');
  assert.equal(JSON.parse(storage.getItem(key)).usage.org_id, 'org_test');
  storage.setItem(key, '{"plans": [broken');
  const four = await liveClient(server, { live: false, persist: storage });
  assert.equal(four.getSnapshot().stale, false);
  assert.equal(four.usage()[0].used, 5);
  const refusing = { getItem: () => null, setItem: () => { throw new DOMException('full', 'QuotaExceededError'); }, removeItem: () => {} };
  const five = await liveClient(server, { live: false, persist: refusing });
  assert.equal(five.usage()[0].used, 5);
});

test('getSnapshot is the same frozen object until something changes; methods work destructured', async (t) => {
  const server = await liveServer();
  t.after(() => server.close());
  const client = await liveClient(server, { live: false });
  const { getSnapshot, subscribe, check, record, refresh } = client;
  const a = getSnapshot();
  assert.equal(getSnapshot(), a);
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.usage) && Object.isFrozen(a.usage[0]));
  assert.deepEqual({ plan: a.plan, live: a.live, stale: a.stale, lifecycle: a.lifecycle.state }, { plan: 'FREE', live: 'off', stale: false, lifecycle: 'free' });
  let heard = 0;
  const stop = subscribe(() => heard++);
  assert.equal(check('invoices').current, 3);
  assert.equal(getSnapshot(), a, 'a check changes nothing');
  record('invoices');
  const b = getSnapshot();
  assert.notEqual(b, a);
  assert.equal(b.usage[0].used, 4);
  assert.equal(getSnapshot(), b);
  await refresh(); // the server's answer (3) replaces the optimistic count
  assert.equal(getSnapshot().usage[0].used, 3);
  stop();
  assert.equal(heard, 2);
});

test('the snapshot changes when the clock crosses an end (renewal due, the plan\'s end): reason clock', async () => {
  const { fakeServer } = await import('./fixtures.mjs');
  const server = fakeServer({ plan: 'BASIC' });
  let offset = 0;
  const client = await createClient({ baseUrl: 'https://api.example.test/', token: server.token, fetch: server.fetch, clock: () => Date.now() + offset });
  const first = client.lifecycle();
  const edge = Date.parse(first.renewal_due_from ?? first.end_date);
  offset = edge - 150 - Date.now(); // 150 ms before it
  client.record('invoices'); // any change: the next view is drawn at the new time
  const before = client.getSnapshot();
  const reasons = [];
  client.subscribe((e) => reasons.push(e.reason));
  await until(client, () => reasons.includes('clock'), 'the clock event');
  const after = client.getSnapshot();
  assert.notEqual(after, before);
  assert.notEqual(after.lifecycle.state, before.lifecycle.state);
  client.close();
});
