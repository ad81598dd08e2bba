// The webhooks page: the events serve.mjs received from sima-server and verified, newest first,
// read again every two seconds. Nothing here verifies anything: the secret and the check are
// on the backend (serve.mjs, with sima/webhooks), where an integrator's would be.
import { connect, renderHeader, el, fmtDateTime } from './app.js';

const REFRESH_MS = 2000;
const endpointLine = document.querySelector('[data-endpoint]');
const counts = document.querySelector('[data-counts]');
const empty = document.querySelector('[data-empty]');
const table = document.querySelector('[data-webhooks]');

function renderEndpoint(endpoint) {
  endpointLine.dataset.status = endpoint.status;
  endpointLine.classList.toggle('error', endpoint.status === 'failed');
  if (endpoint.status === 'registered') {
    endpointLine.replaceChildren('Registered with sima-server as a server-wide endpoint ',
      el('code', { text: endpoint.id ?? '' }), ' at ', el('code', { text: endpoint.url }),
      ': every organization\'s events arrive here.');
  } else if (endpoint.status === 'failed') {
    endpointLine.textContent = `Not registered with sima-server: ${endpoint.error}`;
  } else {
    endpointLine.textContent = endpoint.error ? `Not registered: ${endpoint.error}` : 'Registering with sima-server…';
  }
}

function render(state) {
  renderEndpoint(state.endpoint);
  const last = state.last_rejection ? ` (last: ${state.last_rejection.code})` : '';
  counts.textContent = `${state.received} received · ${state.duplicates} repeated · ${state.rejected} refused${last}`;
  counts.dataset.rejected = String(state.rejected);
  empty.hidden = state.events.length > 0;
  table.hidden = state.events.length === 0;
  table.tBodies[0].replaceChildren(...state.events.map((e) => el('tr', { 'data-event-id': e.id, 'data-type': e.type },
    el('td', { title: `received ${fmtDateTime(e.received_at)}`, text: fmtDateTime(e.created) }),
    el('td', {}, el('code', { class: 'event-type', 'data-event-type': '', text: e.type })),
    el('td', { 'data-summary': '', text: e.summary }),
    el('td', {}, el('code', { text: e.org_id ?? '—' })),
    el('td', {}, el('code', { class: 'event-id', text: e.id }), e.sequence !== null ? ` #${e.sequence}` : ''),
    el('td', { class: 'verified', 'data-verified': String(e.verified), text: e.verified ? '✓ verified' : 'not verified' }))));
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  try {
    const res = await fetch('/demo/webhooks.json', { cache: 'no-store' });
    if (res.ok) render(await res.json());
    else endpointLine.textContent = `The demo's backend answered ${res.status}.`;
  } catch {
    endpointLine.textContent = 'Cannot reach the demo\'s backend. Is the demo still running?';
  }
  document.getElementById('main').removeAttribute('aria-busy');
  document.body.dataset.ready = 'true';
  if (document.visibilityState === 'visible') timer = setTimeout(refresh, REFRESH_MS);
}
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') refresh(); });
refresh();

// The header's organization and plan, as on every page; the list does not need it.
connect().then(({ client, session }) => {
  renderHeader(client, session);
  client.subscribe(() => renderHeader(client, session));
}, () => {});
