// Shared inputs: the default catalog of docs/api.md, usage snapshots, and a fake sima-server.
export const catalog = {
  currency: 'NPR',
  period_days: 30,
  features: [
    { key: 'invoices', label: 'Invoices', kind: 'metered', enforcement: 'hard', unit: '' },
    { key: 'customers', label: 'Customers', kind: 'allocation', enforcement: 'hard', unit: '' },
    { key: 'team_members', label: 'Team members', kind: 'allocation', enforcement: 'hard', unit: 'seats' },
    { key: 'api_calls', label: 'API calls', kind: 'metered', enforcement: 'soft', unit: '' },
    { key: 'pdf_export', label: 'Export to PDF', kind: 'boolean', enforcement: 'hard', unit: '' },
    { key: 'custom_branding', label: 'Custom branding', kind: 'boolean', enforcement: 'hard', unit: '' },
    { key: 'attachment_mb', label: 'Attachment size', kind: 'value', enforcement: 'hard', unit: 'MB' },
  ],
  plans: [
    { code: 'FREE', name: 'Free', price: 0, price_paisa: 0, limits: { invoices: 10, customers: 5, team_members: 1, api_calls: 100, pdf_export: false, custom_branding: false, attachment_mb: 5 } },
    { code: 'BASIC', name: 'Basic', price: 1900, price_paisa: 190000, limits: { invoices: 1000, customers: 50, team_members: 3, api_calls: 10000, pdf_export: true, custom_branding: false, attachment_mb: 25 } },
    { code: 'PRO', name: 'Pro', price: 3900, price_paisa: 390000, limits: { invoices: -1, customers: -1, team_members: 10, api_calls: 100000, pdf_export: true, custom_branding: true, attachment_mb: 100 } },
  ],
};

// The counted features of the catalog (the ones a snapshot has counts for).
export const counted = catalog.features.filter((f) => f.kind === 'metered' || f.kind === 'allocation').map((f) => f.key);

// A time while the fixtures' paid plans run (2026-11-01 .. 2026-12-01) and one after.
export const DURING = Date.parse('2026-11-10T12:00:00Z');
export const AFTER = Date.parse('2026-12-05T00:00:00Z');

/**
 * A GET /billing/usage/ answer: `plan` with `used` counts; a paid plan runs `start` .. `end`
 * (default 2026-11-01 .. 2026-12-01); `overrides` as the server lists them.
 */
export function snapshot(plan, used = {}, { overrides, start = '2026-11-01T00:00:00Z', end = '2026-12-01T00:00:00Z' } = {}) {
  const limits = catalog.plans.find((p) => p.code === plan)?.limits ?? {};
  const usage = {};
  for (const f of catalog.features) usage[f.key] = { used: used[f.key] ?? 0, limit: limits[f.key] ?? 0 };
  const out = {
    org_id: 'org_test',
    plan,
    subscription: { plan, is_active: plan !== 'FREE', start_date: start, end_date: plan === 'FREE' ? null : end },
    period: { start, end },
    usage,
  };
  if (overrides) out.overrides = overrides;
  return out;
}

/**
 * A fake sima-server answering as docs/api.md says, over a fetch-shaped function.
 * Counts are authoritative here; `calls` records every request. Its paid plans run from a day
 * ago to 29 days from now (real time), so the client decides on them.
 */
export function fakeServer({ token = 'st_test', plan = 'FREE', used = {}, overrides } = {}) {
  const state = { plan, used: Object.fromEntries(counted.map((k) => [k, used[k] ?? 0])), items: {}, payments: [], calls: [], overrides, change: null };
  for (const k of ['customers', 'team_members']) state.items[k] = Array.from({ length: state.used[k] }, (_, i) => `${k}_${i + 1}`);
  let made = 0;
  const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const planOf = () => catalog.plans.find((p) => p.code === state.plan);
  const featureOf = (key) => catalog.features.find((f) => f.key === key);
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  const fits = (limit, total) => limit === true || limit === -1 || (typeof limit === 'number' && limit >= total);
  // The 403 body: kind, current, limit and the cheapest pricier plan that allows `total`.
  const refuse = (feature, current, total) => {
    const upgrade = catalog.plans.find((p) => p.price_paisa > planOf().price_paisa && fits(p.limits[feature], total));
    return json(403, { error: 'Limit reached', code: 'limit_reached', feature, kind: featureOf(feature).kind, current,
      limit: planOf().limits[feature], plan: state.plan, override: null,
      upgrade: upgrade ? { plan: upgrade.code, limit: upgrade.limits[feature], price: upgrade.price, price_paisa: upgrade.price_paisa } : null });
  };
  const creates = { '/invoices/': 'invoices', '/customers/': 'customers', '/team-members/': 'team_members' };
  async function fetch(url, init = {}) {
    const u = new URL(url);
    const method = init.method ?? 'GET';
    const body = init.body ? JSON.parse(init.body) : undefined;
    state.calls.push({ method, path: u.pathname, body, headers: init.headers });
    if (u.pathname === '/billing/plans/') return json(200, catalog);
    if (init.headers?.Authorization !== `Bearer ${token}` || state.ended) return json(401, { error: 'Unauthorized', code: 'unauthorized' });
    if (u.pathname === '/sessions/current/' && method === 'DELETE') {
      state.ended = true;
      return new Response(null, { status: 204 });
    }
    const current = () => {
      const snap = snapshot(state.plan, state.used, { overrides: state.overrides, start: iso(Date.now() - 86400_000), end: iso(Date.now() + 29 * 86400_000) });
      snap.subscription = { ...snap.subscription, subscribed_plan: state.plan, trial: false, scheduled_change: state.change };
      return snap;
    };
    if (u.pathname === '/billing/usage/') return json(200, current());
    if (u.pathname === '/billing/subscription/') {
      if (method === 'GET') return json(200, { subscription: current().subscription });
      if (!['switch', 'cancel', 'undo'].includes(body?.change)) {
        return json(400, { error: 'change must be "switch", "cancel" or "undo"', code: 'validation_error', field: 'change' });
      }
      if (state.plan === 'FREE') return json(409, { error: 'no paid plan is active; there is nothing to change at its end', code: 'conflict' });
      const target = catalog.plans.find((p) => p.code === body.plan);
      if (body.change === 'switch' && (!target || target.price === 0)) return json(400, { error: `unknown plan "${body.plan}"`, code: 'invalid_plan' });
      if (body.change === 'switch' && target.price_paisa > planOf().price_paisa) {
        return json(409, { error: `plan ${target.code} costs more than ${state.plan}: upgrade now instead (the unused time is credited)`, code: 'conflict' });
      }
      state.change = body.change === 'cancel' ? { kind: 'cancel', plan: null }
        : body.change === 'switch' && target.code !== state.plan ? { kind: 'switch', plan: target.code } : null;
      return json(200, { subscription: current().subscription });
    }
    const feature = creates[u.pathname];
    if (feature && method === 'POST') {
      const limit = planOf().limits[feature];
      if (!fits(limit, state.used[feature] + 1)) return refuse(feature, state.used[feature], state.used[feature] + 1);
      state.used[feature] += 1;
      const id = `${feature}_new_${++made}`;
      state.items[feature]?.push(id);
      return json(201, { id, ...body });
    }
    const removed = u.pathname.match(/^\/(customers|team-members)\/([^/]+)\/$/);
    if (removed && method === 'DELETE') {
      const key = removed[1] === 'customers' ? 'customers' : 'team_members';
      const at = state.items[key].indexOf(removed[2]);
      if (at < 0) return json(404, { error: 'Not found', code: 'not_found' });
      state.items[key].splice(at, 1);
      state.used[key] -= 1;
      return new Response(null, { status: 204 });
    }
    const meter = u.pathname.match(/^\/usage\/([a-z_]+)\/$/);
    if (meter && method === 'POST') {
      const f = featureOf(meter[1]);
      if (!f) return json(400, { error: `unknown feature ${meter[1]}`, code: 'validation_error', field: 'feature' });
      const q = body.quantity ?? 1;
      const limit = planOf().limits[f.key];
      if (f.kind === 'boolean' || f.kind === 'value') {
        if (!fits(limit, f.kind === 'value' ? q : 1)) return refuse(f.key, 0, f.kind === 'value' ? q : 1);
        return json(200, { allowed: true, feature: f.key, kind: f.kind, used: 0, limit, plan: state.plan, override: null });
      }
      if (q < 0 && f.kind === 'metered') return json(400, { error: 'a metered feature cannot be released', code: 'validation_error', field: 'quantity' });
      if (state.used[f.key] + q < 0) return json(409, { error: 'more released than in use', code: 'conflict', field: 'quantity' });
      state.used[f.key] += q;
      return json(200, { allowed: true, feature: f.key, kind: f.kind, used: state.used[f.key], limit, plan: state.plan, override: null });
    }
    if (u.pathname === '/billing/khalti/init/' && method === 'POST') {
      const p = catalog.plans.find((q) => q.code === body.plan);
      if (!p || p.price === 0) return json(400, { error: `plan ${body.plan} cannot be bought`, code: 'invalid_plan' });
      const payment = { payment_id: state.payments.length + 1, provider: 'KHALTI', plan: p.code, amount: p.price, amount_paisa: p.price_paisa,
        amount_breakdown: [{ label: `${p.code}, 30 days`, amount: p.price_paisa }],
        status: 'PENDING', pidx: `pidx_${state.payments.length + 1}`, payment_url: `https://pay.example/${state.payments.length + 1}`, expires_at: '2026-11-23T11:00:00Z' };
      state.payments.push(payment);
      return json(201, payment);
    }
    const pay = u.pathname.match(/^\/billing\/payments\/(\d+)\/$/);
    if (pay) {
      const p = state.payments[Number(pay[1]) - 1];
      if (!p) return json(404, { error: 'Not found', code: 'not_found' });
      return json(200, { payment_id: p.payment_id, provider: p.provider, plan: p.plan, amount: p.amount, amount_paisa: p.amount_paisa,
        status: p.status, reason: null, reference_id: p.pidx, created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z' });
    }
    if (u.pathname === '/billing/khalti/verify/') {
      const p = state.payments[body.payment_id - 1];
      if (!p) return json(404, { error: 'Not found', code: 'not_found' });
      if (p.status === 'FAILED') return json(400, { success: false, status: 'FAILED', code: 'payment_failed', reason: 'User canceled' });
      if (p.status === 'PENDING') return json(202, { success: false, status: 'PENDING', retry_after: 5 });
      return json(200, { success: true, payment_id: p.payment_id, status: 'SUCCESS', plan: p.plan });
    }
    return json(404, { error: 'Not found', code: 'not_found' });
  }
  // What the gateway round trip does on the server: activate the plan; a new period resets the
  // metered counts, allocations stay.
  function completePayment(id, status = 'SUCCESS') {
    const p = state.payments[id - 1];
    p.status = status;
    if (status === 'SUCCESS') {
      state.plan = p.plan;
      for (const f of catalog.features) if (f.kind === 'metered') state.used[f.key] = 0;
    }
  }
  return { fetch, state, completePayment, token };
}
