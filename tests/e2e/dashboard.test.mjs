// The dashboard a newcomer sees: the seed's usage, creating until the limit, the instant
// upgrade prompt (no request), a phone-width layout, and a second run reusing the data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startDemo, launchBrowser, newPage, shot, openDashboard, usageText, marks, figure,
} from './harness.mjs';

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

test('the dashboard opens on FREE with the seed usage and the over-limit warning', async () => {
  const page = await newPage(browser);
  await openDashboard(page, demo);
  assert.equal((await page.locator('[data-plan-badge]').textContent()).trim(), 'FREE plan');
  assert.equal(await usageText(page, 'invoices'), '8/10 (80%)');
  assert.equal(await usageText(page, 'customers'), '3/5 (60%)');
  assert.equal(await usageText(page, 'team_members'), '1/1 seats (100%)');
  assert.match(await usageText(page, 'api_calls'), /^4\d\d\/100 \(4\d\d%\)$/);
  assert.equal(await page.locator('.usage-row[data-feature="api_calls"] .over-flag').textContent(), '⚠ OVER');
  assert.equal(await page.locator('.usage-row[data-feature="invoices"]').getAttribute('data-status'), 'warning');
  // Every bar is a labelled progressbar.
  assert.equal(await page.getByRole('progressbar', { name: 'Invoices: 8/10 (80%)' }).count(), 1);
  const m = await marks(page);
  assert.ok(m['sima:bars-drawn'] > 0);
  figure('first page load (navigation start) -> usage bars drawn', m['sima:bars-drawn']);
  const warm = [];
  for (let i = 0; i < 5; i++) {
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    warm.push((await marks(page))['sima:bars-drawn']);
  }
  warm.sort((x, y) => x - y);
  figure('reload (navigation start) -> usage bars drawn, median of 5', warm[2]);
  await shot(page, '01-dashboard');
  page.assertClean();
  await page.context().close();
});

test('the dashboard is readable at phone width', async () => {
  const page = await newPage(browser, { width: 390, height: 844 });
  await openDashboard(page, demo);
  // Nothing wider than the screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  await shot(page, '02-dashboard-phone');
  page.assertClean();
  await page.context().close();
});

test('creating invoices until the limit, then the prompt appears without a request', async () => {
  const page = await newPage(browser);
  await openDashboard(page, demo);
  const create = page.getByRole('button', { name: 'New invoice' });
  for (const expected of ['9/10 (90%)', '10/10 (100%)']) {
    await create.click();
    await page.waitForFunction((t) => document.querySelector('sima-usage')?.shadowRoot?.querySelector('.usage-row[data-feature="invoices"] [data-usage-text]')?.textContent === t, expected);
    await page.getByRole('button', { name: 'New invoice' }).and(page.locator(':enabled')).waitFor();
  }
  assert.equal(await page.locator('.usage-row[data-feature="invoices"]').getAttribute('data-status'), 'full');
  await shot(page, '03-dashboard-invoices-full');

  const requests = [];
  page.on('request', (r) => { if (r.url().startsWith(demo.api)) requests.push(r.url()); });
  await create.click();
  const dialog = page.getByRole('dialog', { name: 'Invoices limit reached' });
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute('data-source'), 'local');
  assert.equal((await dialog.locator('[data-prompt-offer]').textContent()).trim(),
    'Upgrade to BASIC — 1,000 invoices for NPR 1,900 / 30 days');
  assert.match(await dialog.textContent(), /Suggested upgrade plan/);
  assert.match(await dialog.textContent(), /You have used 10 of 10 invoices included in the Free plan\./);
  await page.waitForTimeout(300);
  assert.deepEqual(requests, [], 'the local refusal must not send a request');

  const m = await marks(page);
  const shown = m['sima:prompt-shown:invoices'] - m['sima:click:invoices'];
  await page.waitForFunction(() => performance.getEntriesByName('sima:prompt-painted:invoices').length > 0);
  const painted = (await marks(page))['sima:prompt-painted:invoices'] - m['sima:click:invoices'];
  figure('click -> upgrade prompt in the DOM (showModal)', shown);
  figure('click -> next animation frame with the prompt', painted);
  assert.ok(shown < 50, `the prompt took ${shown} ms`);
  await shot(page, '04-upgrade-prompt', { fullPage: false });

  // "See Basic plan" leads to the plans page with BASIC suggested and the after-upgrade preview.
  await dialog.getByRole('link', { name: 'See Basic plan' }).click();
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(page.url(), /plans\.html\?plan=BASIC&feature=invoices$/);
  const basic = page.locator('.plan[data-plan="BASIC"]');
  assert.equal(await basic.getAttribute('data-suggested'), '');
  // A purchase starts a new period: invoices from zero; the customers and the member stay.
  assert.equal((await basic.locator('.usage-row[data-feature="invoices"] [data-usage-text]').textContent()), '0/1000 (0%)');
  assert.equal((await basic.locator('.usage-row[data-feature="customers"] [data-usage-text]').textContent()), '3/50 (6%)');
  assert.equal((await page.locator('.plan[data-plan="PRO"] .usage-row[data-feature="team_members"] [data-usage-text]').textContent()), '1/10 seats (10%)');
  await shot(page, '05-plans');
  page.assertClean();
  await page.context().close();
});

test('a team member on FREE is refused instantly; customers until their limit', async () => {
  const page = await newPage(browser, { width: 390, height: 844 });
  await openDashboard(page, demo);
  await page.getByRole('button', { name: 'Add team member' }).click();
  const dialog = page.getByRole('dialog', { name: 'Team members limit reached' });
  await dialog.waitFor();
  assert.equal((await dialog.locator('[data-prompt-offer]').textContent()).trim(),
    'Upgrade to BASIC — 3 seats for NPR 1,900 / 30 days');
  assert.match(await dialog.textContent(), /You are using 1 of the 1 seats included in the Free plan\./);
  await shot(page, '06-prompt-phone', { fullPage: false });
  await dialog.getByRole('button', { name: 'Not now' }).click();
  await dialog.waitFor({ state: 'hidden' });

  for (const expected of ['4/5 (80%)', '5/5 (100%)']) {
    await page.getByRole('button', { name: 'New customer' }).click();
    await page.waitForFunction((t) => document.querySelector('sima-usage')?.shadowRoot?.querySelector('.usage-row[data-feature="customers"] [data-usage-text]')?.textContent === t, expected);
    await page.getByRole('button', { name: 'New customer' }).and(page.locator(':enabled')).waitFor();
  }
  await page.getByRole('button', { name: 'New customer' }).click();
  await page.getByRole('dialog', { name: 'Customers limit reached' }).waitFor();
  assert.match(await page.locator('[data-prompt-offer]').textContent(), /Upgrade to BASIC — 50 customers for NPR 1,900 \/ 30 days/);
  page.assertClean();
  await page.context().close();
});

test('the secret key never reaches the browser', async () => {
  const page = await newPage(browser);
  const bodies = [];
  page.on('response', async (r) => {
    if (r.request().resourceType() === 'fetch') bodies.push(await r.text().catch(() => ''));
  });
  await openDashboard(page, demo);
  const storage = await page.evaluate(() => JSON.stringify(sessionStorage) + JSON.stringify(localStorage) + document.cookie);
  for (const text of [...bodies, storage]) assert.doesNotMatch(text, /sk_[0-9a-f]/);
  assert.match(storage, /st_/);
  await page.context().close();
});

test('Ctrl-C stops everything and a second run reuses the data', async () => {
  const how = await demo.stop({ keepData: true });
  assert.deepEqual(how, { code: 0, signal: null }, demo.output());
  demo = await startDemo({ data: demo.data });
  const page = await newPage(browser);
  await openDashboard(page, demo);
  assert.equal(await usageText(page, 'invoices'), '10/10 (100%)');
  assert.equal(await usageText(page, 'customers'), '5/5 (100%)');
  assert.doesNotMatch(demo.output(), /created the demo organization/);
  page.assertClean();
  await page.context().close();
});
