// The subscription's lifecycle and what paying costs, from the core (sima::LifecycleAt,
// sima::QuotePayment): what the demo's banner and plans page show, and the client's calls to
// GET/POST /billing/subscription/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, createCore, SimaError } from '../src/node.js';
import { catalog, fakeServer, snapshot } from './fixtures.mjs';

// In the fixtures a paid plan runs 2026-11-01 .. 2026-12-01; the catalog's defaults: reminders
// 7, 3 and 1 days before the end, 3 days of grace.
const at = (iso) => Date.parse(iso);

test('the catalog carries the renewal settings', async () => {
  const core = await createCore(catalog);
  assert.deepEqual(core.catalog.renewal_notice_days, [7, 3, 1]);
  assert.equal(core.catalog.grace_days, 3);
  const other = await createCore({ ...catalog, renewal_notice_days: [2, 10], grace_days: 0 });
  assert.deepEqual([other.catalog.renewal_notice_days, other.catalog.grace_days], [[10, 2], 0]);
});

test('a paid plan goes active → renewal_due → grace → expired, each at its exact second', async () => {
  const core = await createCore(catalog, snapshot('BASIC', { invoices: 500 }));
  const life = core.lifecycle(at('2026-11-10T00:00:00Z'));
  assert.deepEqual(life, {
    plan: 'BASIC', is_active: true, start_date: '2026-11-01T00:00:00Z', end_date: '2026-12-01T00:00:00Z',
    state: 'active', subscribed_plan: 'BASIC', trial: false, renewal_plan: 'BASIC',
    renewal_due_from: '2026-11-24T00:00:00Z', grace_until: '2026-12-04T00:00:00Z', ends_at: '2026-12-04T00:00:00Z',
    scheduled_change: null,
  });
  const state = (iso) => core.lifecycle(at(iso)).state;
  assert.equal(state('2026-11-23T23:59:59Z'), 'active');
  assert.equal(state('2026-11-24T00:00:00Z'), 'renewal_due');
  assert.equal(state('2026-11-30T23:59:59Z'), 'renewal_due');
  assert.equal(state('2026-12-01T00:00:00Z'), 'grace');
  assert.equal(state('2026-12-03T23:59:59Z'), 'grace');
  assert.equal(state('2026-12-04T00:00:00Z'), 'expired');
  // The limits follow without a new snapshot: BASIC in grace, FREE once expired (the cached
  // answer of the earlier time is not reused across the boundary).
  assert.equal(core.check('invoices', 1, at('2026-12-03T23:59:59Z')).allowed, true);
  const after = core.check('invoices', 1, at('2026-12-04T00:00:00Z'));
  assert.deepEqual([after.allowed, after.plan, after.limit], [false, 'FREE', 10]);
  assert.equal(core.usage(at('2026-12-04T00:00:00Z'))[0].text, '500/10 (5000%)');
  const expired = core.lifecycle(at('2026-12-04T00:00:00Z'));
  assert.deepEqual([expired.plan, expired.is_active, expired.subscribed_plan], ['FREE', false, 'BASIC']);
});

test('a trial and a canceled plan end without grace; a scheduled switch renews on the cheaper plan', async () => {
  const sub = (extra) => ({ ...snapshot('PRO'), subscription: { ...snapshot('PRO').subscription, subscribed_plan: 'PRO', ...extra } });
  const trial = await createCore(catalog, sub({ trial: true }));
  assert.deepEqual(
    ['2026-11-30T23:59:59Z', '2026-12-01T00:00:00Z'].map((t) => trial.lifecycle(at(t)).state), ['trialing', 'expired']);
  assert.deepEqual([trial.lifecycle(at('2026-11-10T00:00:00Z')).renewal_plan, trial.lifecycle(at('2026-11-10T00:00:00Z')).ends_at],
    [null, '2026-12-01T00:00:00Z']);
  const canceled = await createCore(catalog, sub({ scheduled_change: { kind: 'cancel', plan: null } }));
  assert.equal(canceled.lifecycle(at('2026-11-28T00:00:00Z')).state, 'canceled');
  assert.equal(canceled.check('invoices', 1, at('2026-12-01T00:00:00Z')).plan, 'FREE');
  const switching = await createCore(catalog, sub({ scheduled_change: { kind: 'switch', plan: 'BASIC' } }));
  const grace = switching.lifecycle(at('2026-12-02T00:00:00Z'));
  assert.deepEqual([grace.state, grace.plan, grace.renewal_plan, grace.scheduled_change],
    ['grace', 'BASIC', 'BASIC', { kind: 'switch', plan: 'BASIC' }]);
});

test('an upgrade mid-period is quoted with a credit for the unused time; a renewal at the price from the old end', async () => {
  const core = await createCore(catalog, snapshot('BASIC'));
  // Half of BASIC (Rs 1,900) unused: Rs 950 credited against PRO's Rs 3,900.
  assert.deepEqual(core.quote('PRO', at('2026-11-16T00:00:00Z')), {
    plan: 'PRO', from_plan: 'BASIC', price: 3900, price_paisa: 390000, credit_paisa: 95000, amount: 2950,
    amount_paisa: 295000, unused_seconds: 15 * 86400, start_date: '2026-11-16T00:00:00Z', end_date: '2026-12-16T00:00:00Z',
    amount_breakdown: [{ label: 'PRO, 30 days', amount: 390000 }, { label: 'Credit: unused BASIC until 2026-12-01', amount: -95000 }],
  });
  // Rounded down to whole rupees, in the customer's favour: 1/3 of a day used.
  const odd = core.quote('PRO', at('2026-11-01T08:00:00Z'));
  assert.equal(odd.amount_paisa % 100, 0);
  assert.equal(odd.amount_breakdown.reduce((sum, l) => sum + l.amount, 0), odd.amount_paisa);
  // Renewing in renewal_due or grace: the whole price, the period following the old end.
  for (const t of ['2026-11-28T00:00:00Z', '2026-12-02T00:00:00Z']) {
    const renewal = core.quote('BASIC', at(t));
    assert.deepEqual([renewal.amount_paisa, renewal.credit_paisa, renewal.start_date, renewal.end_date, renewal.amount_breakdown.length],
      [190000, 0, '2026-12-01T00:00:00Z', '2026-12-31T00:00:00Z', 1]);
  }
  // In grace nothing is credited (the period is over).
  assert.equal(core.quote('PRO', at('2026-12-02T00:00:00Z')).amount_paisa, 390000);
  assert.throws(() => core.quote('FREE', at('2026-11-16T00:00:00Z')), (e) => e instanceof SimaError && e.code === 'invalid_plan');
  const pro = await createCore(catalog, snapshot('PRO'));
  assert.throws(() => pro.quote('BASIC', at('2026-11-16T00:00:00Z')), (e) => e instanceof SimaError && e.code === 'conflict' &&
    e.message === 'plan PRO is active until 2026-12-01T00:00:00Z; the lower plan BASIC cannot be bought while it lasts');
});

test('the client schedules a switch or a cancel for the end, undoes it, and takes the server\'s subscription', async () => {
  const server = fakeServer({ plan: 'PRO' });
  const client = await createClient({ baseUrl: 'https://api.example.test', token: server.token, fetch: server.fetch });
  const reasons = [];
  client.subscribe((e) => reasons.push(e.reason));
  assert.equal(client.lifecycle().state, 'active');
  const switched = await client.changeSubscription({ change: 'switch', plan: 'BASIC' });
  assert.deepEqual(switched.scheduled_change, { kind: 'switch', plan: 'BASIC' });
  assert.deepEqual(server.state.calls.at(-1), { method: 'POST', path: '/billing/subscription/', body: { change: 'switch', plan: 'BASIC' }, headers: server.state.calls.at(-1).headers });
  assert.equal(client.lifecycle().renewal_plan, 'BASIC');
  assert.deepEqual(client.snapshot.subscription.scheduled_change, { kind: 'switch', plan: 'BASIC' });
  await client.changeSubscription({ change: 'cancel' });
  assert.equal(client.lifecycle().state, 'canceled');
  await client.changeSubscription({ change: 'undo' });
  assert.equal(client.lifecycle().state, 'active');
  assert.deepEqual((await client.subscription()).scheduled_change, null);
  assert.deepEqual(reasons, ['subscription', 'subscription', 'subscription', 'subscription']);
  await assert.rejects(client.changeSubscription({ change: 'switch' }), (e) => e.code === 'validation_error');
  await assert.rejects(client.changeSubscription({ change: 'later' }), (e) => e.code === 'validation_error');
  // A pricier plan is refused by the server with its reason.
  const basic = fakeServer({ plan: 'BASIC' });
  const other = await createClient({ baseUrl: 'https://api.example.test', token: basic.token, fetch: basic.fetch });
  await assert.rejects(other.changeSubscription({ change: 'switch', plan: 'PRO' }), (e) =>
    e.code === 'conflict' && e.status === 409 && /upgrade now instead/.test(e.message));
});

test('the client\'s clock is the default now: a page whose clock moved on sees grace and expiry', async () => {
  const server = fakeServer({ plan: 'BASIC' });
  let now = Date.now();
  const client = await createClient({ baseUrl: 'https://api.example.test', token: server.token, fetch: server.fetch, clock: () => now });
  assert.equal(client.lifecycle().state, 'active');
  now += 29 * 86400e3 + 1000; // the fake server's period ends 29 days from now
  assert.equal(client.lifecycle().state, 'grace');
  assert.equal(client.check('invoices').plan, 'BASIC');
  now += 3 * 86400e3;
  assert.equal(client.lifecycle().state, 'expired');
  assert.equal(client.check('invoices').plan, 'FREE');
  assert.equal(client.quote('BASIC').amount_paisa, 190000);
  assert.throws(() => new (client.constructor)({ baseUrl: 'x', token: 't', fetch: server.fetch, clock: 5 }), (e) => e.code === 'validation_error');
});
