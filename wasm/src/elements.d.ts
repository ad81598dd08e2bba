// Types of sima/elements: custom elements over a sima client (see src/elements.js).
import type { Decision, LimitReachedError, SimaClient, UsageRow } from './index.js';

/** Sets the client every element without its own `client` uses; re-renders them. */
export function setClient(client: SimaClient | null): void;
/** The client setClient() gave, or null. */
export function getClient(): SimaClient | null;
/**
 * Defines <sima-usage>, <sima-upgrade-prompt> and <sima-pricing-table> (importing the module
 * in a browser already does; a tag already defined is left alone). False without a registry.
 */
export function defineElements(registry?: CustomElementRegistry): boolean;

declare class SimaElement extends HTMLElement {
  /** This element's client; falls back to setClient()'s. */
  client: SimaClient | null;
  /** Re-renders if the client's snapshot changed (or always with `force`). */
  refresh(force?: boolean): void;
}

/**
 * Usage bars (role="progressbar" with aria-valuenow/max and the core's "8/10 (80%)" text).
 * Attributes: `feature` (one feature), `all` (switches and values too). Sets `data-stale` while
 * the figures are from storage or the live connection is lost, and `data-live`. Parts: list,
 * row, row-<status>, label, text, bar, fill, hint, stale. Fires `sima-render` after drawing.
 */
export class SimaUsageElement extends SimaElement {
  readonly rows: UsageRow[];
}

/**
 * A modal upgrade dialog (focus moves in, Escape closes, focus returns). Attributes: `auto`
 * (opens on an unhandled LimitReachedError), `plans-href` (the upgrade button goes there with
 * ?plan=&feature=), `provider` ('khalti' | 'esewa', when it pays directly). Events:
 * `sima-upgrade` (cancelable, detail {plan, feature}), `sima-close`, `sima-error`.
 */
export class SimaUpgradePromptElement extends SimaElement {
  readonly open: boolean;
  show(refusal: Decision | LimitReachedError): void;
  close(): void;
}

/**
 * Every plan: price, limits, "your usage after upgrade" (client.usageAfterUpgrade), and a buy
 * button where client.canBuy allows it. Attribute `provider` ('khalti' default | 'esewa').
 * Events: `sima-buy` (cancelable, detail {plan, provider, renew}), `sima-error`.
 */
export class SimaPricingTableElement extends SimaElement {}

declare global {
  interface HTMLElementTagNameMap {
    'sima-usage': SimaUsageElement;
    'sima-upgrade-prompt': SimaUpgradePromptElement;
    'sima-pricing-table': SimaPricingTableElement;
  }
}
