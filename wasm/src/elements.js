// sima/elements: drop-in custom elements over a sima client (no framework).
//
//   <sima-usage>            a bar per counted feature (or feature="invoices"; `all` adds switches and values)
//   <sima-upgrade-prompt>   a modal dialog: prompt.show(decision), or by itself on an unhandled LimitReachedError
//   <sima-pricing-table>    every plan: price, limits, "your usage after upgrade", a buy button
//
// Each element takes its client from `element.client = client` or from setClient(client), and
// re-renders on client.subscribe(). Everything is drawn from what the core answers (usage rows,
// decisions, usageAfterUpgrade, canBuy): no rule lives here. Shadow DOM with `part`s; themed by
// CSS custom properties (--sima-accent, --sima-bar, --sima-bar-warn, --sima-bar-full,
// --sima-radius, --sima-font, --sima-muted, --sima-surface, --sima-text).
//
// Safe to import where there is no DOM (Node, SSR): the classes extend a placeholder there and
// nothing is defined; in a browser, importing this module defines the elements.
import { formatRupees } from './core.js';

const Base = globalThis.HTMLElement ?? class {};
const live = new Set(); // connected elements: they follow setClient()
let shared = null;
let barsMarked = false;

/** Sets the client every element without its own `client` uses (and re-renders them). */
export function setClient(client) {
  shared = client ?? null;
  for (const element of live) element.refresh();
}

/** The client setClient() gave, or null. */
export function getClient() {
  return shared;
}

// What an element draws from: the client's snapshot (one object per state), or, for a client
// without getSnapshot, the same fields read one by one.
function viewOf(client) {
  if (!client || client.loaded === false) return null;
  if (typeof client.getSnapshot === 'function') return client.getSnapshot();
  return { plan: client.plan, catalog: client.catalog, usage: client.usage(), stale: false, live: 'off', asOf: null };
}

const BASE_CSS = `
:host{font-family:var(--sima-font,inherit);color:var(--sima-text,inherit);display:block}
:host([hidden]){display:none}
*{box-sizing:border-box}
ul{list-style:none;margin:0;padding:0}
button{font:inherit;cursor:pointer;border-radius:var(--sima-radius,8px);border:1px solid transparent;padding:.5em 1em;
  background:var(--sima-accent,#5b3cc4);color:var(--sima-accent-text,#fff);transition:filter .15s}
button:hover{filter:brightness(1.1)}
button.secondary{background:transparent;color:inherit;border-color:var(--sima-border,#d6d3e0)}
button:focus-visible{outline:2px solid var(--sima-accent,#5b3cc4);outline-offset:2px}
button:disabled{opacity:.6;cursor:default}
.note{color:var(--sima-muted,#6b6880);font-size:.85em;margin:.25em 0 0}
.row{margin:0 0 .75em}
.head{display:flex;justify-content:space-between;gap:.5em;flex-wrap:wrap}
.text{font-variant-numeric:tabular-nums;color:var(--sima-muted,#6b6880)}
.bar{height:var(--sima-bar-height,8px);border-radius:var(--sima-radius,8px);background:var(--sima-track,#ece9f5);overflow:hidden;margin-top:.3em}
.bar>span{display:block;height:100%;border-radius:inherit;background:var(--sima-bar,#5b3cc4);transition:width .3s ease}
.row[data-status=warning] .bar>span{background:var(--sima-bar-warn,#d98b0b)}
.row[data-status=full] .bar>span,.row[data-status=over] .bar>span{background:var(--sima-bar-full,#c7362f)}
.over-flag{color:var(--sima-bar-full,#c7362f);font-weight:600;margin-left:.4em}
:host([data-stale]) .bar>span{opacity:.6}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}
`;

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

class SimaElement extends Base {
  #client = null;
  #subscribed = null;
  #unsubscribe = null;
  #drawn = undefined;

  /** This element's client; falls back to setClient()'s. */
  get client() {
    return this.#client ?? shared;
  }

  set client(client) {
    this.#client = client ?? null;
    if (this.isConnected) this.refresh();
  }

  connectedCallback() {
    if (!this.shadowRoot) this.attachShadow({ mode: 'open' }).append(h('style', { text: BASE_CSS + this.constructor.css }));
    live.add(this);
    this.refresh();
  }

  disconnectedCallback() {
    live.delete(this);
    this.#unsubscribe?.();
    this.#unsubscribe = this.#subscribed = null;
  }

  attributeChangedCallback() {
    if (this.isConnected) this.refresh(true);
  }

  /** Re-subscribes when the client changed, and re-renders if the view changed (or `force`). */
  refresh(force = false) {
    if (!this.shadowRoot) return;
    const client = this.client;
    if (client !== this.#subscribed) {
      this.#unsubscribe?.();
      this.#unsubscribe = client ? client.subscribe(() => this.refresh()) : null;
      this.#subscribed = client;
      force = true;
    }
    const view = viewOf(client);
    // getSnapshot() hands the same object until something changed: nothing to redraw. Without
    // it every notification redraws.
    if (!force && view !== null && view === this.#drawn && typeof client.getSnapshot === 'function') return;
    this.#drawn = view;
    if (view) {
      this.toggleAttribute('data-stale', view.stale === true);
      this.setAttribute('data-live', view.live ?? 'off');
    }
    this.render(view, client);
  }

  // The body of the shadow root after the <style>.
  draw(...nodes) {
    const style = this.shadowRoot.firstChild;
    this.shadowRoot.replaceChildren(style, ...nodes.filter((n) => n !== null));
  }
}

// "Updating…" while the view is from storage or the live connection is lost.
function staleNote(view) {
  if (!view.stale) return null;
  const when = view.asOf instanceof Date ? ` (as of ${view.asOf.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })})` : '';
  return h('p', { class: 'note', part: 'stale', 'data-stale-note': '', role: 'status', text: `Updating${when}…` });
}

const COUNTED = new Set(['metered', 'allocation']);

/** Usage bars: every counted feature, `feature="key"` for one, `all` for switches and values too. */
export class SimaUsageElement extends SimaElement {
  static observedAttributes = ['feature', 'all'];
  static css = '.label{font-weight:500}.deal-tag{font-size:.75em;margin-left:.5em;padding:0 .4em;border-radius:999px;background:var(--sima-track,#ece9f5)}';

  /** The rows drawn (UsageRow[] of the core). */
  get rows() {
    const view = viewOf(this.client);
    if (!view) return [];
    const only = this.getAttribute('feature');
    return view.usage.filter((r) => (only ? r.feature === only : this.hasAttribute('all') || COUNTED.has(r.kind)));
  }

  render(view) {
    if (!view) {
      this.setAttribute('aria-busy', 'true');
      this.draw(h('p', { class: 'note', part: 'loading', text: 'Loading usage…' }));
      return;
    }
    this.removeAttribute('aria-busy');
    const rows = this.rows;
    const plan = (code) => view.catalog.plans.find((p) => p.code === code)?.name ?? code;
    this.draw(h('ul', { part: 'list', 'aria-label': 'Usage by feature' }, rows.map((row) => {
      const counted = COUNTED.has(row.kind);
      const unlimited = counted && row.limit < 0;
      return h('li', { class: 'row usage-row', part: `row row-${row.status}`, 'data-feature': row.feature, 'data-kind': row.kind,
        'data-status': row.status, 'data-unlimited': unlimited, 'data-on': row.kind === 'boolean' ? String(row.limit) : null },
      h('div', { class: 'head' },
        h('span', { class: 'label', part: 'label' }, row.label,
          row.override ? h('span', { class: 'deal-tag', part: 'deal', 'data-override': '', text: 'your deal' }) : null),
        h('span', { class: 'text', part: 'text' },
          h('span', { 'data-usage-text': '', text: row.text }),
          row.unlock ? h('span', { class: 'unlock', 'data-unlock': row.unlock.plan, text: ` · on ${plan(row.unlock.plan)}` }) : null,
          row.status === 'over' ? h('span', { class: 'over-flag', text: '⚠ OVER' }) : null)),
      counted ? h('div', { class: 'bar', part: 'bar', role: 'progressbar',
        'aria-label': unlimited ? `${row.label}: ${row.used} used, unlimited` : `${row.label}: ${row.text}`,
        'aria-valuemin': 0, 'aria-valuemax': unlimited ? null : row.limit, 'aria-valuenow': row.used, 'aria-valuetext': row.text },
      h('span', { part: 'fill', style: `width:${unlimited ? 8 : Math.min(100, row.percent ?? 0)}%` })) : null,
      row.note ? h('p', { class: 'note', part: 'hint', 'data-hint': '', text: row.note }) : null);
    })), staleNote(view));
    // The first bars with real figures on this page: what the first-paint benchmark measures.
    if (!barsMarked && rows.length > 0 && typeof performance?.mark === 'function') {
      barsMarked = true;
      performance.mark('sima:bars');
    }
    this.dispatchEvent(new CustomEvent('sima-render', { bubbles: true, composed: true }));
  }
}

// The element that had focus (inside shadow roots too), to give it back.
function deepActive() {
  let a = document.activeElement;
  while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
  return a;
}

// "NPR 1,900" from paisa with the catalog's currency.
function money(catalog, paisa) {
  return `${catalog.currency} ${formatRupees(paisa)}`;
}

function limitText(feature, limit) {
  if (feature.kind === 'boolean') return limit ? 'included' : 'not included';
  const unit = feature.unit ? ` ${feature.unit}` : '';
  if (limit < 0) return 'unlimited';
  return `${limit.toLocaleString('en-US')}${unit}`;
}

// Starts paying for `plan` and leaves for the gateway: Khalti's payment_url, or eSewa's form.
async function goPay(client, plan, provider) {
  const answer = await client.startUpgrade(plan, { provider });
  if (answer?.payment_url) {
    location.assign(answer.payment_url);
  } else if (answer?.form_url && answer.fields) {
    const form = h('form', { method: 'POST', action: answer.form_url, hidden: true },
      Object.entries(answer.fields).map(([name, value]) => h('input', { type: 'hidden', name, value })));
    document.body.append(form);
    form.submit();
  }
}

/**
 * The upgrade prompt: show(refusal) with a Decision of client.check() or a LimitReachedError.
 * With `auto`, an unhandled LimitReachedError on the page opens it. The upgrade button fires a
 * cancelable `sima-upgrade` event ({plan, feature}); by default it goes to `plans-href`
 * (?plan=&feature=) when set, else pays with `provider` (khalti).
 */
export class SimaUpgradePromptElement extends SimaElement {
  static css = `dialog{border:none;border-radius:var(--sima-radius,8px);padding:1.5em;max-width:28em;background:var(--sima-surface,#fff);color:inherit;font:inherit}
dialog::backdrop{background:rgb(20 16 40 / .45)}
h2{margin:0 0 .5em;font-size:1.2em}.buttons{display:flex;gap:.5em;justify-content:flex-end;margin-top:1em}`;
  #refusal = null;
  #returnTo = null;
  #onRejection = (e) => {
    if (e.reason?.name === 'LimitReachedError' && this.hasAttribute('auto')) {
      e.preventDefault();
      this.show(e.reason);
    }
  };

  connectedCallback() {
    super.connectedCallback();
    globalThis.addEventListener?.('unhandledrejection', this.#onRejection);
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    globalThis.removeEventListener?.('unhandledrejection', this.#onRejection);
  }

  /** Whether the dialog is open. */
  get open() {
    return this.shadowRoot?.querySelector('dialog')?.open === true;
  }

  /** Opens the dialog for a refusal (a Decision or a LimitReachedError); focus moves into it. */
  show(refusal) {
    if (!this.isConnected) throw new Error('sima-upgrade-prompt: put the element in the page before show()');
    this.#refusal = refusal;
    this.#returnTo = deepActive();
    this.refresh(true);
    const dialog = this.shadowRoot.querySelector('dialog');
    if (dialog && !dialog.open) dialog.showModal(); // modal: the page is inert, Escape closes
    this.shadowRoot.querySelector('[data-primary]')?.focus();
  }

  /** Closes the dialog; focus goes back where it was. */
  close() {
    this.shadowRoot?.querySelector('dialog')?.close();
  }

  render(view, client) {
    const r = this.#refusal;
    // One <dialog> for the element's life: a live change while it is open redraws its content
    // and keeps the modal state and the focus where they were.
    let dialog = this.shadowRoot.querySelector('dialog');
    if (!dialog) {
      dialog = h('dialog', { part: 'dialog', 'aria-labelledby': 'title', 'aria-describedby': 'used', onclose: () => {
        this.#returnTo?.focus?.();
        this.dispatchEvent(new CustomEvent('sima-close', { bubbles: true, composed: true }));
      } });
      this.draw(dialog);
    }
    if (!r || !view) {
      dialog.replaceChildren();
      return;
    }
    const focused = this.shadowRoot.activeElement?.getAttribute('part');
    const feature = view.catalog.features.find((f) => f.key === r.feature);
    const label = feature?.label ?? r.feature;
    const planName = (code) => view.catalog.plans.find((p) => p.code === code)?.name ?? code;
    let used = `You have used ${r.current} of ${r.limit} included in the ${planName(r.plan)} plan.`;
    if (r.kind === 'boolean') used = `${label} is not included in the ${planName(r.plan)} plan.`;
    else if (r.kind === 'value') used = `The ${planName(r.plan)} plan allows up to ${r.limit}${feature?.unit ? ` ${feature.unit}` : ''}.`;
    const up = r.upgrade;
    const offer = up
      ? `${planName(up.plan)} gives ${feature ? limitText(feature, up.limit) : up.limit} for ${money(view.catalog, up.price_paisa)} / ${view.catalog.period_days} days.`
      : 'No plan offers more. Contact us for a custom plan.';
    dialog.dataset.feature = r.feature;
    dialog.replaceChildren(
      h('h2', { id: 'title', part: 'title', text: r.kind === 'boolean' ? `${label} is not on your plan` : `${label} limit reached` }),
      h('p', { id: 'used', part: 'text', text: used }),
      h('p', { part: 'offer', 'data-offer': '', text: offer }),
      h('div', { class: 'buttons', part: 'buttons' },
        h('button', { class: 'secondary', type: 'button', part: 'button close', 'data-close': '', onclick: () => this.close() }, 'Not now'),
        up ? h('button', { type: 'button', part: 'button upgrade', 'data-primary': '', onclick: (e) => this.#upgrade(e.currentTarget, client, up.plan, r.feature) },
          `Upgrade to ${planName(up.plan)}`) : null));
    if (focused) dialog.querySelector(`[part="${focused}"]`)?.focus();
  }

  async #upgrade(button, client, plan, feature) {
    const go = this.dispatchEvent(new CustomEvent('sima-upgrade', { bubbles: true, composed: true, cancelable: true, detail: { plan, feature } }));
    if (!go) return;
    const href = this.getAttribute('plans-href');
    if (href) {
      const url = new URL(href, location.href);
      url.searchParams.set('plan', plan);
      url.searchParams.set('feature', feature);
      location.assign(url.href);
      return;
    }
    button.disabled = true;
    try {
      await goPay(client, plan, this.getAttribute('provider') ?? 'khalti');
    } catch (e) {
      button.disabled = false;
      this.dispatchEvent(new CustomEvent('sima-error', { bubbles: true, composed: true, detail: e }));
    }
  }
}

/**
 * Every plan of the catalog: price, limits, the usage it would give (the core's
 * usageAfterUpgrade; the current plan shows usage()), and a buy button where canBuy says so.
 * A buy fires a cancelable `sima-buy` event ({plan, provider, renew}); by default it pays.
 */
export class SimaPricingTableElement extends SimaElement {
  static observedAttributes = ['provider'];
  static css = `.plans{display:grid;gap:1em;grid-template-columns:repeat(auto-fit,minmax(14em,1fr))}
.plan{border:1px solid var(--sima-border,#d6d3e0);border-radius:var(--sima-radius,8px);padding:1em;background:var(--sima-surface,transparent);display:flex;flex-direction:column;gap:.5em}
.plan[data-current=true]{border-color:var(--sima-accent,#5b3cc4)}
h3{margin:0}h4{margin:.5em 0 0;font-size:.9em}.price{font-size:1.4em;font-weight:600;margin:0}
.limits li,.after li{display:flex;justify-content:space-between;gap:.5em;font-size:.9em}`;

  render(view, client) {
    if (!view) {
      this.draw(h('p', { class: 'note', part: 'loading', text: 'Loading plans…' }));
      return;
    }
    const { catalog } = view;
    const provider = this.getAttribute('provider') ?? 'khalti';
    const features = catalog.features;
    this.draw(h('div', { class: 'plans', part: 'plans' }, catalog.plans.map((plan) => {
      const current = plan.code === view.plan;
      const offer = client.canBuy(plan.code);
      const rows = current ? view.usage : client.usageAfterUpgrade(plan.code);
      const title = `plan-${plan.code}`;
      return h('section', { class: 'plan', part: current ? 'plan current' : 'plan', 'data-plan': plan.code, 'data-current': current, 'aria-labelledby': title },
        h('h3', { id: title, part: 'name', text: plan.name }),
        h('p', { class: 'price', part: 'price', text: `${money(catalog, plan.price_paisa)} / ${catalog.period_days} days` }),
        h('ul', { class: 'limits', part: 'limits', 'aria-label': `${plan.name} includes` }, features.map((f) =>
          h('li', { 'data-feature': f.key }, h('span', { text: f.label }), h('span', { text: limitText(f, plan.limits[f.key]) })))),
        h('h4', { text: current ? 'Your usage now' : 'Your usage after upgrade' }),
        h('ul', { class: 'after', part: 'after', 'aria-label': current ? 'Your usage now' : `Your usage on ${plan.name}` },
          rows.filter((r) => COUNTED.has(r.kind)).map((r) =>
            h('li', { 'data-feature': r.feature, 'data-status': r.status }, h('span', { text: r.label }), h('span', { 'data-usage-text': '', text: r.text })))),
        offer.ok
          ? h('button', { type: 'button', part: 'buy', 'data-buy': plan.code, onclick: (e) => this.#buy(e.currentTarget, client, plan.code, provider, offer.renew) },
            `${offer.renew ? 'Renew' : 'Upgrade to'} ${plan.name}`)
          : current ? h('p', { class: 'note', text: 'Your current plan' })
            : h('p', { class: 'note', part: 'refused', 'data-refused': offer.code, text: `Not available: ${offer.message}.` }));
    })), staleNote(view));
  }

  async #buy(button, client, plan, provider, renew) {
    const go = this.dispatchEvent(new CustomEvent('sima-buy', { bubbles: true, composed: true, cancelable: true, detail: { plan, provider, renew } }));
    if (!go) return;
    button.disabled = true;
    try {
      await goPay(client, plan, provider);
    } catch (e) {
      button.disabled = false;
      this.dispatchEvent(new CustomEvent('sima-error', { bubbles: true, composed: true, detail: e }));
    }
  }
}

const TAGS = {
  'sima-usage': SimaUsageElement,
  'sima-upgrade-prompt': SimaUpgradePromptElement,
  'sima-pricing-table': SimaPricingTableElement,
};

/** Defines the three elements (once; a tag already taken is left alone). Returns whether it could. */
export function defineElements(registry = globalThis.customElements) {
  if (!registry) return false;
  for (const [tag, cls] of Object.entries(TAGS)) if (!registry.get(tag)) registry.define(tag, cls);
  return true;
}

defineElements();
