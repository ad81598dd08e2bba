// Where sima-server sends the browser when a payment failed or was cancelled:
// failure.html?payment_id=ID&status=FAILED&reason=... The server's record of the payment is
// shown; nothing was charged and the plan is unchanged.
import { connect, renderHeader, showFatal, explain, planName, money, providerName, el } from './app.js';

const params = new URLSearchParams(location.search);
const id = params.get('payment_id');

function why(reason, provider) {
  const r = (reason ?? '').toLowerCase();
  const name = provider ? providerName(provider) : 'the payment page';
  if (r.includes('cancel')) return `You cancelled the payment on ${name}.`;
  if (r.includes('expire')) return 'The payment session expired before it was completed.';
  if (r.includes('amount')) return 'The amount the gateway reported did not match the plan price, so the payment was not accepted.';
  if (r) return `The payment did not go through (${reason}).`;
  return 'The payment did not go through.';
}

try {
  const { client, session } = await connect();
  renderHeader(client, session);
  let payment = null;
  if (id) {
    try {
      payment = await client.payment(id);
    } catch (e) {
      console.warn(explain(e));
    }
  }
  if (payment?.status === 'SUCCESS') {
    // Decided in the meantime (e.g. a late confirmation): show the success page.
    location.replace(`success.html?payment_id=${encodeURIComponent(id)}&status=${encodeURIComponent(payment.status)}`);
  } else {
    const box = document.querySelector('[data-result]');
    box.dataset.state = 'failed';
    const plan = payment?.plan;
    box.replaceChildren(
      el('div', { class: 'result-icon fail', 'aria-hidden': 'true', text: '✕' }),
      el('h1', { text: 'Payment not completed' }),
      el('p', { 'data-reason': '', text: why(payment?.reason ?? params.get('reason'), payment?.provider) }),
      payment?.status === 'PENDING'
        ? el('p', { class: 'card-note', text: 'If money did leave your account, the payment is confirmed automatically within minutes and your plan changes then.' })
        : null,
      el('p', { text: `${payment?.status === 'PENDING' ? '' : 'No money was taken. '}You are still on the ${planName(client, client.plan)} plan${plan ? `; ${planName(client, plan)} is ${money(client, client.catalog.plans.find((p) => p.code === plan)?.price_paisa ?? 0)} whenever you are ready` : ''}.` }),
      el('div', { class: 'buttons' },
        el('a', { class: 'btn', href: plan ? `plans.html?plan=${encodeURIComponent(plan)}` : 'plans.html', text: 'Try again' }),
        el('a', { class: 'btn secondary', href: 'index.html', text: 'Back to dashboard' })));
    document.getElementById('main').removeAttribute('aria-busy');
    document.body.dataset.ready = 'true';
  }
} catch (e) {
  showFatal(e);
}
