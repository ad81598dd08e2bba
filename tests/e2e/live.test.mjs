// Live usage across tabs and users: two tabs of one browser (context A) and another user of the
// same organization (context B, its own session). An invoice created in B shows in both tabs of
// A within 1 s of the click; the two tabs of A hold one stream between them (one tab streams,
// the other hears it over BroadcastChannel); a Khalti payment finished in tab 1 shows the new
// plan in tab 2 within 1 s of the success page. The 1 s bounds are the promise, asserted
// as behaviour (the wait fails after 1 s), not measured as a benchmark.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startDemo, launchBrowser, newPage, openDashboard, usageText, shot, paymentsAvailable, openPlans, payOnKhalti, expectSuccess,
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

// Whether sima-server serves GET /events/{org_id}/ (401 without a credential; 404 = no route).
async function eventsRoute() {
  const res = await fetch(`${demo.api}/events/org_x/`);
  await res.arrayBuffer();
  return res.status !== 404;
}

// Waits in `page` until the invoices bar reads `text`; fails after `ms`.
const invoicesReach = (page, text, ms) => page.waitForFunction((t) =>
  document.querySelector('sima-usage')?.shadowRoot?.querySelector('.usage-row[data-feature="invoices"] [data-usage-text]')?.textContent === t,
text, { timeout: ms, polling: 'raf' });

test('a change by another user shows in every open tab within 1 s; two tabs share one stream; a payment in one tab shows in the other', async (t) => {
  if (!(await eventsRoute())) {
    t.skip('sima-server has no GET /events/{org_id}/ yet (404): the live stream has not landed');
    return;
  }
  const a = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const streamers = new Set(); // the tabs of A that opened GET /events/
  const streams = []; // their requests: {search, authorization}
  a.on('request', (r) => {
    const url = new URL(r.url());
    if (!url.pathname.startsWith('/events/') || r.method() !== 'GET') return;
    streamers.add(r.frame().page());
    streams.push({ search: url.search, authorization: r.headers().authorization ?? '' });
  });
  const tab1 = await newPage(browser, { context: a });
  const tab2 = await newPage(browser, { context: a });
  const other = await newPage(browser); // context B: another user, another session
  for (const page of [tab1, tab2, other]) await openDashboard(page, demo);
  for (const page of [tab1, tab2]) await page.waitForSelector('sima-usage[data-live="open"]', { timeout: 10_000 });
  assert.equal(await usageText(tab1, 'invoices'), '8/10 (80%)');

  // B creates an invoice: both tabs of A show it within 1 s of the click.
  const seen = [tab1, tab2].map((page) => invoicesReach(page, '9/10 (90%)', 1000));
  await other.getByRole('button', { name: 'New invoice' }).click();
  await Promise.all(seen);
  assert.equal(await tab2.locator('sima-usage').getAttribute('data-stale'), null, 'a pushed change is fresh');
  await shot(tab2, '50-live-other-user');
  assert.equal(streamers.size, 1, `the two tabs hold one stream between them (${streams.length} requests to /events/)`);
  for (const { search, authorization } of streams) {
    assert.equal(search, '', 'nothing (no credential) in the stream URL');
    assert.match(authorization, /^Bearer st_/, 'the session token goes in a header');
  }

  // A payment finished in tab 1 shows the new plan in tab 2.
  if (!(await paymentsAvailable(demo))) {
    t.diagnostic('no Khalti routes: the payment part is not run');
  } else {
    await openPlans(tab1, demo);
    await tab1.getByRole('button', { name: 'Upgrade to BASIC with Khalti' }).click();
    await payOnKhalti(tab1);
    await tab1.getByRole('button', { name: /^Pay/ }).click();
    await expectSuccess(tab1, 'BASIC');
    await tab2.waitForSelector('[data-plan-badge][data-plan="BASIC"]', { timeout: 1000 });
    await invoicesReach(tab2, '0/1000 (0%)', 1000);
    await shot(tab2, '51-live-payment-other-tab');
  }
  for (const page of [tab1, tab2, other]) page.assertClean();
  await a.close();
  await other.context().close();
});
