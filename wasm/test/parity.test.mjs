// Parity: one table of cases through the native core (tests/parity/sima-parity) and through
// this package (check, usage, usageAfterUpgrade, upgradeOptions, canBuy, lifecycle, quote),
// every kind of feature and the organization's overrides, each at its time ("at"), and the
// subscription's lifecycle (trial, renewal due, grace, canceled, a scheduled switch, expired)
// at every boundary; every answer must be the same, field by field, errors included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCore, SimaError } from '../src/node.js';
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

// Soft allocations, a switch only the top plan has, a value that is unlimited on top.
const kindsCatalog = {
  features: [
    { key: 'projects', label: 'Projects', kind: 'allocation', enforcement: 'soft' },
    { key: 'sso', label: 'Single sign-on', kind: 'boolean' },
    { key: 'upload_gb', label: 'Upload size', kind: 'value', unit: 'GB' },
  ],
  plans: [
    { code: 'FREE', price: 0, limits: { projects: 2, sso: false, upload_gb: 1 } },
    { code: 'TEAM', price: 500, limits: { projects: 20, sso: false, upload_gb: 10 } },
    { code: 'BIG', price: 900, limits: { projects: -1, sso: true, upload_gb: -1 } },
  ],
};

// The fixtures' paid plans run 2026-11-01 .. 2026-12-01.
const DURING = '2026-11-10T12:00:00Z';
const LATER = '2026-11-25T00:00:00Z'; // the deals below that end on 2026-11-20 have ended
const AFTER = '2026-12-05T00:00:00Z'; // the paid plan has ended: FREE

// Sets of overrides as GET /billing/usage/ lists them.
const overrideSets = [
  [{ feature: 'invoices', limit: 5000, plan: 'BASIC', until: '2026-11-20T00:00:00Z' }],
  [{ feature: 'custom_branding', limit: true, plan: null, until: null }, { feature: 'attachment_mb', limit: 10, plan: null, until: null }],
  [{ feature: 'team_members', limit: 2, plan: 'FREE', until: null }, { feature: 'pdf_export', limit: false, plan: 'PRO', until: '2026-11-20T00:00:00Z' }],
  [{ feature: 'customers', limit: -1, plan: null, until: '2026-11-20T00:00:00Z' }, { feature: 'api_calls', limit: 0, plan: 'BASIC', until: null }],
];

function cases() {
  const out = [];
  const counted = ['invoices', 'customers', 'team_members', 'api_calls'];
  const counts = [0, 1, 4, 5, 9, 10, 11, 50, 100, 450, 1000, 3000];
  for (const plan of ['FREE', 'BASIC', 'PRO']) {
    for (const at of [DURING, AFTER]) {
      for (const feature of counted) {
        for (const used of counts) {
          for (const n of [1, 2, 1000]) out.push({ usage: snapshot(plan, { [feature]: used }), op: 'check', feature, n, at });
          out.push({ usage: snapshot(plan, { [feature]: used }), op: 'upgradeOptions', feature, n: 60, at });
        }
      }
      for (const feature of ['pdf_export', 'custom_branding']) {
        out.push({ usage: snapshot(plan), op: 'check', feature, n: 1, at });
        out.push({ usage: snapshot(plan), op: 'upgradeOptions', feature, n: 1, at });
      }
      for (const n of [0, 1, 5, 6, 25, 26, 100, 101]) {
        out.push({ usage: snapshot(plan), op: 'check', feature: 'attachment_mb', n, at });
        out.push({ usage: snapshot(plan), op: 'upgradeOptions', feature: 'attachment_mb', n, at });
      }
      for (const used of counts) {
        const u = snapshot(plan, { invoices: used, customers: used, team_members: used, api_calls: used });
        out.push({ usage: u, op: 'usage', at });
        for (const target of ['FREE', 'BASIC', 'PRO', 'GOLD']) out.push({ usage: u, op: 'afterUpgrade', plan: target, at });
      }
    }
    // Overrides: in force, ended, scoped to another plan.
    for (const overrides of overrideSets) {
      const u = snapshot(plan, { invoices: 1200, customers: 60, team_members: 2, api_calls: 5 }, { overrides });
      for (const at of [DURING, LATER, AFTER]) {
        for (const feature of catalog.features.map((f) => f.key)) {
          for (const n of [1, 20]) out.push({ usage: u, op: 'check', feature, n, at });
          out.push({ usage: u, op: 'upgradeOptions', feature, n: 1, at });
        }
        out.push({ usage: u, op: 'usage', at });
        for (const target of ['BASIC', 'PRO']) out.push({ usage: u, op: 'afterUpgrade', plan: target, at });
      }
    }
  }
  for (const op of ['check', 'upgradeOptions']) {
    for (const n of [0, -1]) out.push({ usage: snapshot('FREE'), op, feature: 'invoices', n, at: DURING });
    out.push({ usage: snapshot('FREE'), op, feature: 'attachment_mb', n: -1, at: DURING });
    out.push({ usage: snapshot('FREE'), op, feature: 'widgets', n: 1, at: DURING });
  }
  for (const used of [0, 1, 5, 6, 1000, 1001]) {
    for (const plan of ['FREE', 'TEAM', 'BIG']) {
      const u = { plan, usage: { seats: { used }, events: { used } } };
      out.push({ catalog: zeroLimits, usage: u, op: 'check', feature: 'seats', n: 1, at: DURING });
      out.push({ catalog: zeroLimits, usage: u, op: 'check', feature: 'events', n: 1, at: DURING });
      out.push({ catalog: zeroLimits, usage: u, op: 'usage', at: DURING });
      out.push({ catalog: zeroLimits, usage: u, op: 'upgradeOptions', feature: 'seats', n: 1, at: DURING });
      out.push({ catalog: zeroLimits, usage: u, op: 'upgradeOptions', feature: 'events', n: 5, at: DURING });
      const k = { plan, usage: { projects: { used } } };
      for (const [feature, n] of [['projects', 1], ['projects', 20], ['sso', 1], ['upload_gb', used]]) {
        out.push({ catalog: kindsCatalog, usage: k, op: 'check', feature, n, at: DURING });
        out.push({ catalog: kindsCatalog, usage: k, op: 'upgradeOptions', feature, n, at: DURING });
      }
      out.push({ catalog: kindsCatalog, usage: k, op: 'usage', at: DURING });
      for (const target of ['TEAM', 'BIG']) out.push({ catalog: kindsCatalog, usage: k, op: 'afterUpgrade', plan: target, at: DURING });
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
        out.push({ usage: u, op: 'check', feature: 'team_members', n: 1, at });
      }
    }
  }
  for (const plan of ['FREE', 'TEAM', 'BIG']) {
    const u = { plan, usage: {}, subscription: { plan, start_date: '2026-11-01T00:00:00Z', end_date: plan === 'FREE' ? null : '2026-12-01T00:00:00Z' } };
    for (const target of ['FREE', 'TEAM', 'BIG']) out.push({ catalog: zeroLimits, usage: u, op: 'canBuy', plan: target, at: '2026-11-15T00:00:00Z' });
  }
  out.push(...lifecycleCases());
  return out.map((c) => ({ catalog: c.catalog ?? catalog, ...c }));
}

const DAY = 86400e3;
const at = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

// The lifecycle and what paying costs, at every boundary of every kind of subscription: the
// exact second of the end, the grace's end, renewal_due's start, and a period over a leap
// February; catalogs with the default renewal settings, with others, and with none.
function lifecycleCases() {
  const out = [];
  const catalogs = [
    catalog, // notice days [7, 3, 1], grace 3
    { ...catalog, renewal_notice_days: [10, 2], grace_days: 5 },
    { ...catalog, renewal_notice_days: [], grace_days: 0 },
  ];
  const periods = [
    ['2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'],
    ['2028-02-10T08:30:00Z', '2028-03-11T08:30:00Z'], // over 29 February
  ];
  const kinds = {
    paid: {},
    trial: { trial: true },
    canceled: { scheduled_change: { kind: 'cancel', plan: null } },
    switching: { scheduled_change: { kind: 'switch', plan: 'BASIC' } },
  };
  for (const cat of catalogs) {
    const notice = cat.renewal_notice_days ?? [7, 3, 1];
    const grace = cat.grace_days ?? 3;
    for (const [start, end] of periods) {
      const e = Date.parse(end);
      const s = Date.parse(start);
      const moments = [s, s + 9 * DAY + 1234e3, e - 1e3, e, e + grace * DAY - 1e3, e + grace * DAY, e + 40 * DAY];
      if (notice.length) moments.push(e - notice[0] * DAY - 1e3, e - notice[0] * DAY);
      for (const [kind, extra] of Object.entries(kinds)) {
        for (const plan of ['BASIC', 'PRO']) {
          if (kind === 'switching' && plan === 'BASIC') continue;
          // As the server sends it: "plan" is the plan in force, "subscribed_plan" the paid one.
          const subscription = { plan, is_active: true, start_date: start, end_date: end, subscribed_plan: plan, trial: false, scheduled_change: null, ...extra };
          const u = { plan, usage: { invoices: { used: 500 }, team_members: { used: 2 } }, subscription };
          for (const m of moments.sort((a, b) => a - b)) {
            out.push({ catalog: cat, usage: u, op: 'lifecycle', at: at(m) });
            for (const target of ['FREE', 'BASIC', 'PRO', 'GOLD']) out.push({ catalog: cat, usage: u, op: 'quote', plan: target, at: at(m) });
            for (const target of ['BASIC', 'PRO']) out.push({ catalog: cat, usage: u, op: 'canBuy', plan: target, at: at(m) });
            out.push({ catalog: cat, usage: u, op: 'check', feature: 'invoices', n: 1, at: at(m) });
            out.push({ catalog: cat, usage: u, op: 'usage', at: at(m) });
          }
        }
      }
    }
  }
  // FREE, and a snapshot without a subscription or without dates.
  for (const u of [snapshot('FREE'), { plan: 'PRO', usage: {} }, { plan: 'BASIC', usage: {}, subscription: { plan: 'BASIC', start_date: '2026-11-01T00:00:00Z', end_date: null } }]) {
    out.push({ usage: u, op: 'lifecycle', at: DURING });
    for (const target of ['BASIC', 'PRO']) out.push({ usage: u, op: 'quote', plan: target, at: DURING });
  }
  // Quotes never below the gateway minimum: a cheap plan over most of a period left.
  const cheap = { ...catalog, plans: catalog.plans.map((p) => (p.code === 'BASIC' ? { ...p, price: 3895, price_paisa: 389500 } : p)) };
  const u = { plan: 'BASIC', usage: {}, subscription: { plan: 'BASIC', start_date: '2026-11-01T00:00:00Z', end_date: '2026-12-01T00:00:00Z' } };
  for (const m of ['2026-11-01T00:00:00Z', '2026-11-01T00:00:01Z', '2026-11-02T00:00:00Z', '2026-11-30T23:59:59Z']) {
    out.push({ catalog: cheap, usage: u, op: 'quote', plan: 'PRO', at: m });
  }
  return out;
}

async function viaJs(c) {
  try {
    const core = await createCore(c.catalog, c.usage);
    const at = Date.parse(c.at);
    if (c.op === 'check') return { ok: true, result: core.check(c.feature, c.n, at) };
    if (c.op === 'usage') return { ok: true, result: core.usage(at) };
    if (c.op === 'upgradeOptions') return { ok: true, result: core.upgradeOptions(c.feature, c.n, at) };
    if (c.op === 'canBuy') return { ok: true, result: core.canBuy(c.plan, at) };
    if (c.op === 'lifecycle') return { ok: true, result: core.lifecycle(at) };
    if (c.op === 'quote') return { ok: true, result: core.quote(c.plan, at) };
    return { ok: true, result: core.usageAfterUpgrade(c.plan, at) };
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
    const c = table[i];
    const label = `${c.op} ${c.usage.plan} ${c.feature ?? c.plan ?? ''} ${JSON.stringify(c.usage.usage)} n=${c.n} at=${c.at} overrides=${JSON.stringify(c.usage.overrides ?? [])}`;
    assert.deepEqual(js, native[i], label);
    compared++;
  }
  t.diagnostic(`${compared} cases compared`);
  assert.ok(compared > 3000);
  assert.ok(table.filter((c) => c.op === 'canBuy').length > 200);
  // Every state of the lifecycle, and quotes with a credit and without.
  const states = new Set(table.map((c, i) => c.op === 'lifecycle' && native[i].result.state).filter(Boolean));
  assert.deepEqual([...states].sort(), ['active', 'canceled', 'expired', 'free', 'grace', 'renewal_due', 'trialing']);
  const quotes = native.filter((r, i) => table[i].op === 'quote' && r.ok).map((r) => r.result);
  assert.ok(quotes.some((q) => q.credit_paisa > 0) && quotes.some((q) => q.credit_paisa === 0));
  assert.ok(quotes.some((q) => q.amount_paisa === 1000), 'a quote raised to the gateway minimum');
  // Every kind, and overrides, are in the table.
  const kinds = new Set(table.filter((c) => c.op === 'check').map((c) => c.catalog.features.find((f) => f.key === c.feature)?.kind ?? 'metered'));
  assert.deepEqual([...kinds].sort(), ['allocation', 'boolean', 'metered', 'value']);
  assert.ok(table.filter((c) => c.usage.overrides).length > 500);
});
