// Every kind of feature through the public API (metered, allocation, boolean, value), the
// organization's overrides, and answers at a given `now`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, createCore, LimitReachedError, SimaError } from '../src/node.js';
import { catalog, snapshot, fakeServer, DURING, AFTER } from './fixtures.mjs';

const row = (rows, feature) => rows.find((r) => r.feature === feature);

test('the catalog says what each feature is: kind, unit, switches as true/false', async () => {
  const core = await createCore(catalog);
  assert.deepEqual(core.catalog.features, catalog.features);
  assert.deepEqual(core.catalog.plans.map((p) => p.limits), catalog.plans.map((p) => p.limits));
  // A catalog written before kinds still loads: every feature is metered.
  const old = await createCore({ features: [{ key: 'invoices', label: 'Invoices' }], plans: [{ code: 'FREE', price: 0, limits: { invoices: 10 } }] });
  assert.deepEqual(old.catalog.features, [{ key: 'invoices', label: 'Invoices', kind: 'metered', enforcement: 'hard', unit: '' }]);
});

test('a catalog that mixes kinds wrongly is refused with a named error', async () => {
  const numeric = structuredClone(catalog);
  numeric.plans[0].limits.pdf_export = 1;
  await assert.rejects(createCore(numeric), (e) => e instanceof SimaError && e.code === 'invalid_catalog' &&
    /"FREE".*"pdf_export".*true or false/.test(e.message));
  const soft = structuredClone(catalog);
  soft.features[6].enforcement = 'soft';
  await assert.rejects(createCore(soft), { code: 'invalid_catalog' });
  const unknown = structuredClone(catalog);
  unknown.features[0].kind = 'seats';
  await assert.rejects(createCore(unknown), { code: 'invalid_catalog' });
});

test('allocation: the seat row shows the unit; a removed member frees the seat', async () => {
  const core = await createCore(catalog, snapshot('FREE', { team_members: 1 }));
  assert.equal(row(core.usage(DURING), 'team_members').text, '1/1 seats (100%)');
  assert.equal(core.check('team_members', 1, DURING).allowed, false);
  core.record('team_members', -1);
  assert.equal(row(core.usage(DURING), 'team_members').text, '0/1 seats (0%)');
  assert.deepEqual(core.check('team_members', 1, DURING), {
    allowed: true, feature: 'team_members', kind: 'allocation', plan: 'FREE', current: 0, requested: 1, limit: 1,
    remaining: 1, over: false, override: null, upgrade: null,
  });
  assert.throws(() => core.record('team_members', -1), { code: 'validation_error', message: 'cannot release 1 of "team_members": 0 in use' });
  assert.throws(() => core.record('invoices', -1), { code: 'validation_error' }, 'a metered count is never released');
});

test('allocation: after the plan ends, more in use than allowed is over, with the reason', async () => {
  const core = await createCore(catalog, snapshot('BASIC', { team_members: 3, invoices: 12 }));
  assert.equal(row(core.usage(DURING), 'team_members').status, 'full');
  const after = core.usage(AFTER); // BASIC ended: FREE
  assert.deepEqual([row(after, 'team_members').status, row(after, 'team_members').note],
    ['over', '3 in use, 1 allowed on Free: remove 2 to add more']);
  assert.deepEqual([row(after, 'invoices').status, row(after, 'invoices').note], ['over', '12 used, 10 allowed on Free']);
  const d = core.check('team_members', 1, AFTER);
  assert.deepEqual([d.allowed, d.plan, d.current, d.limit, d.remaining], [false, 'FREE', 3, 1, 0]);
  assert.equal(d.upgrade.plan, 'PRO', 'BASIC allows 3 seats, not a 4th');
});

test('allocation: the after-upgrade preview keeps what exists (1/10 on PRO, not 0/10)', async () => {
  const core = await createCore(catalog, snapshot('FREE', { team_members: 1, invoices: 9 }));
  const pro = core.usageAfterUpgrade('PRO', DURING);
  assert.equal(row(pro, 'team_members').text, '1/10 seats (10%)');
  assert.equal(row(pro, 'invoices').text, '0/∞', 'a purchase starts a new period for metered counts');
});

test('boolean: off on FREE, the cheapest plan that turns it on; on from BASIC', async () => {
  const core = await createCore(catalog, snapshot('FREE'));
  const d = core.check('pdf_export', 1, DURING);
  assert.deepEqual(d, {
    allowed: false, feature: 'pdf_export', kind: 'boolean', plan: 'FREE', current: 0, requested: 1, limit: false,
    remaining: null, over: false, override: null, upgrade: { plan: 'BASIC', limit: true, price: 1900, price_paisa: 190000 },
  });
  assert.equal(core.check('custom_branding', 1, DURING).upgrade.plan, 'PRO');
  assert.deepEqual(row(core.usage(DURING), 'pdf_export'), {
    feature: 'pdf_export', kind: 'boolean', label: 'Export to PDF', used: 0, limit: false, percent: null, status: 'ok',
    text: 'Off', enforcement: 'hard', unit: '', override: null, unlock: { plan: 'BASIC', limit: true, price: 1900, price_paisa: 190000 }, note: '',
  });
  assert.deepEqual(core.upgradeOptions('custom_branding', 1, DURING).map((o) => [o.plan, o.limit, o.allows, o.suggested]),
    [['BASIC', false, false, false], ['PRO', true, true, true]]);
  const basic = await createCore(catalog, snapshot('BASIC'));
  assert.equal(basic.check('pdf_export', 1, DURING).allowed, true);
  assert.equal(basic.check('pdf_export', 1, DURING).limit, true);
  assert.deepEqual([row(basic.usage(DURING), 'pdf_export').text, row(basic.usage(DURING), 'pdf_export').unlock], ['On', null]);
  assert.throws(() => basic.record('pdf_export'), { code: 'validation_error', message: '"pdf_export" is a boolean feature: it has no count' });
});

test('value: n fits the plan number, or the cheapest plan where it does', async () => {
  const core = await createCore(catalog, snapshot('FREE'));
  assert.equal(core.check('attachment_mb', 5, DURING).allowed, true);
  assert.equal(core.check('attachment_mb', 0, DURING).allowed, true, 'zero fits');
  const d = core.check('attachment_mb', 6, DURING);
  assert.deepEqual(d, {
    allowed: false, feature: 'attachment_mb', kind: 'value', plan: 'FREE', current: 0, requested: 6, limit: 5,
    remaining: null, over: false, override: null, upgrade: { plan: 'BASIC', limit: 25, price: 1900, price_paisa: 190000 },
  });
  assert.equal(core.check('attachment_mb', 30, DURING).upgrade.plan, 'PRO');
  assert.equal(core.check('attachment_mb', 101, DURING).upgrade, null, 'no plan allows it');
  assert.equal(row(core.usage(DURING), 'attachment_mb').text, '5 MB');
  assert.throws(() => core.check('attachment_mb', -1, DURING), { code: 'validation_error' });
  assert.throws(() => core.record('attachment_mb', 5), { code: 'validation_error' });
});

test('an override replaces the plan limit while in force and is named in the answers', async () => {
  const deal = { feature: 'invoices', limit: 5000, plan: 'BASIC', until: '2026-11-20T00:00:00Z' };
  const core = await createCore(catalog, snapshot('BASIC', { invoices: 1200 }, { overrides: [deal] }));
  const d = core.check('invoices', 1, DURING);
  assert.deepEqual([d.allowed, d.limit, d.remaining, d.override], [true, 5000, 3800, { limit: 5000, plan: 'BASIC', until: '2026-11-20T00:00:00Z' }]);
  const r = row(core.usage(DURING), 'invoices');
  assert.deepEqual([r.text, r.override], ['1200/5000 (24%)', { limit: 5000, plan: 'BASIC', until: '2026-11-20T00:00:00Z' }]);
  // From its end on, BASIC's own limit.
  const later = Date.parse('2026-11-25T00:00:00Z');
  const after = core.check('invoices', 1, later);
  assert.deepEqual([after.allowed, after.limit, after.override], [false, 1000, null]);
  assert.equal(row(core.usage(later), 'invoices').status, 'over');
  // Asked again at the first time: the cached answer is not reused across the end.
  assert.equal(core.check('invoices', 1, DURING).allowed, true);
});

test('a switch turned on for one organization; an unscoped override leaves no upgrade', async () => {
  const on = { feature: 'custom_branding', limit: true, plan: null, until: null };
  const cap = { feature: 'attachment_mb', limit: 10, plan: null, until: null };
  const core = await createCore(catalog, snapshot('FREE', {}, { overrides: [on, cap] }));
  const d = core.check('custom_branding', 1, DURING);
  assert.deepEqual([d.allowed, d.limit, d.override], [true, true, { limit: true, plan: null, until: null }]);
  assert.deepEqual([row(core.usage(DURING), 'custom_branding').text, row(core.usage(DURING), 'custom_branding').unlock], ['On', null]);
  const big = core.check('attachment_mb', 50, DURING);
  assert.deepEqual([big.allowed, big.limit, big.upgrade], [false, 10, null], 'the override applies on every plan');
  assert.equal(row(core.usageAfterUpgrade('PRO', DURING), 'attachment_mb').text, '10 MB');
});

test('overrides in the snapshot are checked against the catalog', async () => {
  const bad = (o) => createCore(catalog, snapshot('FREE', {}, { overrides: [o] }));
  await assert.rejects(bad({ feature: 'pdf_export', limit: 3 }), (e) => e.code === 'validation_error' && /overrides\[0\]/.test(e.message));
  await assert.rejects(bad({ feature: 'widgets', limit: 3 }), (e) => /overrides\[0\]/.test(e.message));
  await assert.rejects(bad({ feature: 'invoices', limit: 3, plan: 'GOLD' }), (e) => /overrides\[0\]/.test(e.message));
});

test('without a time the clock decides: an ended plan is FREE, a lasting one holds', async () => {
  const ended = await createCore(catalog, snapshot('PRO', { invoices: 50 }, { start: '2020-01-01T00:00:00Z', end: '2020-01-31T00:00:00Z' }));
  assert.deepEqual([ended.check('invoices').plan, ended.check('invoices').allowed], ['FREE', false]);
  assert.equal(ended.usage()[0].text, '50/10 (500%)');
  assert.equal(ended.plan, 'PRO', 'the snapshot plan is kept as the server sent it');
  const lasting = await createCore(catalog, snapshot('PRO', { invoices: 50 }, { end: '9999-01-01T00:00:00Z' }));
  assert.equal(lasting.check('invoices').plan, 'PRO');
  for (const bad of [NaN, 'now', new Date('x'), -5000, 1e16]) {
    assert.throws(() => lasting.check('invoices', 1, bad), { code: 'validation_error' }, String(bad));
    assert.throws(() => lasting.usage(bad), { code: 'validation_error' }, String(bad));
  }
});

test('client.remove deletes, frees the seat locally and emits a change', async () => {
  const server = fakeServer({ used: { team_members: 1 } });
  const client = await createClient({ baseUrl: 'https://api.example.test', token: server.token, fetch: server.fetch });
  await assert.rejects(client.create('team_members', '/team-members/', { email: 'a@example.com' }), LimitReachedError);
  const events = [];
  client.subscribe((e) => events.push(e.reason));
  await client.remove('team_members', '/team-members/team_members_1/');
  assert.deepEqual(server.state.calls.at(-1), { method: 'DELETE', path: '/team-members/team_members_1/', body: undefined, headers: server.state.calls.at(-1).headers });
  assert.deepEqual(events, ['record']);
  assert.equal(row(client.usage(), 'team_members').text, '0/1 seats (0%)');
  await client.create('team_members', '/team-members/', { email: 'b@example.com' });
  assert.equal(server.state.used.team_members, 1);
  await assert.rejects(client.remove('team_members', '/team-members/nobody/'), { code: 'not_found', status: 404 });
  await assert.rejects(client.remove('invoices', '/invoices/1/'), { code: 'validation_error', message: 'only an allocation can be removed: "invoices" is metered' });
  const before = server.state.calls.length;
  await assert.rejects(client.create('pdf_export', '/exports/', {}), { code: 'validation_error', message: 'only what is counted is created: "pdf_export" is boolean' });
  await assert.rejects(client.create('widgets', '/widgets/', {}), { code: 'unknown_feature' });
  assert.equal(server.state.calls.length, before, 'refused without a request');
});

test('client.meter: a negative quantity releases an allocation; a switch is answered, not counted', async () => {
  const server = fakeServer({ used: { customers: 4 } });
  const client = await createClient({ baseUrl: 'https://api.example.test', token: server.token, fetch: server.fetch });
  const released = await client.meter('customers', -2);
  assert.equal(released.used, 2);
  assert.equal(row(client.usage(), 'customers').text, '2/5 (40%)');
  await assert.rejects(client.meter('invoices', -1), { code: 'validation_error', message: 'a metered feature cannot be released', status: null });
  await assert.rejects(client.meter('customers', 1.5), { code: 'validation_error' });
  await assert.rejects(client.meter('pdf_export'), (e) => {
    assert.ok(e instanceof LimitReachedError);
    assert.deepEqual([e.kind, e.limit, e.current, e.upgrade.plan, e.upgrade.limit, e.override], ['boolean', false, 0, 'BASIC', true, null]);
    assert.equal(e.message, 'Limit reached: pdf_export is off on FREE');
    return true;
  });
  assert.equal(row(client.usage(), 'customers').text, '2/5 (40%)', 'a switch answer changes no count');
  assert.equal((await client.meter('attachment_mb', 5)).allowed, true);
});

test('a local refusal of a switch or a value is a LimitReachedError naming its kind', async () => {
  const core = await createCore(catalog, snapshot('FREE'));
  const e = new LimitReachedError(core.check('attachment_mb', 30, DURING));
  assert.deepEqual([e.kind, e.limit, e.upgrade.plan, e.message], ['value', 5, 'PRO', 'Limit reached: attachment_mb 30 is over 5 on FREE']);
  assert.equal(new LimitReachedError(core.check('invoices', 11, DURING)).message, 'Limit reached: invoices 0/10 on FREE');
});
