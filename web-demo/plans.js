// The plans page: every plan of the catalog with its limits, switches and values, the usage it
// would give ("after upgrade", computed by the core: allocations kept, a new period's counts),
// and the Khalti / eSewa buttons where the core says the plan may be bought (client.canBuy):
// an upgrade, with the prorated amount the server will charge (client.quote: the price minus a
// credit for the unused time), or a renewal. While a paid plan lasts, a cheaper plan can be
// scheduled for the period's end and the plan canceled at its end, both undone before it.
import {
  connect, renderHeader, renderUsage, renderBanner, explain, toast, showFatal, planName, planFeatureText, money,
  fmtDate, fmtDateTime, pay, PROVIDERS, el,
} from './app.js';

const params = new URLSearchParams(location.search);
let client;
let session;

// The quote's lines: "PRO, 30 days NPR 3,900", "Credit: unused BASIC until … −NPR 950", total.
function quoteBox(quote) {
  if (quote.amount_breakdown.length < 2) return null;
  return el('dl', { class: 'quote', 'data-quote': quote.plan, 'data-amount-paisa': quote.amount_paisa },
    quote.amount_breakdown.flatMap((line) => [
      el('dt', { text: line.label }),
      el('dd', { 'data-line-amount': line.amount, text: line.amount < 0 ? `− ${money(client, -line.amount)}` : money(client, line.amount) }),
    ]),
    el('dt', { class: 'total', text: 'To pay now' }),
    el('dd', { class: 'total', 'data-quote-total': '', text: money(client, quote.amount_paisa) }));
}

function buyButtons(plan, offer) {
  const days = client.catalog.period_days;
  const verb = offer.renew ? 'Renew' : 'Upgrade to';
  let quote = null;
  try {
    quote = client.quote(plan.code);
  } catch { /* canBuy said yes: the server will say why not */ }
  const amount = quote ? ` — ${money(client, quote.amount_paisa)}` : '';
  return el('div', { class: 'plan-buy', 'data-renew': offer.renew },
    offer.renew ? el('p', { class: 'plan-note', 'data-buy-note': '',
      text: `Renewing adds ${days} days: ${plan.name} until ${fmtDate(offer.end_date)}. Your usage is kept.` }) : null,
    quote && quote.credit_paisa > 0 ? el('p', { class: 'plan-note', 'data-credit-note': '',
      text: `Upgrading now credits the unused part of your ${planName(client, quote.from_plan)} plan; ${plan.name} runs ${days} days from the payment.` }) : null,
    quote ? quoteBox(quote) : null,
    Object.entries(PROVIDERS).map(([provider, name]) => el('button', {
      class: `btn block ${provider === 'khalti' ? 'khalti' : 'esewa'}`, type: 'button',
      'data-buy': plan.code, 'data-provider': provider,
      onclick: (e) => buy(e.currentTarget, plan.code, provider, offer.renew),
    }, `${verb} ${plan.code} with ${name}${amount}`)));
}

// A change for the period's end (POST /billing/subscription/), then the page redraws.
function changeButton(text, change, attrs) {
  return el('button', { class: 'btn secondary block', type: 'button', ...attrs, onclick: async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    try {
      await client.changeSubscription(change);
      toast(change.change === 'undo' ? 'Done: your plan renews as it is.' : 'Scheduled for the end of your period.');
    } catch (err) {
      toast(explain(err), 'error');
      button.disabled = false;
    }
  } }, text);
}

// What the customer may schedule on this card: a cheaper paid plan for the end, a cancel on the
// plan paid for, and the undo of what is scheduled.
function endOfPeriod(plan, lc) {
  const paid = ['active', 'renewal_due', 'canceled'].includes(lc.state);
  if (!paid) return null;
  const change = lc.scheduled_change;
  const until = fmtDateTime(lc.end_date);
  if (plan.code === lc.subscribed_plan) {
    if (change?.kind === 'cancel') {
      return el('div', { class: 'plan-change' }, el('p', { class: 'plan-note', 'data-scheduled': 'cancel', text: `Canceled: ends on ${until}, then Free.` }),
        changeButton('Undo the cancel', { change: 'undo' }, { 'data-change': 'undo' }));
    }
    return el('div', { class: 'plan-change' },
      changeButton(`Cancel at the end of the period (${until})`, { change: 'cancel' }, { 'data-change': 'cancel' }));
  }
  const cheaper = plan.price_paisa > 0 && plan.price_paisa < (client.catalog.plans.find((p) => p.code === lc.subscribed_plan)?.price_paisa ?? 0);
  if (!cheaper) return null;
  if (change?.kind === 'switch' && change.plan === plan.code) {
    return el('div', { class: 'plan-change' }, el('p', { class: 'plan-note', 'data-scheduled': 'switch', text: `Scheduled: ${plan.name} from ${until}.` }),
      changeButton('Undo the switch', { change: 'undo' }, { 'data-change': 'undo' }));
  }
  return el('div', { class: 'plan-change' },
    changeButton(`Switch to ${plan.name} on ${until}`, { change: 'switch', plan: plan.code }, { 'data-change': 'switch', 'data-switch': plan.code }));
}

function card(plan, lc) {
  const current = plan.code === lc.plan;
  const suggested = params.get('plan') === plan.code;
  const offer = client.canBuy(plan.code);
  const usageList = el('ul', { class: 'usage', 'aria-label': current ? 'Your usage now' : `Your usage on ${plan.name}` });
  renderUsage(usageList, current ? client.usage() : client.usageAfterUpgrade(plan.code), { compact: true, client });
  const days = client.catalog.period_days;
  const change = endOfPeriod(plan, lc);
  return el('section', { class: 'card plan', 'data-plan': plan.code, 'data-current': current, 'data-suggested': suggested,
    'aria-labelledby': `plan-${plan.code}` },
  el('div', { class: 'plan-name' },
    el('h2', { id: `plan-${plan.code}`, text: plan.name }),
    current ? el('span', { class: 'tag', text: 'Current plan' }) : suggested ? el('span', { class: 'tag suggested', text: 'Suggested' }) : null),
  el('p', { class: 'plan-price' }, plan.price_paisa === 0 ? 'Free' : money(client, plan.price_paisa), plan.price_paisa === 0 ? null : el('small', { text: ` / ${days} days` })),
  el('ul', { class: 'plan-limits', 'aria-label': `${plan.name} includes` },
    client.catalog.features.map((f) => el('li', { 'data-feature': f.key, 'data-kind': f.kind,
      'data-on': f.kind === 'boolean' ? String(plan.limits[f.key]) : null, text: planFeatureText(f, plan.limits[f.key]) }))),
  el('h3', { text: current ? 'Your usage now' : offer.ok ? 'Your usage after upgrade' : `Your usage on ${plan.name}` }),
  usageList,
  offer.ok ? buyButtons(plan, offer)
    // Why not, in the core's words (the FREE plan one is on needs none); a cheaper plan may
    // still be scheduled for the end (below).
    : current ? null : el('p', { class: 'plan-note refused', 'data-refused': offer.code, text: `Not available: ${offer.message}.` }),
  change);
}

function render() {
  renderHeader(client, session);
  renderBanner(client);
  const lc = client.lifecycle();
  // Largest: no plan the core would sell is an upgrade (at most a renewal).
  const top = !client.catalog.plans.some((p) => {
    const offer = client.canBuy(p.code);
    return offer.ok && !offer.renew;
  });
  document.querySelector('[data-subtitle]').textContent = top
    ? `You are on ${planName(client, lc.plan)}, our largest plan.`
    : `You are on the ${planName(client, lc.plan)} plan. An upgrade starts right away: this period's counts start again, customers and team members are kept, and the unused part of a paid plan is credited.`;
  document.getElementById('plans').replaceChildren(...client.catalog.plans.map((p) => card(p, lc)));
}

function setBusy(busy) {
  for (const b of document.querySelectorAll('[data-buy]')) b.disabled = busy;
}

async function buy(button, plan, provider, renew) {
  const error = document.querySelector('[data-error]');
  error.hidden = true;
  setBusy(true);
  const label = button.textContent;
  button.textContent = `Connecting to ${PROVIDERS[provider]}…`;
  try {
    await pay(client, plan, provider, { renew });
  } catch (e) {
    error.textContent = `Could not start the payment: ${explain(e)}`;
    error.hidden = false;
    button.textContent = label;
    setBusy(false);
  }
}

try {
  ({ client, session } = await connect());
  render();
  client.subscribe(render);
  setInterval(render, 30_000);
  document.getElementById('main').removeAttribute('aria-busy');
  document.body.dataset.ready = 'true';
} catch (e) {
  showFatal(e);
}
// Back from the gateway's page through the back button: the page comes from the bfcache.
addEventListener('pageshow', (e) => {
  if (e.persisted && client) render();
});
