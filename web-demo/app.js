// What every page of the demo shares: the session, the sima client, and the pieces of UI
// (usage bars, plan badge, upgrade prompt, toasts). Every rule comes from the `sima` package:
// this file only formats what the core answers.
import { init, createClient, formatRupees, LimitReachedError, SimaError } from 'sima';

// The wasm core is fetched and compiled now, while the session and usage requests run, not
// after them.
init();

export { LimitReachedError, SimaError };

const SESSION_KEY = 'sima-demo-session';

// A session token from our own backend (web-demo/serve.mjs), cached for this tab until it is
// about to expire. The backend holds the secret key; the browser only ever sees st_ tokens.
let minting = null; // the POST /api/session in flight: the client's first requests share it

async function session({ fresh = false } = {}) {
  if (!fresh) {
    try {
      const cached = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
      // Expiry is on sima-server's clock, which the demo's "Skip ahead" may have moved.
      if (cached && Date.parse(cached.expires_at) - demoClock.now() > 60_000) return cached;
    } catch { /* no cache */ }
    if (minting) return minting;
  }
  minting = (async () => {
    const res = await fetch('/api/session', { method: 'POST' });
    if (!res.ok) throw new SimaError('session_failed', `Could not start a session (HTTP ${res.status}). Is the demo running?`);
    const s = await res.json();
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    return s;
  })();
  try {
    return await minting;
  } finally {
    minting = null;
  }
}

// --- the demo clock -----------------------------------------------------------------------------

/**
 * The time the demo lives at: the real time plus what "Skip ahead" added to sima-server's demo
 * clock (SIMA_DEMO_CLOCK=1, through our backend, which holds the admin token). Every decision
 * of the client (limits, the subscription's state) is taken at this time, as the server does.
 */
export const demoClock = {
  enabled: false,
  offsetMs: 0,
  now: () => Date.now() + demoClock.offsetMs,
  async load() {
    try {
      const res = await fetch('/api/demo-clock');
      if (!res.ok) return;
      const clock = await res.json();
      if (!clock.enabled) return;
      demoClock.enabled = true;
      demoClock.offsetMs = clock.offset_seconds * 1000;
    } catch { /* no demo clock */ }
  },
  /** Moves the server's and the simulator's clocks `days` on; resolves with {now, offset_seconds}. */
  async advance(days) {
    const res = await fetch('/api/demo-clock', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ advance_seconds: Math.round(days * 86400) }) });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new SimaError(body.code ?? `http_${res.status}`, body.error ?? `The clock did not move (HTTP ${res.status}).`);
    demoClock.offsetMs = body.offset_seconds * 1000;
    return body;
  },
};

// What a returning visitor's page needs before any request: where sima-server is, the
// organization's name and whether the demo clock runs. Nothing secret (no token): kept in
// localStorage so the page draws from the client's persisted snapshot at once.
const SITE_KEY = 'sima-demo-site';

function knownSite() {
  try {
    const site = JSON.parse(localStorage.getItem(SITE_KEY) ?? 'null');
    return typeof site?.api_url === 'string' ? site : null;
  } catch {
    return null;
  }
}

/**
 * Connects to sima-server: returns {client, session}. On a first visit the session comes first
 * (it names the server); on a return the client starts at once from what the last visit kept
 * (the session is asked for in parallel, when the client first needs its token). A cached
 * token the server no longer knows (e.g. the demo data was reset) is replaced once.
 */
export async function connect() {
  const clock = demoClock.load();
  const site = knownSite();
  const first = session();
  first.catch(() => {}); // awaited below or by the token function
  let s = null;
  if (!site || site.clock) await clock; // decisions are taken at the demo clock's time
  if (!site) s = await first;
  const info = { api_url: (s ?? site).api_url, org: (s ?? site).org ?? null };
  const keep = (sess) => {
    s = sess;
    Object.assign(info, { api_url: sess.api_url, org: sess.org ?? null });
    try {
      localStorage.setItem(SITE_KEY, JSON.stringify({ api_url: sess.api_url, org: sess.org ?? null, clock: demoClock.enabled }));
    } catch { /* storage full or off: the next visit asks first */ }
  };
  first.then(keep, () => {});
  const make = () => createClient({
    baseUrl: info.api_url,
    clock: demoClock.now,
    token: async () => {
      keep(await session());
      return s.token;
    },
  });
  try {
    return { client: await make(), session: info };
  } catch (e) {
    if (!(e instanceof SimaError) || e.code !== 'unauthorized') throw e;
    keep(await session({ fresh: true }));
    return { client: await make(), session: info };
  }
}

// --- formatting ---------------------------------------------------------------------------------

const number = new Intl.NumberFormat('en-US');
/** "NPR 1,900": the catalog's currency and the core's rupee formatter, from paisa. */
export const money = (client, paisa, options) => `${client.catalog.currency} ${formatRupees(paisa, options)}`;
export const fmtDate = (iso) => (iso ? new Date(iso).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' }) : '—');

/** "1 Dec 2026, 14:05" for a moment the banner names. */
export const fmtDateTime = (iso) => (iso ? new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' }) + ' UTC' : '—');

/** "1,000 invoices", "unlimited customers", "3 team members" from a catalog feature label. */
export function quantity(limit, label) {
  const noun = lower(label);
  if (limit < 0) return `unlimited ${noun}`;
  return `${number.format(limit)} ${limit === 1 ? singular(noun) : noun}`;
}
/**
 * What a plan gives for a feature, in words, by its kind: "1,000 invoices", "1 seat",
 * "Export to PDF" / "No export to PDF", "Attachment size up to 25 MB".
 */
export function planFeatureText(feature, limit) {
  if (feature.kind === 'boolean') return limit ? feature.label : `No ${lower(feature.label)}`;
  if (feature.kind === 'value') return `${feature.label} ${limit < 0 ? 'unlimited' : `up to ${number.format(limit)}${feature.unit ? ` ${feature.unit}` : ''}`}`;
  const text = quantity(limit, feature.unit || feature.label);
  return text + (feature.enforcement === 'soft' ? ' (soft limit)' : '');
}

/** "Invoices" -> "invoices", "Export to PDF" -> "export to PDF", but "API calls" stays. */
export function lower(label) {
  return /^[A-Z]{2}/.test(label) ? label : label.charAt(0).toLowerCase() + label.slice(1);
}
function singular(noun) {
  return noun.replace(/ies$/, 'y').replace(/s$/, '').replace(/s( \w+)$/, '$1');
}

/** The gateways by the client's provider names ('khalti', 'esewa'), for people. */
export const PROVIDERS = { khalti: 'Khalti', esewa: 'eSewa' };
/** "Khalti" for a payment's provider ("KHALTI"). */
export const providerName = (provider) => PROVIDERS[String(provider).toLowerCase()] ?? provider;

/** Where the plans page notes that a payment renews the active plan, for the success page. */
export const renewalKey = (paymentId) => `sima-demo-renewal-${paymentId}`;

export function planName(client, code) {
  return client.catalog.plans.find((p) => p.code === code)?.name ?? code;
}

export function featureLabel(client, key) {
  return client.catalog.features.find((f) => f.key === key)?.label ?? key;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

// --- the chrome ---------------------------------------------------------------------------------

/** Builds the top bar every page shares into <header data-topbar>, marking the current page. */
function mountTopbar() {
  const header = document.querySelector('header[data-topbar]');
  if (!header) return;
  const page = location.pathname.split('/').pop() || 'index.html';
  const link = (href, text) =>
    el('a', { href, 'aria-current': page === href ? 'page' : null }, text);
  header.replaceChildren(
    el('div', { class: 'topbar-inner' },
      el('a', { class: 'brand', href: 'index.html' },
        el('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'HI'),
        el('span', {},
          el('span', { 'data-org-name': '' }, 'Himalayan Invoices'),
          el('small', {}, 'Invoicing for small teams'))),
      el('span', { class: 'plan-badge', 'data-plan-badge': '', 'aria-live': 'polite' }, '…'),
      el('nav', { class: 'nav', 'aria-label': 'Main' },
        link('index.html', 'Dashboard'),
        link('plans.html', 'Plans & billing'),
        link('webhooks.html', 'Webhooks'))));
}
mountTopbar();

/** Fills the header's org name and plan badge. */
export function renderHeader(client, s) {
  const name = document.querySelector('[data-org-name]');
  if (name && s.org?.name) name.textContent = s.org.name;
  const badge = document.querySelector('[data-plan-badge]');
  if (badge) {
    const plan = client.lifecycle().plan; // the plan in force at the demo's time
    badge.dataset.plan = plan;
    badge.textContent = `${plan} plan`;
    badge.setAttribute('aria-label', `Current plan: ${planName(client, plan)}`);
  }
}

/**
 * Usage rows (UsageRow[] from the core) into a <ul>: a bar for what is counted (metered,
 * allocations), "On"/"Off" for a switch (an off one names the plan that turns it on), the
 * number for a value. An override in force is marked; a hard feature over its limit says why.
 */
export function renderUsage(list, rows, { compact = false, client = null } = {}) {
  list.classList.toggle('compact', compact);
  list.replaceChildren(...rows.map((row) => {
    const counted = row.kind === 'metered' || row.kind === 'allocation';
    const unlimited = counted && row.limit < 0;
    const unlock = row.unlock && client ? ` · on ${planName(client, row.unlock.plan)}` : '';
    const head = el('div', { class: 'usage-row-head' },
      el('span', { class: 'usage-label' }, row.label,
        row.override ? el('span', { class: 'deal-tag', 'data-override': '', title: dealText(row.override), text: 'your deal' }) : null),
      el('span', { class: 'usage-text' },
        el('span', { 'data-usage-text': '', text: row.text }),
        unlock ? el('span', { class: 'unlock', 'data-unlock': row.unlock.plan, text: unlock }) : null,
        row.status === 'over' ? el('span', { class: 'over-flag', text: '⚠ OVER' }) : null));
    let hint = null;
    if (!compact && row.note) hint = row.note;
    else if (!compact && row.status === 'over') hint = `Over the ${row.limit} included this period — ${lower(row.label)} keep working (soft limit).`;
    else if (!compact && row.status === 'full') hint = row.kind === 'allocation' ? 'All in use: remove one or upgrade to add more.' : 'Limit reached: upgrade to add more.';
    return el('li', { class: 'usage-row', 'data-feature': row.feature, 'data-kind': row.kind, 'data-status': row.status,
      'data-unlimited': unlimited, 'data-on': row.kind === 'boolean' ? String(row.limit) : null },
    head,
    counted ? el('div', { class: 'bar', role: 'progressbar', 'aria-label': unlimited ? `${row.label}: ${row.used} used, unlimited` : `${row.label}: ${row.text}`,
      'aria-valuemin': 0, 'aria-valuemax': unlimited ? null : row.limit, 'aria-valuenow': row.used, 'aria-valuetext': row.text },
    el('span', { style: `width:${unlimited ? 8 : Math.min(100, row.percent ?? 0)}%` })) : null,
    hint ? el('p', { class: 'usage-hint', 'data-hint': '', text: hint }) : null);
  }));
}

/** "Your own limit (until 20 Nov 2026)" for an override. */
function dealText(o) {
  return `Your own limit${o.plan ? ` on ${o.plan}` : ''}${o.until ? ` until ${fmtDate(o.until)}` : ''}`;
}

// --- the upgrade prompt -------------------------------------------------------------------------

/**
 * Shows the upgrade prompt for a refusal: a Decision from client.check() (source 'local') or a
 * LimitReachedError from the server's 403 (source 'server'). Both carry feature, kind, current,
 * limit, plan and upgrade ({plan, limit, price, price_paisa} or null); a value's Decision also
 * `requested` (the number that did not fit).
 */
export function showUpgradePrompt(client, refusal, source) {
  const dialog = document.getElementById('upgrade-prompt');
  const feature = client.catalog.features.find((f) => f.key === refusal.feature);
  const label = feature?.label ?? refusal.feature;
  const plan = planName(client, refusal.plan);
  const up = refusal.upgrade;
  const unit = feature?.unit ? ` ${feature.unit}` : '';
  dialog.dataset.source = source;
  dialog.dataset.feature = refusal.feature;
  let title = `${label} limit reached`;
  let used = `You have used ${refusal.current} of ${refusal.limit} ${lower(label)} included in the ${plan} plan.`;
  let gives = (limit) => quantity(limit, label);
  if (refusal.kind === 'boolean') {
    title = `${label} is not on your plan`;
    used = `${label} is not included in the ${plan} plan.`;
    gives = () => `${lower(label)} included`;
  } else if (refusal.kind === 'value') {
    title = `${label} limit`;
    used = `The ${plan} plan allows up to ${refusal.limit}${unit}` + (refusal.requested === undefined ? '.' : `; this one is ${refusal.requested}${unit}.`);
    gives = (limit) => (limit < 0 ? `no ${lower(label)} limit` : `up to ${limit}${unit}`);
  } else if (refusal.kind === 'allocation' && feature?.unit) {
    used = `You are using ${refusal.current} of the ${refusal.limit} ${feature.unit} included in the ${plan} plan.`;
    gives = (limit) => (limit < 0 ? `unlimited ${feature.unit}` : `${limit} ${feature.unit}`);
  }
  if (refusal.override) used += ' (your own limit)';
  dialog.querySelector('[data-prompt-title]').textContent = title;
  dialog.querySelector('[data-prompt-used]').textContent = used;
  const offer = dialog.querySelector('[data-prompt-offer]');
  const go = dialog.querySelector('[data-prompt-go]');
  if (up) {
    offer.textContent = `Upgrade to ${up.plan} — ${gives(up.limit)} for ${money(client, up.price_paisa)} / ${client.catalog.period_days} days`;
    go.hidden = false;
    go.textContent = `See ${planName(client, up.plan)} plan`;
    go.href = `plans.html?plan=${encodeURIComponent(up.plan)}&feature=${encodeURIComponent(refusal.feature)}`;
  } else {
    offer.textContent = refusal.kind === 'boolean' || refusal.kind === 'value'
      ? 'No plan offers this. Contact us for a custom plan.'
      : `No plan offers more ${lower(label)}. Contact us for a custom plan.`;
    go.hidden = true;
  }
  const counted = refusal.kind !== 'boolean' && refusal.kind !== 'value';
  dialog.querySelector('[data-prompt-source]').textContent = source !== 'server'
    ? 'Checked instantly in your browser by sima — no request was sent.'
    : counted ? 'The server refused this one: the last slot was just used elsewhere (another tab or device).'
      : 'The server refused this one.';
  if (!dialog.open) dialog.showModal();
}

export function wirePrompt() {
  const dialog = document.getElementById('upgrade-prompt');
  dialog.querySelector('[data-prompt-close]').addEventListener('click', () => dialog.close());
}

// --- toasts and errors --------------------------------------------------------------------------

export function toast(message, kind = 'info') {
  let region = document.querySelector('.toast-region');
  if (!region) {
    region = el('div', { class: 'toast-region', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const t = el('div', { class: 'toast', 'data-kind': kind, text: message });
  region.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 7000 : 3500);
}

/** A message for an error a user can act on. */
export function explain(e) {
  if (e instanceof SimaError) {
    if (e.code === 'network_error') return 'Cannot reach the server. Check that the demo is still running.';
    if (e.code === 'unauthorized') return 'Your session expired. Reload the page.';
    if (e.code === 'gateway_error' || e.code === 'gateway_timeout') return 'The payment gateway is not answering right now. Nothing was charged; please try again.';
    return e.message;
  }
  return e?.message ?? String(e);
}

/** Shows a fatal load error in the page's main area. */
export function showFatal(e) {
  const main = document.querySelector('main');
  main.replaceChildren(el('div', { class: 'notice error', role: 'alert' },
    el('strong', { text: 'Something went wrong. ' }), explain(e)));
}

// --- payments -----------------------------------------------------------------------------------

/**
 * Starts paying for `plan` with `provider` ('khalti' | 'esewa') and leaves for the gateway:
 * Khalti's payment page, or eSewa's form posted with the server's signed fields. The amount is
 * the server's (the quote the page showed). `renew` words the success page as a renewal.
 */
export async function pay(client, plan, provider, { renew = false } = {}) {
  const answer = await client.startUpgrade(plan, { provider });
  if (renew) sessionStorage.setItem(renewalKey(answer.payment_id), 'true');
  if (provider === 'khalti') {
    location.assign(answer.payment_url);
    return;
  }
  const form = el('form', { method: 'POST', action: answer.form_url, hidden: true },
    Object.entries(answer.fields).map(([name, value]) => el('input', { type: 'hidden', name, value: String(value) })));
  document.body.append(form);
  form.submit();
}

/** "Pay NPR 1,900 with Khalti" buttons for `plan`, one per gateway. */
function payButtons(client, plan, { renew }) {
  let amount = '';
  try {
    amount = ` ${money(client, client.quote(plan).amount_paisa)}`;
  } catch { /* the server will say why */ }
  return el('span', { class: 'banner-pay' }, Object.entries(PROVIDERS).map(([provider, name]) => el('button', {
    class: `btn ${provider}`, type: 'button', 'data-pay': plan, 'data-provider': provider,
    onclick: async (e) => {
      const button = e.currentTarget;
      button.disabled = true;
      try {
        await pay(client, plan, provider, { renew });
      } catch (err) {
        toast(explain(err), 'error');
        button.disabled = false;
      }
    },
  }, `Pay${amount} with ${name}`)));
}

/** What FREE takes away from `plan`, in words: "invoices 1,000 → 10, Export to PDF off". */
function limitsLost(client, plan) {
  const from = client.catalog.plans.find((p) => p.code === plan);
  const free = client.catalog.plans.find((p) => p.price_paisa === 0);
  if (!from || !free) return '';
  return client.catalog.features.filter((f) => from.limits[f.key] !== free.limits[f.key]).slice(0, 3).map((f) => {
    if (f.kind === 'boolean') return `${f.label} ${free.limits[f.key] ? 'on' : 'off'}`;
    const n = (v) => (v < 0 ? 'unlimited' : number.format(v));
    return `${lower(f.label)} ${n(from.limits[f.key])} → ${n(free.limits[f.key])}${f.unit ? ` ${f.unit}` : ''}`;
  }).join(', ');
}

// --- the subscription banner and the demo clock ---------------------------------------------------

function slot(name) {
  let node = document.querySelector(`[data-${name}]`);
  if (!node) {
    node = el('div', { [`data-${name}`]: '', hidden: true });
    document.querySelector('main')?.prepend(node);
  }
  return node;
}

/**
 * The banner of the subscription's state, computed by the core at the demo's time (so a page
 * left open crosses renewal due, grace and expiry by itself): a date and a pay button when a
 * renewal is due or the plan is in grace, why the limits changed once it expired, a trial's
 * end, and a scheduled cancel or switch with its undo.
 */
export function renderBanner(client) {
  const banner = slot('banner');
  const lc = client.lifecycle();
  const name = (code) => planName(client, code);
  const undo = (label) => el('button', { class: 'btn secondary', type: 'button', 'data-undo': '', onclick: async (e) => {
    e.currentTarget.disabled = true;
    try {
      await client.changeSubscription({ change: 'undo' });
      toast('Done: your plan renews as it is.');
    } catch (err) {
      toast(explain(err), 'error');
    }
  } }, label);
  let kind = 'info';
  let parts = null;
  if (lc.state === 'renewal_due') {
    kind = 'warning';
    parts = [el('strong', { text: `Your ${name(lc.subscribed_plan)} plan ends on ${fmtDateTime(lc.end_date)}.` }),
      ` Renew now to keep it: ${client.catalog.period_days} more days from then, nothing lost.`,
      payButtons(client, lc.renewal_plan, { renew: true })];
  } else if (lc.state === 'grace') {
    kind = 'danger';
    parts = [el('strong', { text: `Your ${name(lc.subscribed_plan)} plan ended on ${fmtDateTime(lc.end_date)}.` }),
      ` Its limits still apply until ${fmtDateTime(lc.grace_until)} (grace); then you are on Free. Pay to keep ${name(lc.renewal_plan)}.`,
      payButtons(client, lc.renewal_plan, { renew: true })];
  } else if (lc.state === 'expired') {
    kind = 'danger';
    const lost = limitsLost(client, lc.subscribed_plan);
    parts = [el('strong', { text: 'Expired: you are on Free now.' }),
      ` Your ${name(lc.subscribed_plan)} plan ended on ${fmtDateTime(lc.ends_at)} and was not renewed, so Free's limits apply${lost ? ` (${lost})` : ''}.`,
      el('a', { class: 'btn', href: 'plans.html', text: 'See plans' })];
  } else if (lc.state === 'trialing') {
    parts = [el('strong', { text: `Trial of ${name(lc.subscribed_plan)} until ${fmtDateTime(lc.ends_at)}.` }),
      ' After it you are on Free unless you pay.', payButtons(client, lc.subscribed_plan, { renew: true })];
  } else if (lc.state === 'canceled') {
    parts = [el('strong', { text: `Your ${name(lc.subscribed_plan)} plan is canceled.` }),
      ` It stays until ${fmtDateTime(lc.ends_at)}, then you are on Free.`, undo('Keep my plan')];
  } else if (lc.scheduled_change?.kind === 'switch') {
    parts = [el('strong', { text: `Your plan switches to ${name(lc.scheduled_change.plan)} on ${fmtDateTime(lc.end_date)}.` }),
      ` ${name(lc.subscribed_plan)} stays until then.`, undo('Undo')];
  }
  banner.className = `banner notice ${kind}`;
  banner.dataset.state = lc.state;
  banner.hidden = parts === null;
  banner.setAttribute('role', kind === 'info' ? 'status' : 'alert');
  banner.replaceChildren(...(parts ?? []));
  renderClock();
}

/** The demo's "skip ahead" control: only when sima-server runs a demo clock (SIMA_DEMO_CLOCK=1). */
function renderClock() {
  const box = slot('demo-clock');
  box.className = 'demo-clock';
  box.hidden = !demoClock.enabled;
  if (!demoClock.enabled || box.dataset.ready) {
    const now = box.querySelector('[data-clock-now]');
    if (now) now.textContent = fmtDateTime(new Date(demoClock.now()).toISOString());
    return;
  }
  box.dataset.ready = 'true';
  const skip = async (days) => {
    for (const b of box.querySelectorAll('button')) b.disabled = true;
    try {
      await demoClock.advance(days);
      location.reload(); // the server's view at the new time (its scheduler has run)
    } catch (err) {
      toast(explain(err), 'error');
      for (const b of box.querySelectorAll('button')) b.disabled = false;
    }
  };
  const days = el('input', { type: 'number', min: 1, max: 400, step: 1, value: 7, 'aria-label': 'Days to skip', 'data-skip-days': '' });
  box.replaceChildren(
    el('span', {}, 'Demo clock: ', el('strong', { 'data-clock-now': '', text: fmtDateTime(new Date(demoClock.now()).toISOString()) })),
    el('button', { class: 'btn secondary', type: 'button', 'data-skip': '1', onclick: () => skip(1) }, '+1 day'),
    el('form', { class: 'skip', onsubmit: (e) => { e.preventDefault(); skip(Number(days.value)); } },
      days, el('button', { class: 'btn secondary', type: 'submit', 'data-skip-go': '' }, 'Skip ahead (days)')),
    el('small', { text: 'Moves sima-server\'s demo clock and the gateway simulator\'s; reminders due in between are sent.' }));
}
