// The offline core through the public API, with the seed's numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCore, init, SimaError } from '../src/node.js';
import { catalog, snapshot, DURING } from './fixtures.mjs';

// The fixtures' paid plans run 2026-11-01 .. 2026-12-01: every answer here is asked DURING them.

test('init is memoised and resolves to nothing', async () => {
  const a = init();
  assert.equal(init(), init());
  assert.equal(await a, undefined);
});

test('the 11th invoice on FREE is refused with the upgrade to BASIC', async () => {
  const core = await createCore(catalog, snapshot('FREE', { invoices: 10 }));
  assert.deepEqual(core.check('invoices', 1, DURING), {
    allowed: false, feature: 'invoices', kind: 'metered', plan: 'FREE', current: 10, requested: 1, limit: 10,
    remaining: 0, over: false, override: null, upgrade: { plan: 'BASIC', limit: 1000, price: 1900, price_paisa: 190000 },
  });
});

test('the 10th invoice on FREE is allowed, with one remaining', async () => {
  const core = await createCore(catalog, snapshot('FREE', { invoices: 9 }));
  const d = core.check('invoices');
  assert.equal(d.allowed, true);
  assert.equal(d.remaining, 1);
  assert.equal(d.upgrade, null);
});

test('on PRO 3000 invoices are allowed and unlimited', async () => {
  const core = await createCore(catalog, snapshot('PRO', { invoices: 3000 }));
  const d = core.check('invoices', 1, DURING);
  assert.equal(d.allowed, true);
  assert.equal(d.plan, 'PRO');
  assert.equal(d.limit, -1);
  assert.equal(d.remaining, null);
  assert.equal(core.check('invoices', 3000, new Date(DURING)).allowed, true);
});

test('usage rows show the seed texts and statuses', async () => {
  const core = await createCore(catalog, snapshot('FREE', { invoices: 8, api_calls: 450 }));
  const rows = core.usage(DURING);
  assert.deepEqual(rows.map((r) => r.feature), catalog.features.map((f) => f.key));
  assert.deepEqual(rows[0], {
    feature: 'invoices', kind: 'metered', label: 'Invoices', enforcement: 'hard', used: 8, limit: 10, percent: 80,
    status: 'warning', text: '8/10 (80%)', unit: '', override: null, unlock: null, note: '',
  });
  assert.equal(rows[3].text, '450/100 (450%)');
  assert.equal(rows[3].status, 'over');
  assert.equal(rows[3].percent, 450);
});

test('an unlimited row reads 12/∞ with no percent', async () => {
  const core = await createCore(catalog, snapshot('PRO', { customers: 12 }));
  const row = core.usage(DURING).find((r) => r.feature === 'customers');
  assert.equal(row.text, '12/∞');
  assert.equal(row.percent, null);
  assert.equal(row.status, 'ok');
});

test('a soft feature past its limit is allowed but over, with a suggestion', async () => {
  const core = await createCore(catalog, snapshot('FREE', { api_calls: 450 }));
  const d = core.check('api_calls', 1, DURING);
  assert.equal(d.allowed, true);
  assert.equal(d.over, true);
  assert.equal(d.upgrade.plan, 'BASIC');
});

test('usageAfterUpgrade keeps allocations and starts metered counts anew on PRO', async () => {
  const core = await createCore(catalog, snapshot('FREE', { invoices: 10, customers: 4, team_members: 1 }));
  const rows = core.usageAfterUpgrade('PRO', DURING);
  assert.deepEqual(rows.map((r) => r.text), ['0/∞', '4/∞', '1/10 seats (10%)', '0/100000 (0%)', 'On', 'On', '100 MB']);
  assert.equal(core.plan, 'FREE', 'the preview changes nothing');
  assert.equal(core.usage(DURING)[0].text, '10/10 (100%)');
});

test('upgradeOptions lists the pricier plans and marks the suggestion', async () => {
  const core = await createCore(catalog, snapshot('FREE', { invoices: 10 }));
  assert.deepEqual(core.upgradeOptions('invoices', 1, DURING), [
    { plan: 'BASIC', name: 'Basic', limit: 1000, price: 1900, price_paisa: 190000, allows: true, suggested: true },
    { plan: 'PRO', name: 'Pro', limit: -1, price: 3900, price_paisa: 390000, allows: true, suggested: false },
  ]);
  assert.deepEqual(core.upgradeOptions('invoices', 5000, DURING).map((o) => [o.plan, o.allows, o.suggested]), [['BASIC', false, false], ['PRO', true, true]]);
  const pro = await createCore(catalog, snapshot('PRO'));
  assert.deepEqual(pro.upgradeOptions('team_members', 1, DURING), []);
});

test('record counts optimistically until the 11th invoice is refused', async () => {
  const core = await createCore(catalog, snapshot('FREE', { invoices: 8 }));
  core.record('invoices');
  assert.equal(core.check('invoices').allowed, true);
  core.record('invoices', 1);
  assert.equal(core.check('invoices').allowed, false);
  assert.equal(core.usage()[0].text, '10/10 (100%)');
  assert.equal(core.usage()[0].status, 'full');
});

test('setUsage replaces the plan and the counts', async () => {
  const core = await createCore(catalog, snapshot('FREE', { invoices: 10 }));
  core.setUsage(JSON.stringify(snapshot('PRO', { invoices: 3000 })));
  assert.equal(core.plan, 'PRO');
  assert.equal(core.check('invoices', 1, DURING).allowed, true);
  assert.equal(core.usage(DURING)[0].text, '3000/∞');
});

test('applyLimitReached takes the server count and plan', async () => {
  const core = await createCore(catalog, snapshot('BASIC', { invoices: 3 }));
  core.applyLimitReached({ feature: 'invoices', current: 10, limit: 10, plan: 'FREE', upgrade: null });
  assert.equal(core.plan, 'FREE');
  assert.equal(core.check('invoices').current, 10);
  assert.equal(core.check('invoices').allowed, false);
});

test('answers are fresh plain objects: mutating one changes nothing', async () => {
  const core = await createCore(catalog, snapshot('FREE', { invoices: 10 }));
  const a = core.check('invoices');
  a.upgrade.plan = 'X';
  a.allowed = true;
  assert.equal(core.check('invoices').allowed, false);
  assert.equal(core.check('invoices').upgrade.plan, 'BASIC');
  const rows = core.usage();
  rows[0].text = 'x';
  assert.equal(core.usage()[0].text, '10/10 (100%)');
  assert.equal(Object.getPrototypeOf(a), Object.prototype);
});

test('the catalog is exposed, cheapest plan first, frozen', async () => {
  const core = await createCore(JSON.stringify({ ...catalog, plans: [...catalog.plans].reverse() }));
  assert.deepEqual(core.catalog.plans.map((p) => p.code), ['FREE', 'BASIC', 'PRO']);
  assert.equal(Object.isFrozen(core.catalog.plans[0].limits), true);
  assert.equal(core.plan, 'FREE');
});

test('a catalog without price_paisa takes whole-rupee prices', async () => {
  const cat = structuredClone(catalog);
  for (const p of cat.plans) delete p.price_paisa;
  const core = await createCore(cat, snapshot('FREE', { invoices: 10 }));
  assert.equal(core.check('invoices').upgrade.price_paisa, 190000);
});

test('Core cannot be constructed directly', async () => {
  const { Core } = await import('../src/index.js');
  assert.throws(() => new Core(), TypeError);
  assert.ok(SimaError);
});
