// The client against a fake fetch that answers as docs/api.md says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, SimaClient, SimaError, LimitReachedError } from '../src/node.js';
import { fakeServer } from './fixtures.mjs';

const BASE = 'https://api.example.test/';

async function connect(opts) {
  const server = fakeServer(opts);
  const client = await createClient({ baseUrl: BASE.slice(0, -1), token: server.token, fetch: server.fetch });
  return { server, client };
}

test('loads plans and usage with the session token', async () => {
  const { server, client } = await connect({ used: { invoices: 8, api_calls: 450 } });
  assert.equal(client.loaded, true);
  assert.equal(client.plan, 'FREE');
  assert.deepEqual(client.catalog.plans.map((p) => p.code), ['FREE', 'BASIC', 'PRO']);
  assert.equal(client.usage()[0].text, '8/10 (80%)');
  assert.equal(client.usage()[3].text, '450/100 (450%)');
  assert.equal(client.snapshot.org_id, 'org_test');
  const usageCall = server.state.calls.find((c) => c.path === '/billing/usage/');
  assert.equal(usageCall.headers.Authorization, 'Bearer st_test');
});

test('a token function is asked on every call', async () => {
  const server = fakeServer();
  let asked = 0;
  const client = await createClient({ baseUrl: BASE, token: async () => { asked++; return 'st_test'; }, fetch: server.fetch });
  await client.refresh();
  assert.equal(asked, 3);
});

test('create refuses the 11th invoice locally, without a request', async () => {
  const { server, client } = await connect({ used: { invoices: 9 } });
  await client.create('invoices', '/invoices/', { amount_paisa: 250000 });
  assert.equal(client.check('invoices').current, 10);
  const before = server.state.calls.length;
  await assert.rejects(client.create('invoices', '/invoices/', {}), (e) => {
    assert.ok(e instanceof LimitReachedError);
    assert.equal(e.code, 'limit_reached');
    assert.equal(e.status, null);
    assert.deepEqual([e.current, e.limit, e.plan], [10, 10, 'FREE']);
    assert.deepEqual(e.upgrade, { plan: 'BASIC', limit: 1000, price: 1900, price_paisa: 190000 });
    return true;
  });
  assert.equal(server.state.calls.length, before);
});

test('a 403 from the server overrides the local view and emits a change', async () => {
  const { server, client } = await connect({ used: { invoices: 5 } });
  server.state.used.invoices = 10; // another tab created five more
  const events = [];
  const off = client.subscribe((e) => events.push(e));
  assert.equal(client.check('invoices').allowed, true, 'the local view is stale');
  await assert.rejects(client.create('invoices', '/invoices/', {}), (e) => {
    assert.ok(e instanceof LimitReachedError);
    assert.equal(e.status, 403);
    assert.equal(e.body.code, 'limit_reached');
    assert.equal(e.upgrade.plan, 'BASIC');
    return true;
  });
  assert.equal(client.check('invoices').allowed, false);
  assert.equal(client.check('invoices').current, 10);
  assert.deepEqual(events, [{ type: 'change', reason: 'limit' }]);
  off();
  client.record('customers');
  assert.equal(events.length, 1, 'unsubscribed');
});

test('record and refresh emit changes; the server count wins on refresh', async () => {
  const { server, client } = await connect();
  const reasons = [];
  client.subscribe((e) => reasons.push(e.reason));
  client.record('invoices', 3);
  assert.equal(client.check('invoices').current, 3);
  server.state.used.invoices = 1;
  const rows = await client.refresh();
  assert.equal(rows[0].used, 1);
  assert.deepEqual(reasons, ['record', 'usage']);
});

test('meter takes the count from the server answer', async () => {
  const { client } = await connect({ used: { api_calls: 99 } });
  const answer = await client.meter('api_calls', 5, 'k1');
  assert.equal(answer.used, 104);
  assert.equal(client.usage()[3].text, '104/100 (104%)');
  assert.equal(client.usage()[3].status, 'over');
});

test('upgrade: init returns payment_url; after payment the plan is PRO', async () => {
  const { server, client } = await connect({ used: { invoices: 10 } });
  const init = await client.startUpgrade('PRO');
  assert.equal(init.payment_url, 'https://pay.example/1');
  assert.equal(init.amount, 3900);
  assert.deepEqual(server.state.calls.at(-1), { method: 'POST', path: '/billing/khalti/init/', body: { plan: 'PRO' }, headers: server.state.calls.at(-1).headers });
  assert.equal((await client.payment(init.payment_id)).status, 'PENDING');
  assert.equal((await client.verifyPayment(init.payment_id, { pidx: init.pidx })).status, 'PENDING');
  const events = [];
  client.subscribe((e) => events.push(e.reason));
  server.completePayment(init.payment_id);
  const payment = await client.payment(init.payment_id);
  assert.equal(payment.status, 'SUCCESS');
  assert.deepEqual(events, ['usage']);
  assert.equal(client.plan, 'PRO');
  server.state.used.invoices = 3000;
  await client.refresh();
  assert.equal(client.check('invoices').allowed, true);
});

test('a failed payment is an answer from verifyPayment', async () => {
  const { server, client } = await connect();
  const init = await client.startUpgrade('BASIC');
  server.completePayment(init.payment_id, 'FAILED');
  const result = await client.verifyPayment(init.payment_id);
  assert.deepEqual(result, { success: false, status: 'FAILED', code: 'payment_failed', reason: 'User canceled' });
});

test('server errors are SimaErrors with the server code and status', async () => {
  const { client } = await connect();
  await assert.rejects(client.startUpgrade('FREE'), (e) => e instanceof SimaError && e.code === 'invalid_plan' && e.status === 400 && /cannot be bought/.test(e.message));
  await assert.rejects(client.payment(99), (e) => e.code === 'not_found' && e.status === 404);
  await assert.rejects(client.meter('nope'), (e) => e.code === 'validation_error' && e.body.field === 'feature');
  await assert.rejects(client.startUpgrade('PRO', { provider: 'paypal' }), (e) => e.code === 'validation_error' && e.status === null);
});

test('endSession ends the session on the server; later calls are unauthorized', async () => {
  const { server, client } = await connect();
  await client.endSession();
  const call = server.state.calls.at(-1);
  assert.equal(call.method, 'DELETE');
  assert.equal(call.path, '/sessions/current/');
  assert.equal(call.headers.Authorization, 'Bearer st_test');
  await assert.rejects(client.refresh(), (e) => e.code === 'unauthorized' && e.status === 401);
  await client.endSession(); // already over: still resolves
});

test('a bad token is unauthorized', async () => {
  const server = fakeServer();
  await assert.rejects(createClient({ baseUrl: BASE, token: 'st_wrong', fetch: server.fetch }), (e) => e.code === 'unauthorized' && e.status === 401);
});

test('network failures and non-JSON answers are typed', async () => {
  const down = () => Promise.reject(new TypeError('fetch failed'));
  await assert.rejects(createClient({ baseUrl: BASE, token: 't', fetch: down }), (e) => e.code === 'network_error' && e.cause instanceof TypeError);
  const html = async () => new Response('<html>', { status: 502 });
  await assert.rejects(createClient({ baseUrl: BASE, token: 't', fetch: html }), (e) => e.code === 'invalid_response' && e.status === 502);
});

test('using a client before load is a typed error; bad options too', () => {
  const client = new SimaClient({ baseUrl: BASE, token: 't', fetch: async () => new Response('{}') });
  assert.throws(() => client.check('invoices'), (e) => e.code === 'not_loaded');
  assert.throws(() => new SimaClient({ token: 't' }), (e) => e.code === 'validation_error');
  assert.throws(() => new SimaClient({ baseUrl: BASE, token: 5 }), (e) => e.code === 'validation_error');
});

test('a listener that throws does not stop the others; its error is rethrown later', async () => {
  const { client } = await connect();
  let called = 0;
  const deferred = [];
  const original = globalThis.queueMicrotask;
  globalThis.queueMicrotask = (f) => deferred.push(f);
  try {
    client.subscribe(() => { throw new Error('boom'); });
    client.subscribe(() => called++);
    client.record('invoices');
  } finally {
    globalThis.queueMicrotask = original;
  }
  assert.equal(called, 1);
  assert.throws(deferred[0], /boom/);
});
