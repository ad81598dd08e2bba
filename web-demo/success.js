// The page the payment gateway's redirect ends on (through sima-server's callback):
// success.html?payment_id=ID&status=SUCCESS|PENDING. The query is only a hint: the page asks
// sima-server for the payment, and while it is PENDING says so and polls until it is decided.
import { connect, renderHeader, renderUsage, showFatal, explain, planName, money, fmtDate, renewalKey, providerName, el } from './app.js';

const params = new URLSearchParams(location.search);
const id = params.get('payment_id');
const POLL_MS = 1000;
const GIVE_UP_MS = 3 * 60 * 1000;
let client;
let session;

const result = () => document.querySelector('[data-result]');

function setState(state, ...children) {
  const box = result();
  box.dataset.state = state;
  box.replaceChildren(...children);
  document.getElementById('main').removeAttribute('aria-busy');
  renderHeader(client, session);
}

function renderPending(p, waitedMs) {
  document.title = 'Confirming your payment · Himalayan Invoices';
  setState('pending',
    el('div', { class: 'result-icon wait' }, el('div', { class: 'spinner', role: 'img', 'aria-label': 'Waiting' })),
    el('h1', { text: 'Confirming your payment…' }),
    el('p', { text: waitedMs > GIVE_UP_MS
      ? `${providerName(p.provider)} has not confirmed the payment yet. You can close this page: your plan changes as soon as it is confirmed, and we will e-mail you.`
      : `${providerName(p.provider)} has received your payment for ${planName(client, p.plan)} and is confirming it. This usually takes a few seconds — please keep this page open.` }),
    el('p', { class: 'card-note', text: `Payment #${p.payment_id} · ${money(client, p.amount_paisa)}` }));
}

function renderSuccess(p) {
  const renewed = sessionStorage.getItem(renewalKey(p.payment_id)) === 'true';
  const name = planName(client, p.plan);
  document.title = `${renewed ? `${p.plan} renewed` : `You're on ${p.plan}`} · Himalayan Invoices`;
  const usage = el('ul', { class: 'usage', 'aria-label': renewed ? 'Your usage' : 'Usage on your new plan' });
  renderUsage(usage, client.usage(), { client });
  const sub = client.snapshot?.subscription;
  const paid = `Payment of ${money(client, p.amount_paisa)} received with ${providerName(p.provider)}.`;
  setState('success',
    el('div', { class: 'result-icon ok', 'aria-hidden': 'true', text: '✓' }),
    el('h1', { text: renewed ? `${name} renewed` : `You're on ${name} now` }),
    el('p', { 'data-success-text': '', text: renewed
      ? `${paid} ${name} now runs until ${fmtDate(sub?.end_date)}; your usage this period is kept.`
      : `${paid} Your new limits apply right away and this period's counts start again from zero (customers and team members are kept).` }),
    el('section', { class: 'card', 'aria-labelledby': 'receipt-title' },
      el('h2', { id: 'receipt-title', text: 'Receipt' }),
      el('dl', { class: 'receipt' },
        el('dt', { text: 'Plan' }), el('dd', { 'data-receipt-plan': '', text: p.plan }),
        el('dt', { text: 'Amount' }), el('dd', { text: money(client, p.amount_paisa) }),
        el('dt', { text: 'Paid with' }), el('dd', { text: providerName(p.provider) }),
        el('dt', { text: 'Reference' }), el('dd', { text: p.reference_id ?? `#${p.payment_id}` }),
        sub?.end_date ? [el('dt', { text: 'Valid until' }), el('dd', { text: fmtDate(sub.end_date) })] : null)),
    el('section', { class: 'card', 'aria-labelledby': 'newusage-title' },
      el('h2', { id: 'newusage-title' }, 'Your usage', el('span', { class: 'card-note', text: `${planName(client, client.plan)} plan` })),
      usage),
    el('div', { class: 'buttons' },
      el('a', { class: 'btn', href: 'index.html', text: 'Go to dashboard' }),
      el('a', { class: 'btn secondary', href: 'plans.html', text: 'View plans' })));
}

async function nudge(p) {
  // Ask sima-server to look the payment up at the gateway now (it also does so in the
  // background); the answer is the same decision the GET would show.
  try {
    await client.verifyPayment(p.payment_id, { provider: p.provider === 'ESEWA' ? 'esewa' : 'khalti', pidx: p.provider === 'KHALTI' ? p.reference_id ?? undefined : undefined });
  } catch { /* the next poll tells */ }
}

async function follow() {
  const started = performance.now();
  let p = await client.payment(id);
  for (let i = 1; p.status === 'PENDING'; i++) {
    renderPending(p, performance.now() - started);
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (i % 3 === 0) await nudge(p);
    try {
      p = await client.payment(id);
    } catch (e) {
      if (e?.code !== 'network_error') throw e; // keep waiting through a blip
    }
  }
  if (p.status === 'SUCCESS') {
    await client.refresh();
    renderSuccess(p);
  } else {
    const q = new URLSearchParams({ payment_id: String(p.payment_id), status: p.status, reason: p.reason ?? '' });
    location.replace(`failure.html?${q}`);
  }
}

try {
  if (!id) throw new Error('This page shows a payment, but no payment was given.');
  ({ client, session } = await connect());
  renderHeader(client, session);
  if (params.get('status') === 'PENDING') {
    setState('pending', el('div', { class: 'result-icon wait' }, el('div', { class: 'spinner', role: 'img', 'aria-label': 'Waiting' })),
      el('h1', { text: 'Confirming your payment…' }));
  }
  await follow();
  document.body.dataset.ready = 'true';
} catch (e) {
  showFatal(e);
  console.warn(explain(e));
}
