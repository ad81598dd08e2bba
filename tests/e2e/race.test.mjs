// The race: two browsers of the same organization at 9/10 invoices. A takes the last slot;
// B has not heard of it (its live stream is cut: a network that drops it, or the change still
// on its way), so its local view still allows it and it asks the server, which answers 403 —
// and the same upgrade prompt appears from the server's answer, and B's bars catch up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser, newPage, shot, openDashboard, usageText } from './harness.mjs';

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

async function createInvoice(page, expected) {
  await page.getByRole('button', { name: 'New invoice' }).click();
  await page.waitForFunction((t) => document.querySelector('sima-usage')?.shadowRoot?.querySelector('.usage-row[data-feature="invoices"] [data-usage-text]')?.textContent === t, expected);
}

test('the server\'s 403 shows the same prompt when another browser used the last slot', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const a = await newPage(browser, { context });
  await openDashboard(a, demo);
  await createInvoice(a, '9/10 (90%)');

  // The browser logs the refused request itself, and the cut stream; those lines are expected in B.
  const other = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await other.route(/\/events\//, (route) => route.abort());
  const b = await newPage(browser, { context: other, allow: [/status of 403/, /net::ERR_FAILED/] });
  await openDashboard(b, demo);
  assert.equal(await usageText(b, 'invoices'), '9/10 (90%)');

  await a.bringToFront();
  await createInvoice(a, '10/10 (100%)');
  assert.equal(await usageText(b, 'invoices'), '9/10 (90%)', 'B has not heard of it');

  await b.bringToFront();
  const posted = b.waitForResponse((r) => r.url().startsWith(`${demo.api}/invoices`) && r.request().method() === 'POST');
  await b.getByRole('button', { name: 'New invoice' }).click();
  const response = await posted;
  assert.equal(response.status(), 403);
  const dialog = b.getByRole('dialog', { name: 'Invoices limit reached' });
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute('data-source'), 'server');
  assert.equal((await dialog.locator('[data-prompt-offer]').textContent()).trim(),
    'Upgrade to BASIC — 1,000 invoices for NPR 1,900 / 30 days');
  assert.match(await dialog.textContent(), /You have used 10 of 10 invoices included in the Free plan\./);
  // The server's answer replaced tab B's local view.
  assert.equal(await usageText(b, 'invoices'), '10/10 (100%)');
  await shot(b, '07-race-server-403-prompt', { fullPage: false });

  // From now on tab B refuses locally, without a request.
  await dialog.getByRole('button', { name: 'Not now' }).click();
  let sent = 0;
  b.on('request', (r) => { if (r.url().startsWith(`${demo.api}/invoices`)) sent++; });
  await b.getByRole('button', { name: 'New invoice' }).click();
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute('data-source'), 'local');
  assert.equal(sent, 0);

  a.assertClean();
  b.assertClean();
  await context.close();
  await other.close();
});
