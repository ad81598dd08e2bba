// What may be bought, decided by the core (sima::CanBuy / sima::Activate), and money as text by
// the core's sima::FormatRupees: what the plans page of the demo shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCore, formatRupees, SimaError } from '../src/node.js';
import { catalog, snapshot } from './fixtures.mjs';

// In the fixtures a paid plan runs 2026-11-01 .. 2026-12-01.
const DURING = Date.parse('2026-11-10T00:00:00Z');
const AFTER = new Date('2026-12-05T00:00:00Z');

test('on FREE every paid plan may be bought and starts a new period; FREE itself may not', async () => {
  const core = await createCore(catalog, snapshot('FREE'));
  assert.deepEqual(core.canBuy('BASIC', DURING),
    { ok: true, plan: 'BASIC', code: null, message: null, renew: false, end_date: '2026-12-10T00:00:00Z' });
  assert.equal(core.canBuy('PRO', DURING).ok, true);
  assert.deepEqual(core.canBuy('FREE', DURING), {
    ok: false, plan: 'FREE', code: 'invalid_plan', message: 'plan "FREE" is free and cannot be bought',
    renew: false, end_date: null,
  });
});

test('the active plan may be bought again: a renewal that moves its end 30 days on', async () => {
  const core = await createCore(catalog, snapshot('PRO'));
  assert.deepEqual(core.canBuy('PRO', DURING),
    { ok: true, plan: 'PRO', code: null, message: null, renew: true, end_date: '2026-12-31T00:00:00Z' });
  const basic = await createCore(catalog, snapshot('BASIC'));
  assert.equal(basic.canBuy('BASIC', DURING).renew, true);
  assert.equal(basic.canBuy('PRO', DURING).renew, false, 'an upgrade starts a new period');
});

test('a lower plan is refused while a higher one is active, with the core reason', async () => {
  const core = await createCore(catalog, snapshot('PRO'));
  assert.deepEqual(core.canBuy('BASIC', DURING), {
    ok: false, plan: 'BASIC', code: 'conflict',
    message: 'plan PRO is active until 2026-12-01T00:00:00Z; the lower plan BASIC cannot be bought while it lasts',
    renew: false, end_date: null,
  });
});

test('after the plan ended, buying it again starts anew and a lower plan is allowed', async () => {
  const core = await createCore(catalog, snapshot('PRO'));
  assert.deepEqual(core.canBuy('PRO', AFTER),
    { ok: true, plan: 'PRO', code: null, message: null, renew: false, end_date: '2027-01-04T00:00:00Z' });
  assert.equal(core.canBuy('BASIC', AFTER).ok, true);
});

test('setUsage brings the new subscription; a plan from a 403 has no known end', async () => {
  const core = await createCore(catalog, snapshot('FREE'));
  assert.equal(core.canBuy('BASIC', DURING).ok, true);
  core.setUsage(snapshot('PRO'));
  assert.equal(core.canBuy('BASIC', DURING).code, 'conflict');
  core.setUsage(snapshot('FREE'));
  core.applyLimitReached({ feature: 'invoices', current: 1000, limit: 1000, plan: 'BASIC', upgrade: null });
  assert.deepEqual(core.canBuy('FREE', DURING).code, 'invalid_plan');
  assert.equal(core.canBuy('BASIC', DURING).renew, false, 'no end known: buying starts a new period');
  // Buying BASIC over an unknown-dated PRO is still refused, without a date.
  core.applyLimitReached({ feature: 'team_members', current: 10, limit: 10, plan: 'PRO', upgrade: null });
  assert.equal(core.canBuy('BASIC', DURING).message,
    'plan PRO is active; the lower plan BASIC cannot be bought while it lasts');
});

test('canBuy uses the clock when no time is given, and refuses unknown plans and bad times', async () => {
  const core = await createCore(catalog, snapshot('FREE'));
  const now = core.canBuy('BASIC');
  assert.equal(now.ok, true);
  assert.ok(Date.parse(now.end_date) > Date.now() + 29 * 86400_000);
  assert.deepEqual(core.canBuy('GOLD', DURING),
    { ok: false, plan: 'GOLD', code: 'invalid_plan', message: 'unknown plan "GOLD"', renew: false, end_date: null });
  for (const bad of [NaN, Infinity, 'now', null, new Date('nonsense')]) {
    assert.throws(() => core.canBuy('BASIC', bad), (e) => e instanceof SimaError && e.code === 'validation_error', String(bad));
  }
  assert.throws(() => core.canBuy('BASIC', -1000), /now must be a time between 1970 and 9999/);
  assert.throws(() => core.canBuy('BASIC', 1e16), /now must be a time between 1970 and 9999/);
  assert.throws(() => core.canBuy(42, DURING), /plan must be a string, got number/);
  assert.equal(core.canBuy('BASIC', DURING).ok, true, 'the core still answers');
});

test('a snapshot with a broken subscription is refused, naming the field', async () => {
  const broken = { ...snapshot('PRO'), subscription: { plan: 'PRO', start_date: 'soon', end_date: null } };
  await assert.rejects(createCore(catalog, broken),
    { code: 'validation_error', message: 'usage snapshot: subscription.start_date must be an RFC 3339 time' });
  // No subscription at all is fine: FREE, nothing known about dates.
  const core = await createCore(catalog, { plan: 'FREE', usage: {} });
  assert.equal(core.canBuy('PRO', DURING).ok, true);
});

test('formatRupees is the core formatter: thousands, whole rupees unless paisa are left', () => {
  assert.equal(formatRupees(190000), '1,900');
  assert.equal(formatRupees(0), '0');
  assert.equal(formatRupees(123456789), '1,234,567.89');
  assert.equal(formatRupees(13350), '133.5');
  assert.equal(formatRupees(-5000000), '-50,000');
  assert.equal(formatRupees(250000, { minDecimals: 2 }), '2,500.00');
  assert.equal(formatRupees(270000, { thousands: false, minDecimals: 1 }), '2700.0');
  for (const [paisa, options] of [[1.5], [NaN], [2 ** 60], ['100'], [100, { minDecimals: 3 }]]) {
    assert.throws(() => formatRupees(paisa, options), (e) => e instanceof SimaError && e.code === 'validation_error');
  }
});
