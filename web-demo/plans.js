// The plans page: every plan of the catalog with its limits, the usage it would give ("after
// upgrade", computed by the core), and the Khalti / eSewa upgrade buttons.
import { connect, renderHeader, renderUsage, explain, showFatal, planName, quantity, npr, el } from './app.js';

const PROVIDERS = { khalti: 'Khalti', esewa: 'eSewa' };
const params = new URLSearchParams(location.search);
let client;
let session;

function card(plan) {
  const current = plan.code === client.plan;
  const currentPrice = client.catalog.plans.find((p) => p.code === client.plan)?.price ?? 0;
  const suggested = params.get('plan') === plan.code;
  const buyable = plan.price > currentPrice;
  const usageList = el('ul', { class: 'usage', 'aria-label': current ? 'Your usage now' : `Your usage on ${plan.name}` });
  renderUsage(usageList, current ? client.usage() : client.usageAfterUpgrade(plan.code), { compact: true });
  const days = client.catalog.period_days;
  return el('section', { class: 'card plan', 'data-plan': plan.code, 'data-current': current, 'data-suggested': suggested,
    'aria-labelledby': `plan-${plan.code}` },
  el('div', { class: 'plan-name' },
    el('h2', { id: `plan-${plan.code}`, text: plan.name }),
    current ? el('span', { class: 'tag', text: 'Current plan' }) : suggested ? el('span', { class: 'tag suggested', text: 'Suggested' }) : null),
  el('p', { class: 'plan-price' }, plan.price === 0 ? 'Free' : npr(plan.price), plan.price === 0 ? null : el('small', { text: ` / ${days} days` })),
  el('ul', { class: 'plan-limits', 'aria-label': `${plan.name} includes` },
    client.catalog.features.map((f) => el('li', { text: quantity(plan.limits[f.key], f.label) + (f.enforcement === 'soft' ? ' (soft limit)' : '') }))),
  el('h3', { text: current ? 'Your usage now' : 'Your usage after upgrade' }),
  usageList,
  buyable ? el('div', { class: 'plan-buy' },
    Object.entries(PROVIDERS).map(([provider, name]) => el('button', {
      class: `btn block ${provider === 'khalti' ? 'khalti' : 'esewa'}`, type: 'button',
      'data-buy': plan.code, 'data-provider': provider,
      onclick: (e) => buy(e.currentTarget, plan.code, provider),
    }, `Upgrade to ${plan.code} with ${name}`))) : null);
}

function render() {
  renderHeader(client, session);
  const top = client.catalog.plans.at(-1)?.code === client.plan;
  document.querySelector('[data-subtitle]').textContent = top
    ? `You are on ${planName(client, client.plan)}, our largest plan.`
    : `You are on the ${planName(client, client.plan)} plan. An upgrade starts right away and resets this period's usage.`;
  document.getElementById('plans').replaceChildren(...client.catalog.plans.map(card));
}

function setBusy(busy) {
  for (const b of document.querySelectorAll('[data-buy]')) b.disabled = busy;
}

async function buy(button, plan, provider) {
  const error = document.querySelector('[data-error]');
  error.hidden = true;
  setBusy(true);
  const label = button.textContent;
  button.textContent = `Connecting to ${PROVIDERS[provider]}…`;
  try {
    const answer = await client.startUpgrade(plan, { provider });
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
