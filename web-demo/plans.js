// The plans page: every plan of the catalog with its limits, switches and values, the usage it
// would give ("after upgrade", computed by the core: allocations kept, a new period's counts), and the Khalti / eSewa buttons where the core says the plan
// may be bought (client.canBuy): an upgrade, or a renewal of the active plan. A plan that may
// not be bought shows the core's reason instead.
import {
  connect, renderHeader, renderUsage, explain, showFatal, planName, planFeatureText, money, fmtDate, renewalKey, PROVIDERS, el,
} from './app.js';

const params = new URLSearchParams(location.search);
let client;
let session;

function buyButtons(plan, offer) {
  const days = client.catalog.period_days;
  const verb = offer.renew ? 'Renew' : 'Upgrade to';
  return el('div', { class: 'plan-buy', 'data-renew': offer.renew },
    offer.renew ? el('p', { class: 'plan-note', 'data-buy-note': '',
      text: `Renewing adds ${days} days: ${plan.name} until ${fmtDate(offer.end_date)}. Your usage is kept.` }) : null,
    Object.entries(PROVIDERS).map(([provider, name]) => el('button', {
      class: `btn block ${provider === 'khalti' ? 'khalti' : 'esewa'}`, type: 'button',
      'data-buy': plan.code, 'data-provider': provider,
      onclick: (e) => buy(e.currentTarget, plan.code, provider, offer.renew),
    }, `${verb} ${plan.code} with ${name}`)));
}

function card(plan) {
  const current = plan.code === client.plan;
  const suggested = params.get('plan') === plan.code;
  const offer = client.canBuy(plan.code);
  const usageList = el('ul', { class: 'usage', 'aria-label': current ? 'Your usage now' : `Your usage on ${plan.name}` });
  renderUsage(usageList, current ? client.usage() : client.usageAfterUpgrade(plan.code), { compact: true, client });
  const days = client.catalog.period_days;
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
    // Why not, in the core's words (the FREE plan one is on needs none).
    : current ? null : el('p', { class: 'plan-note refused', 'data-refused': offer.code, text: `Not available: ${offer.message}.` }));
}

function render() {
  renderHeader(client, session);
  // Largest: no plan the core would sell is an upgrade (at most a renewal).
  const top = !client.catalog.plans.some((p) => {
    const offer = client.canBuy(p.code);
    return offer.ok && !offer.renew;
  });
  document.querySelector('[data-subtitle]').textContent = top
    ? `You are on ${planName(client, client.plan)}, our largest plan.`
    : `You are on the ${planName(client, client.plan)} plan. An upgrade starts right away: this period's counts start again, customers and team members are kept.`;
  document.getElementById('plans').replaceChildren(...client.catalog.plans.map(card));
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
    const answer = await client.startUpgrade(plan, { provider });
    // The success page words a renewal as one (usage kept) rather than as a new plan.
    if (renew) sessionStorage.setItem(renewalKey(answer.payment_id), 'true');
    if (provider === 'khalti') {
      location.assign(answer.payment_url);
    } else {
      // eSewa: the browser POSTs the signed fields to eSewa's form.
      const form = el('form', { method: 'POST', action: answer.form_url, hidden: true },
        Object.entries(answer.fields).map(([name, value]) => el('input', { type: 'hidden', name, value: String(value) })));
      document.body.append(form);
      form.submit();
    }
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
  document.getElementById('main').removeAttribute('aria-busy');
  document.body.dataset.ready = 'true';
} catch (e) {
  showFatal(e);
}
// Back from the gateway's page through the back button: the page comes from the bfcache.
addEventListener('pageshow', (e) => {
  if (e.persisted && client) render();
});
