// The drop-in elements page: the client goes to every sima element with setClient(); the New
// invoice button does not catch the refusal: <sima-upgrade-prompt auto> shows an unhandled
// LimitReachedError, and a bought plan comes back through the success page.
import { setClient } from 'sima/elements';
import { connect, renderHeader, showFatal, toast, explain } from './app.js';

try {
  const { client, session } = await connect();
  setClient(client);
  renderHeader(client, session);
  client.subscribe(() => renderHeader(client, session));
  const button = document.querySelector('[data-new-invoice]');
  button.disabled = false;
  button.addEventListener('click', async () => {
    try {
      await client.create('invoices', '/invoices/', { amount_paisa: 50000, description: 'From the drop-in page' });
      toast('Invoice created.');
    } catch (e) {
      if (e?.name === 'LimitReachedError') throw e; // the prompt takes it
      toast(explain(e), 'error');
    }
  });
  addEventListener('sima-error', (e) => toast(explain(e.detail), 'error'));
  document.getElementById('main').removeAttribute('aria-busy');
  document.body.dataset.ready = 'true';
} catch (e) {
  showFatal(e);
}
