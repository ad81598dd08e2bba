// Shared inputs: the default catalog of docs/api.md, usage snapshots, and a fake sima-server.
export const catalog = {
  currency: 'NPR',
  period_days: 30,
  features: [
    { key: 'invoices', label: 'Invoices', enforcement: 'hard' },
    { key: 'customers', label: 'Customers', enforcement: 'hard' },
    { key: 'team_members', label: 'Team members', enforcement: 'hard' },
    { key: 'api_calls', label: 'API calls', enforcement: 'soft' },
  ],
  plans: [
    { code: 'FREE', name: 'Free', price: 0, price_paisa: 0, limits: { invoices: 10, customers: 5, team_members: 1, api_calls: 100 } },
    { code: 'BASIC', name: 'Basic', price: 1900, price_paisa: 190000, limits: { invoices: 1000, customers: 50, team_members: 3, api_calls: 10000 } },
    { code: 'PRO', name: 'Pro', price: 3900, price_paisa: 390000, limits: { invoices: -1, customers: -1, team_members: 10, api_calls: 100000 } },
  ],
};

export function snapshot(plan, used = {}) {
  const limits = catalog.plans.find((p) => p.code === plan)?.limits ?? {};
  const usage = {};
  for (const f of catalog.features) usage[f.key] = { used: used[f.key] ?? 0, limit: limits[f.key] ?? 0 };
  return {
    org_id: 'org_test',
    plan,
    subscription: { plan, is_active: plan !== 'FREE', start_date: '2026-11-01T00:00:00Z', end_date: plan === 'FREE' ? null : '2026-12-01T00:00:00Z' },
    period: { start: '2026-11-01T00:00:00Z', end: '2026-12-01T00:00:00Z' },
    usage,
  };
}

/**
 * A fake sima-server answering as docs/api.md says, over a fetch-shaped function.
 * Counts are authoritative here; `calls` records every request.
 */
export function fakeServer({ token = 'st_test', plan = 'FREE', used = {} } = {}) {
  const state = { plan, used: { invoices: 0, customers: 0, team_members: 0, api_calls: 0, ...used }, payments: [], calls: [] };
  const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const limitOf = (f) => catalog.plans.find((p) => p.code === state.plan).limits[f];
  const refuse = (feature) => {
    const current = state.used[feature];
    const upgrade = catalog.plans.find((p) => p.price_paisa > catalog.plans.find((q) => q.code === state.plan).price_paisa &&
      (p.limits[feature] === -1 || p.limits[feature] >= current + 1));
    return json(403, { error: 'Limit reached', code: 'limit_reached', feature, current, limit: limitOf(feature), plan: state.plan,
      upgrade: upgrade ? { plan: upgrade.code, limit: upgrade.limits[feature], price: upgrade.price } : null });
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
    if (u.pathname === '/billing/usage/') return json(200, snapshot(state.plan, state.used));
    const feature = creates[u.pathname];
    if (feature && method === 'POST') {
      const limit = limitOf(feature);
      if (limit !== -1 && state.used[feature] + 1 > limit) return refuse(feature);
      state.used[feature] += 1;
      return json(201, { id: `${feature}_${state.used[feature]}`, ...body });
    }
    const meter = u.pathname.match(/^\/usage\/([a-z_]+)\/$/);
    if (meter && method === 'POST') {
      if (!(meter[1] in state.used)) return json(400, { error: `unknown feature ${meter[1]}`, code: 'validation_error', field: 'feature' });
      state.used[meter[1]] += body.quantity;
      return json(200, { allowed: true, feature: meter[1], used: state.used[meter[1]], limit: limitOf(meter[1]), plan: state.plan });
    }
    if (u.pathname === '/billing/khalti/init/' && method === 'POST') {
      const p = catalog.plans.find((q) => q.code === body.plan);
      if (!p || p.price === 0) return json(400, { error: `plan ${body.plan} cannot be bought`, code: 'invalid_plan' });
      const payment = { payment_id: state.payments.length + 1, provider: 'KHALTI', plan: p.code, amount: p.price, amount_paisa: p.price_paisa,
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
  // What the gateway round trip does on the server: activate the plan, reset usage.
  function completePayment(id, status = 'SUCCESS') {
    const p = state.payments[id - 1];
    p.status = status;
    if (status === 'SUCCESS') {
      state.plan = p.plan;
      for (const k of Object.keys(state.used)) state.used[k] = 0;
    }
  }
  return { fetch, state, completePayment, token };
}
