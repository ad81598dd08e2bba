// The dashboard: plan badge, usage bars, and the create buttons with the instant upgrade prompt.
import {
  connect, renderHeader, renderUsage, showUpgradePrompt, wirePrompt, toast, explain, showFatal,
  planName, money, fmtDate, el, LimitReachedError,
} from './app.js';

const FEATURE_ACTIONS = {
  invoices: { path: '/invoices/', noun: 'Invoice', body: (n) => ({ amount_paisa: 50000 + Math.floor(Math.random() * 8000) * 50, description: `Invoice ${n}` }) },
  customers: { path: '/customers/', noun: 'Customer', body: (n, u) => ({ name: `Customer ${n}`, email: `customer-${u}@example.com` }) },
  team_members: { path: '/team-members/', noun: 'Team member', body: (n, u) => ({ email: `member-${u}@example.com`, name: `Member ${n}` }) },
};

let client;
let recentList;

function uniq() {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

function render() {
  renderHeader(client, session);
  renderUsage(document.getElementById('usage'), client.usage());
  document.querySelector('[data-plan-name]').textContent = `${planName(client, client.plan)} plan`;
  const period = client.snapshot?.period;
  document.querySelector('[data-period]').textContent = period
    ? `Billing period ${fmtDate(period.start)} – ${fmtDate(period.end)}. Usage resets on ${fmtDate(period.end)}.`
    : 'Your usage this period.';
  for (const feature of Object.keys(FEATURE_ACTIONS)) {
    const note = document.querySelector(`[data-note="${feature}"]`);
    const d = client.check(feature);
    note.dataset.state = d.allowed ? 'ok' : 'blocked';
    note.textContent = !d.allowed ? 'Limit reached'
      : d.remaining === null ? 'Unlimited on your plan'
        : `${d.remaining} left on ${planName(client, d.plan)}`;
  }
}

async function loadRecent() {
  try {
    const { items } = await client.request('GET', '/invoices/?limit=5');
    recentList.replaceChildren(...(items.length === 0
      ? [el('li', { class: 'empty', text: 'No invoices yet.' })]
      : items.map((inv) => el('li', {},
        el('span', {}, el('strong', { text: inv.description || `Invoice ${inv.id}` }), ' · ', fmtDate(inv.created_at)),
        el('span', { class: 'amount', text: money(client, inv.amount_paisa, { minDecimals: 2 }) })))));
  } catch (e) {
    recentList.replaceChildren(el('li', { class: 'empty', text: `Could not load invoices: ${explain(e)}` }));
  }
}

async function onCreate(button) {
  const feature = button.dataset.create;
  const action = FEATURE_ACTIONS[feature];
  performance.mark(`sima:click:${feature}`);
  // The instant check: the wasm core decides, no request is sent when the limit is reached.
  const decision = client.check(feature);
  if (!decision.allowed) {
    showUpgradePrompt(client, decision, 'local');
    markPrompt(feature);
    return;
  }
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    await client.create(feature, action.path, action.body(decision.current + 1, uniq()));
    toast(`${action.noun} created.`);
    if (feature === 'invoices') loadRecent();
  } catch (e) {
    if (e instanceof LimitReachedError) {
      // The server said no although the local view allowed it (another tab took the last slot).
      showUpgradePrompt(client, e, e.status === 403 ? 'server' : 'local');
      markPrompt(feature);
    } else {
      toast(explain(e), 'error');
    }
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

function markPrompt(feature) {
  performance.mark(`sima:prompt-shown:${feature}`);
  requestAnimationFrame(() => performance.mark(`sima:prompt-painted:${feature}`));
}

let session;
try {
  wirePrompt();
  recentList = document.getElementById('recent');
  ({ client, session } = await connect());
  render();
  performance.mark('sima:bars-drawn');
  client.subscribe(render);
  document.getElementById('main').removeAttribute('aria-busy');
  for (const button of document.querySelectorAll('[data-create]')) {
    button.disabled = false;
    button.addEventListener('click', () => onCreate(button));
  }
  document.body.dataset.ready = 'true';
  loadRecent();
} catch (e) {
  showFatal(e);
}
