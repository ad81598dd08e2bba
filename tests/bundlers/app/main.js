// The app every bundler builds: the package's main entry decides a check with the wasm core,
// and sima/elements draws <sima-usage> from it. No configuration anywhere: what a newcomer
// writes after `npm install sima`.
import { init, createCore } from 'sima';
import { setClient } from 'sima/elements';

const catalog = {
  currency: 'NPR',
  period_days: 30,
  features: [{ key: 'invoices', label: 'Invoices', kind: 'metered', enforcement: 'hard', unit: '' }],
  plans: [
    { code: 'FREE', name: 'Free', price: 0, price_paisa: 0, limits: { invoices: 10 } },
    { code: 'BASIC', name: 'Basic', price: 1900, price_paisa: 190000, limits: { invoices: 1000 } },
  ],
};
const usage = { plan: 'FREE', usage: { invoices: { used: 10, limit: 10 } } };

init(); // at the top, before anything else: the wasm downloads at once

async function main() {
  const core = await createCore(catalog, usage);
  const decision = core.check('invoices');
  // An element needs a client: the core's answers, through the surface elements read.
  setClient({ plan: core.plan, catalog: core.catalog, usage: () => core.usage(), subscribe: () => () => {} });
  const bar = document.querySelector('sima-usage').shadowRoot.querySelector('[role="progressbar"]');
  document.body.dataset.result = JSON.stringify({
    allowed: decision.allowed, current: decision.current, limit: decision.limit, upgrade: decision.upgrade?.plan ?? null,
    bar: bar?.getAttribute('aria-valuetext') ?? null,
  });
}

main().catch((e) => {
  document.body.dataset.result = JSON.stringify({ error: String(e?.message ?? e) });
  throw e;
});
