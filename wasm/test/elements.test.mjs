// sima/elements where there is no DOM (Node, server-side rendering): importing it defines
// nothing and throws nothing; defineElements() registers the three tags once on a registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defineElements, setClient, getClient, SimaUsageElement, SimaUpgradePromptElement, SimaPricingTableElement,
} from '../src/elements.js';

test('importing sima/elements in Node touches no DOM and defines nothing', () => {
  assert.equal(globalThis.customElements, undefined);
  assert.equal(defineElements(), false);
  assert.equal(typeof SimaUsageElement, 'function');
});

test('defineElements registers <sima-usage>, <sima-upgrade-prompt> and <sima-pricing-table> once', () => {
  const defined = new Map();
  const registry = { get: (tag) => defined.get(tag), define: (tag, cls) => {
    if (defined.has(tag)) throw new Error(`${tag} defined twice`);
    defined.set(tag, cls);
  } };
  assert.equal(defineElements(registry), true);
  assert.equal(defineElements(registry), true); // a second import or call is harmless
  assert.deepEqual([...defined.keys()], ['sima-usage', 'sima-upgrade-prompt', 'sima-pricing-table']);
  assert.equal(defined.get('sima-pricing-table'), SimaPricingTableElement);
  assert.equal(defined.get('sima-upgrade-prompt'), SimaUpgradePromptElement);
});

test('setClient shares one client with every element', () => {
  const client = { subscribe: () => () => {} };
  setClient(client);
  assert.equal(getClient(), client);
  setClient(null);
  assert.equal(getClient(), null);
});
