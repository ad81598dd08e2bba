// Bad input from JS gets a typed SimaError with a clear message; the wasm instance keeps working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCore, SimaError } from '../src/node.js';
import { catalog, snapshot } from './fixtures.mjs';

const error = (code, message) => (e) => {
  assert.ok(e instanceof SimaError, `expected a SimaError, got ${e}`);
  assert.equal(e.code, code);
  if (message) assert.match(e.message, message);
  return true;
};

test('unknown feature', async () => {
  const core = await createCore(catalog, snapshot('FREE'));
  assert.throws(() => core.check('widgets'), error('unknown_feature', /unknown feature "widgets"/));
  assert.throws(() => core.record('widgets'), error('unknown_feature'));
  assert.throws(() => core.upgradeOptions('widgets'), error('unknown_feature'));
});

test('zero, negative and fractional n', async () => {
  const core = await createCore(catalog, snapshot('FREE'));
  assert.throws(() => core.check('invoices', 0), error('validation_error', /at least 1, got 0/));
  assert.throws(() => core.check('invoices', -3), error('validation_error', /got -3/));
  assert.throws(() => core.check('invoices', 1.5), error('validation_error', /whole number/));
  assert.throws(() => core.check('invoices', NaN), error('validation_error', /NaN/));
  assert.throws(() => core.check('invoices', Infinity), error('validation_error'));
  assert.throws(() => core.check('invoices', 2 ** 60), error('validation_error'));
  assert.throws(() => core.record('invoices', -1), error('validation_error', /at least 1/));
  assert.throws(() => core.setUsed('invoices', -1), error('validation_error', /0 or more/));
});

test('wrong types', async () => {
  const core = await createCore(catalog, snapshot('FREE'));
  assert.throws(() => core.check(42), error('validation_error', /feature must be a string, got number/));
  assert.throws(() => core.check(undefined), error('validation_error'));
  assert.throws(() => core.check('invoices', '2'), error('validation_error', /n must be a number, got string/));
  assert.throws(() => core.record(null), error('validation_error', /got null/));
  assert.throws(() => core.usageAfterUpgrade(7), error('validation_error'));
  for (const now of ['2026-11-10', null, {}, new Date('soon'), -1, 1e16]) {
    assert.throws(() => core.usageAfterUpgrade('PRO', now), error('validation_error', /now must be/), String(now));
    assert.throws(() => core.upgradeOptions('invoices', 1, now), error('validation_error', /now must be/), String(now));
  }
  assert.throws(() => core.record('pdf_export'), error('validation_error', /it has no count/));
  assert.throws(() => core.setUsed('attachment_mb', 3), error('validation_error', /it has no count/));
  assert.throws(() => core.setUsage(5), error('validation_error', /usage snapshot must be a JSON string or an object/));
  await assert.rejects(createCore(undefined), error('validation_error', /catalog must be/));
  await assert.rejects(createCore([catalog]), error('validation_error', /got an array/));
});

test('malformed catalog JSON', async () => {
  await assert.rejects(createCore('{"features": ['), error('invalid_json', /not valid JSON/));
  await assert.rejects(createCore('null'), error('invalid_catalog'));
  await assert.rejects(createCore({ ...catalog, plans: [] }), error('invalid_catalog', /no FREE plan/));
  const bad = structuredClone(catalog);
  bad.plans[1].limits.invoices = -5;
  await assert.rejects(createCore(bad), error('invalid_catalog', /-5/));
  const wrong = structuredClone(catalog);
  wrong.plans[0].limits.invoices = 'ten';
  await assert.rejects(createCore(wrong), error('invalid_catalog', /must be an integer/));
  const cyclic = {};
  cyclic.self = cyclic;
  await assert.rejects(createCore(cyclic), error('invalid_json'));
  await assert.rejects(createCore('['.repeat(100000)), error('invalid_json'));
});

test('malformed usage JSON', async () => {
  await assert.rejects(createCore(catalog, '{"plan":'), error('invalid_json'));
  await assert.rejects(createCore(catalog, { usage: {} }), error('validation_error', /plan/));
  await assert.rejects(createCore(catalog, { plan: 'GOLD', usage: {} }), error('invalid_plan', /GOLD/));
  await assert.rejects(createCore(catalog, { plan: 'FREE', usage: { invoices: { used: -2 } } }), error('validation_error', /invoices/));
  await assert.rejects(createCore(catalog, { plan: 'FREE', usage: { invoices: { used: 'x' } } }), error('validation_error'));
  const core = await createCore(catalog, snapshot('FREE', { invoices: 3 }));
  assert.throws(() => core.setUsage('{"plan":"FREE","usage":[]}'), error('validation_error'));
  assert.equal(core.check('invoices').current, 3, 'a refused snapshot changes nothing');
  assert.throws(() => core.usageAfterUpgrade('GOLD'), error('invalid_plan'));
});

test('strings that are not valid UTF-8 do not break the core', async () => {
  const core = await createCore(catalog, snapshot('FREE'));
  assert.throws(() => core.check('\ud800bad'), error('unknown_feature'));
  assert.throws(() => core.usageAfterUpgrade('\udfff'), error('invalid_plan'));
});

test('after every kind of bad input the instance still answers', async () => {
  const core = await createCore(catalog, snapshot('FREE', { invoices: 10 }));
  for (const f of [() => core.check('x'), () => core.check('invoices', -1), () => core.setUsage('{'), () => core.record(1)]) {
    assert.throws(f, SimaError);
  }
  await assert.rejects(createCore('garbage'), SimaError);
  assert.equal(core.check('invoices').allowed, false);
  assert.equal(core.check('invoices').upgrade.plan, 'BASIC');
  const fresh = await createCore(catalog, snapshot('FREE', { invoices: 1 }));
  assert.equal(fresh.check('invoices').allowed, true);
});
