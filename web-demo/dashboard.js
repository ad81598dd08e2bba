// The dashboard: plan badge, usage rows, the create buttons with the instant upgrade prompt, a
// switch (Export to PDF) and a value (attachment size) checked by the core, and the team with
// Remove buttons that free a seat.
import { setClient } from 'sima/elements';
import {
  connect, renderHeader, showUpgradePrompt, wirePrompt, toast, explain, showFatal,
  planName, money, fmtDate, fmtDateTime, el, renderBanner, LimitReachedError,
} from './app.js';

const FEATURE_ACTIONS = {
  invoices: { path: '/invoices/', noun: 'Invoice', body: (n) => ({ amount_paisa: 50000 + Math.floor(Math.random() * 8000) * 50, description: `Invoice ${n}` }) },
  customers: { path: '/customers/', noun: 'Customer', body: (n, u) => ({ name: `Customer ${n}`, email: `customer-${u}@example.com` }) },
  team_members: { path: '/team-members/', noun: 'Team member', body: (n, u) => ({ email: `member-${u}@example.com`, name: `Member ${n}` }) },
};

const LIVE_TEXT = { open: '● Live: changes from other tabs and devices show at once', polling: 'Refreshed every 30 s', connecting: 'Connecting…', off: '' };

let client;
let recentList;
let teamList;

function uniq() {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

function render() {
  renderHeader(client, session);
  renderBanner(client);
  // <sima-usage all> draws the bars itself on every change of the client; this redraw is for
  // the clock (a page left open crosses renewal, grace and expiry).
  document.getElementById('usage').refresh(true);
  // How the figures stay current: pushed by sima-server, or re-read every 30 s without a stream.
  const { live } = client.getSnapshot();
  const status = document.querySelector('[data-live-status]');
  status.dataset.live = live;
  status.textContent = LIVE_TEXT[live] ?? '';
  // The plan in force at the demo's time: a plan in grace still applies; once it expired the
  // usage view says why its limits changed.
  const lc = client.lifecycle();
  const inForce = `${planName(client, lc.plan)} plan`;
  document.querySelector('[data-plan-name]').textContent = lc.state === 'grace' ? `${inForce} (grace until ${fmtDateTime(lc.grace_until)})` : inForce;
  const why = document.querySelector('[data-usage-why]');
  why.hidden = lc.state !== 'expired';
  why.textContent = lc.state === 'expired'
    ? `These are the Free plan's limits: your ${planName(client, lc.subscribed_plan)} plan expired on ${fmtDateTime(lc.ends_at)}.` : '';
  const period = client.snapshot?.period;
  document.querySelector('[data-period]').textContent = period
    ? `Billing period ${fmtDate(period.start)} – ${fmtDate(period.end)}. Counts reset on ${fmtDate(period.end)}; customers and team members are kept.`
    : 'Your usage this period.';
  for (const feature of Object.keys(FEATURE_ACTIONS)) {
    const note = document.querySelector(`[data-note="${feature}"]`);
    const d = client.check(feature);
    note.dataset.state = d.allowed ? 'ok' : 'blocked';
    note.textContent = !d.allowed ? 'Limit reached'
      : d.remaining === null ? 'Unlimited on your plan'
        : `${d.remaining} left on ${planName(client, d.plan)}`;
  }
  const pdf = client.check('pdf_export');
  const pdfNote = document.querySelector('[data-note="pdf_export"]');
  pdfNote.dataset.state = pdf.allowed ? 'ok' : 'blocked';
  pdfNote.textContent = pdf.allowed ? `Included in ${planName(client, pdf.plan)}`
    : pdf.upgrade ? `On ${planName(client, pdf.upgrade.plan)} and up` : 'Not available';
  const attach = client.check('attachment_mb', 0);
  document.querySelector('[data-note="attachment_mb"]').textContent = attach.limit < 0
    ? `Any size on ${planName(client, attach.plan)}` : `Up to ${attach.limit} MB on ${planName(client, attach.plan)}`;
  const seats = client.usage().find((r) => r.feature === 'team_members');
  document.querySelector('[data-seats]').textContent = seats?.text ?? '';
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

async function loadTeam() {
  try {
    const { items } = await client.request('GET', '/team-members/?limit=50');
    teamList.replaceChildren(...(items.length === 0
      ? [el('li', { class: 'empty', text: 'No team members yet.' })]
      : items.map((m) => el('li', { 'data-member': m.id },
        el('span', {}, el('strong', { text: m.name || m.email }), m.name ? ` · ${m.email}` : ''),
        el('button', { class: 'btn secondary member-remove', type: 'button', 'aria-label': `Remove ${m.name || m.email}`,
          onclick: (e) => onRemove(e.currentTarget, m) }, 'Remove')))));
  } catch (e) {
    teamList.replaceChildren(el('li', { class: 'empty', text: `Could not load the team: ${explain(e)}` }));
  }
}

// Remove frees the seat: the server deletes and releases it in one transaction (204), and the
// client releases it locally at once, so the bar drops without a reload.
async function onRemove(button, member) {
  button.disabled = true;
  try {
    await client.remove('team_members', `/team-members/${encodeURIComponent(member.id)}/`);
    toast(`${member.name || member.email} removed: a seat is free.`);
  } catch (e) {
    toast(explain(e), 'error');
  }
  loadTeam();
}

// A switch: the core says at once whether the plan has it; the server confirms (its 403 for a
// switch names the plan that turns it on, like the local answer).
async function onExport(button) {
  performance.mark('sima:click:pdf_export');
  const decision = client.check('pdf_export');
  if (!decision.allowed) {
    showUpgradePrompt(client, decision, 'local');
    markPrompt('pdf_export');
    return;
  }
  button.disabled = true;
  try {
    await client.meter('pdf_export');
    toast('Your invoices were exported to PDF.');
  } catch (e) {
    if (e instanceof LimitReachedError) showUpgradePrompt(client, e, 'server');
    else toast(explain(e), 'error');
  } finally {
    button.disabled = false;
  }
}

// A value: the app checks the file's size against the plan's number (check(feature, n)).
async function onAttach(form) {
  const mb = Number(form.elements.mb.value);
  if (!Number.isInteger(mb) || mb < 0) {
    toast('Enter a whole number of MB.', 'error');
    return;
  }
  const decision = client.check('attachment_mb', mb);
  if (!decision.allowed) {
    showUpgradePrompt(client, decision, 'local');
    markPrompt('attachment_mb');
    return;
  }
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    await client.meter('attachment_mb', mb);
    toast(`Attached a ${mb} MB file.`);
  } catch (e) {
    if (e instanceof LimitReachedError) showUpgradePrompt(client, { ...e, requested: mb }, 'server');
    else toast(explain(e), 'error');
  } finally {
    button.disabled = false;
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
    if (feature === 'team_members') loadTeam();
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
  teamList = document.getElementById('team');
  ({ client, session } = await connect());
  setClient(client);
  render();
  performance.mark('sima:bars-drawn');
  client.subscribe(render);
  // A page left open crosses renewal due, grace and expiry by itself (the core recomputes).
  setInterval(render, 30_000);
  document.getElementById('main').removeAttribute('aria-busy');
  for (const button of document.querySelectorAll('[data-create]')) {
    button.disabled = false;
    button.addEventListener('click', () => onCreate(button));
  }
  const exportButton = document.querySelector('[data-export]');
  exportButton.disabled = false;
  exportButton.addEventListener('click', () => onExport(exportButton));
  const attachForm = document.querySelector('[data-attach]');
  attachForm.querySelector('button').disabled = false;
  attachForm.addEventListener('submit', (e) => {
    e.preventDefault();
    onAttach(attachForm);
  });
  document.body.dataset.ready = 'true';
  loadRecent();
  loadTeam();
} catch (e) {
  showFatal(e);
}
