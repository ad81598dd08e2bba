// sima/elements in the demo's drop-in page: the bars are labelled progressbars with the core's
// texts, the upgrade prompt opens by itself on an unhandled refusal (keyboard: focus inside,
// Tab stays in the dialog, Escape closes, focus returns), the pricing table shows each plan's
// "your usage after upgrade" and its buy button pays on Khalti.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser, newPage, shot, paymentsAvailable, payOnKhalti } from './harness.mjs';

let demo;
let browser;

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

async function openDropIn(page) {
  await page.goto(`${demo.web}/drop-in.html`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
}

// The element that has focus, through shadow roots: [tag, text].
const focused = (page) => page.evaluate(() => {
  let a = document.activeElement;
  while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
  return [a?.tagName.toLowerCase(), a?.textContent.trim()];
});

test('<sima-usage> draws a labelled progressbar per counted feature, with the core\'s text', async () => {
  const page = await newPage(browser);
  await openDropIn(page);
  const bar = page.getByRole('progressbar', { name: 'Invoices: 8/10 (80%)' });
  assert.equal(await bar.getAttribute('aria-valuenow'), '8');
  assert.equal(await bar.getAttribute('aria-valuemax'), '10');
  assert.equal(await page.locator('sima-usage .usage-row[data-feature="invoices"]').getAttribute('data-status'), 'warning');
  // Counted features only (no switch, no value) without `all`.
  const kinds = await page.locator('sima-usage .usage-row').evaluateAll((rows) => [...new Set(rows.map((r) => r.dataset.kind))].sort());
  assert.deepEqual(kinds, ['allocation', 'metered']);
  // Themed by the page: the demo's --ok colour reaches the bar through --sima-bar.
  const fill = await page.locator('sima-usage .usage-row[data-feature="customers"] [part~="fill"]').evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(fill, 'rgb(31, 157, 107)');
  const marks = await page.evaluate(() => performance.getEntriesByName('sima:bars').length);
  assert.equal(marks, 1);
  page.assertClean();
  await page.context().close();
});

test('<sima-upgrade-prompt auto> opens on an unhandled LimitReachedError; keyboard and focus work', async () => {
  const page = await newPage(browser);
  await openDropIn(page);
  const create = page.getByRole('button', { name: 'New invoice' });
  for (const text of ['9/10 (90%)', '10/10 (100%)']) {
    await create.click();
    await page.getByRole('progressbar', { name: `Invoices: ${text}` }).waitFor();
  }
  const requests = [];
  page.on('request', (r) => { if (r.url().startsWith(demo.api)) requests.push(r.url()); });
  await create.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Invoices limit reached' });
  await dialog.waitFor();
  assert.deepEqual(requests, [], 'refused in the browser: no request');
  assert.equal((await dialog.locator('[data-offer]').textContent()).trim(), 'Basic gives 1,000 for NPR 1,900 / 30 days.');
  assert.deepEqual(await focused(page), ['button', 'Upgrade to Basic']);
  await page.keyboard.press('Shift+Tab');
  assert.deepEqual(await focused(page), ['button', 'Not now']);
  await shot(page, '40-elements-prompt', { fullPage: false });
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(await focused(page), ['button', 'New invoice'], 'focus goes back to the button');
  // Upgrade goes to the plans page with the plan and the feature.
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/plans\.html\?plan=BASIC&feature=invoices$/);
  page.assertClean();
  await page.context().close();
});

test('<sima-pricing-table> shows every plan with the usage after upgrade, and buys on Khalti', async (t) => {
  const page = await newPage(browser);
  await openDropIn(page);
  const table = page.locator('sima-pricing-table');
  assert.deepEqual(await table.locator('[data-plan]').evaluateAll((s) => s.map((x) => x.dataset.plan)), ['FREE', 'BASIC', 'PRO']);
  const basic = table.locator('[data-plan="BASIC"]');
  assert.equal(await basic.locator('[part~="price"]').textContent(), 'NPR 1,900 / 30 days');
  assert.equal(await basic.locator('h4').textContent(), 'Your usage after upgrade');
  assert.equal(await basic.locator('.after [data-feature="invoices"] [data-usage-text]').textContent(), '0/1000 (0%)');
  assert.equal(await basic.locator('.after [data-feature="customers"] [data-usage-text]').textContent(), '3/50 (6%)');
  assert.equal(await table.locator('[data-plan="FREE"] h4').textContent(), 'Your usage now');
  await shot(page, '41-elements-pricing');
  if (!(await paymentsAvailable(demo))) {
    t.skip('sima-server has no Khalti routes');
    return;
  }
  await page.getByRole('button', { name: 'Upgrade to Basic' }).click();
  await payOnKhalti(page);
  await page.getByRole('button', { name: /^Pay/ }).click();
  await page.waitForURL(/\/success\.html\?/, { timeout: 15_000 });
  await page.waitForSelector('[data-result][data-state="success"]', { timeout: 20_000 });
  await openDropIn(page);
  assert.equal(await table.locator('[data-plan="BASIC"] h4').textContent(), 'Your usage now');
  await page.getByRole('progressbar', { name: 'Invoices: 0/1000 (0%)' }).waitFor();
  page.assertClean();
  await page.context().close();
});
