// Parity: one table of cases through the native core (tests/parity/sima-parity) and through
// this package (check, usage, usageAfterUpgrade, upgradeOptions, canBuy); every answer must be
// the same, field by field, errors included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCore, SimaError } from '../src/index.js';
import { catalog, snapshot } from './fixtures.mjs';

const BIN = process.env.SIMA_PARITY_BIN ??
  fileURLToPath(new URL('../../build/release/tests/parity/sima-parity', import.meta.url));

const zeroLimits = {
  features: [{ key: 'seats', label: 'Seats' }, { key: 'events', label: 'Events', enforcement: 'soft' }],
  plans: [
    { code: 'FREE', price: 0, limits: { seats: 0, events: 0 } },
    { code: 'TEAM', price_paisa: 50000, limits: { seats: 5, events: 1000 } },
    { code: 'BIG', price: 900, limits: { seats: 5, events: -1 } },
  ],
};

function cases() {
  const out = [];
  const features = ['invoices', 'customers', 'team_members', 'api_calls'];
  const counts = [0, 1, 4, 5, 8, 9, 10, 11, 49, 50, 99, 100, 450, 999, 1000, 3000, 100000];
  for (const plan of ['FREE', 'BASIC', 'PRO']) {
    for (const feature of features) {
      for (const used of counts) {
        for (const n of [1, 2, 1000]) {
          out.push({ usage: snapshot(plan, { [feature]: used }), op: 'check', feature, n });
        }
        for (const n of [1, 60]) {
          out.push({ usage: snapshot(plan, { [feature]: used }), op: 'upgradeOptions', feature, n });
        }
      }
    }
    for (const used of counts) {
      const u = snapshot(plan, { invoices: used, customers: used, team_members: used, api_calls: used });
      out.push({ usage: u, op: 'usage' });
      for (const target of ['FREE', 'BASIC', 'PRO', 'GOLD']) out.push({ usage: u, op: 'afterUpgrade', plan: target });
    }
  }
  for (const op of ['check', 'upgradeOptions']) {
    for (const n of [0, -1]) out.push({ usage: snapshot('FREE'), op, feature: 'invoices', n });
    out.push({ usage: snapshot('FREE'), op, feature: 'widgets', n: 1 });
  }
  for (const used of [0, 1, 5, 6, 1000, 1001]) {
    for (const plan of ['FREE', 'TEAM', 'BIG']) {
      const u = { plan, usage: { seats: { used }, events: { used } } };
      out.push({ catalog: zeroLimits, usage: u, op: 'check', feature: 'seats', n: 1 });
      out.push({ catalog: zeroLimits, usage: u, op: 'check', feature: 'events', n: 1 });
      out.push({ catalog: zeroLimits, usage: u, op: 'usage' });
      out.push({ catalog: zeroLimits, usage: u, op: 'upgradeOptions', feature: 'seats', n: 1 });
      out.push({ catalog: zeroLimits, usage: u, op: 'upgradeOptions', feature: 'events', n: 5 });
    }
  }
  // canBuy: every plan (and an unknown one) from every plan, during, at the end of and after
  // the subscription, and on subscriptions without an end.
  const subscriptions = {
    none: undefined,
    active: (plan) => ({ plan, is_active: plan !== 'FREE', start_date: '2026-11-01T00:00:00Z', end_date: plan === 'FREE' ? null : '2026-12-01T00:00:00Z' }),
    endless: (plan) => ({ plan, is_active: false, start_date: '2026-11-01T00:00:00Z', end_date: null }),
  };
  for (const [kind, sub] of Object.entries(subscriptions)) {
    for (const plan of ['FREE', 'BASIC', 'PRO']) {
      const u = { ...snapshot(plan), subscription: sub?.(plan) };
      if (kind === 'none') delete u.subscription;
      for (const at of ['2026-10-01T00:00:00Z', '2026-11-10T12:34:56Z', '2026-11-30T23:59:59Z', '2026-12-01T00:00:00Z', '2027-03-01T00:00:00Z']) {
        for (const target of ['FREE', 'BASIC', 'PRO', 'GOLD', '']) out.push({ usage: u, op: 'canBuy', plan: target, at });
      }
    }
  }
  for (const plan of ['FREE', 'TEAM', 'BIG']) {
    const u = { plan, usage: {}, subscription: { plan, start_date: '2026-11-01T00:00:00Z', end_date: plan === 'FREE' ? null : '2026-12-01T00:00:00Z' } };
    for (const target of ['FREE', 'TEAM', 'BIG']) out.push({ catalog: zeroLimits, usage: u, op: 'canBuy', plan: target, at: '2026-11-15T00:00:00Z' });
  }
  return out.map((c) => ({ catalog: c.catalog ?? catalog, ...c }));
}

async function viaJs(c) {
  try {
    const core = await createCore(c.catalog, c.usage);
    if (c.op === 'check') return { ok: true, result: core.check(c.feature, c.n) };
    if (c.op === 'usage') return { ok: true, result: core.usage() };
    if (c.op === 'upgradeOptions') return { ok: true, result: core.upgradeOptions(c.feature, c.n) };
    if (c.op === 'canBuy') return { ok: true, result: core.canBuy(c.plan, Date.parse(c.at)) };
    return { ok: true, result: core.usageAfterUpgrade(c.plan) };
  } catch (e) {
    if (!(e instanceof SimaError)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
}

test('the wasm package answers every case exactly as the native core', async (t) => {
  assert.ok(existsSync(BIN), `native parity binary not found at ${BIN}: run ` +
    '`cmake --preset release && cmake --build --preset release --target sima-parity` or set SIMA_PARITY_BIN');
  const table = cases();
  const native = JSON.parse(execFileSync(BIN, { input: JSON.stringify(table), maxBuffer: 64 << 20 }).toString());
  assert.equal(native.length, table.length);
  let compared = 0;
  for (let i = 0; i < table.length; i++) {
    const js = await viaJs(table[i]);
    const label = `${table[i].op} ${table[i].usage.plan} ${table[i].feature ?? table[i].plan ?? ''} ${JSON.stringify(table[i].usage.usage)} n=${table[i].n}`;
    assert.deepEqual(js, native[i], label);
    compared++;
  }
  t.diagnostic(`${compared} cases compared`);
  assert.ok(compared > 700);
  assert.ok(table.filter((c) => c.op === 'canBuy').length > 200);
});
