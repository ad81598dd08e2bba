// The second month, in the browser: a paid plan reaches renewal due (the demo's "Skip ahead"
// moves sima-server's demo clock and the simulator's), the reminder e-mail (.eml in the demo's
// mail folder) holds a pay link, following it pays with Khalti on the simulator and the plan
// then ends 30 days after its old end; another reaches grace, then expiry, and falls to FREE
// with the banner and the e-mails; an upgrade BASIC → PRO in the middle of a period shows the
// prorated amount, and the payment charges exactly it (the simulator's record); a cheaper plan
// or a cancel is scheduled for the period's end and undone.
//
// Each test starts its own demo (a FREE organization). Until sima-server has the demo clock
// (SIMA_DEMO_CLOCK) these tests skip themselves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  launchBrowser, newPage, startDemo, shot, openDashboard, openPlans, payOnKhalti, expectSuccess, usageText, buyWithKhalti,
} from './harness.mjs';

const DAY = 86400e3;
let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function withDemo(t, fn, { allow = [] } = {}) {
  const demo = await startDemo();
  try {
    const clock = await (await fetch(`${demo.web}/api/demo-clock`)).json();
    if (!clock.enabled) {
      t.skip('sima-server has no demo clock yet (SIMA_DEMO_CLOCK): the lifecycle has not landed');
      return;
    }
    const page = await newPage(browser, { allow });
    page.on('response', (r) => { if (r.status() >= 400) console.log(`# ${r.status()} ${r.url()}`); });
    try {
      await fn(demo, page);
    } catch (e) {
      e.message += `\n--- the demo's output:\n${demo.output().slice(-3000)}`;
      throw e;
    }
    page.assertClean();
    await page.context().close();
  } finally {
    await demo.stop();
  }
}

// The subscription as the server has it (GET /billing/subscription/ with a session token).
async function serverSubscription(demo) {
  const { token } = await (await fetch(`${demo.web}/api/session`, { method: 'POST' })).json();
  const res = await fetch(`${demo.api}/billing/subscription/`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  return (await res.json()).subscription;
}

// "Skip ahead" on the dashboard: the page reloads at the new time.
async function skip(page, demo, days) {
  await openDashboard(page, demo);
  await page.locator('[data-skip-days]').fill(String(days));
  await Promise.all([page.waitForEvent('load'), page.locator('[data-skip-go]').click()]);
  await page.waitForSelector('body[data-ready="true"]');
}

// The e-mails in the demo's mail folder whose text matches `re`, decoded (quoted-printable soft
// breaks and =XX), waiting for the outbox to write them.
async function mails(demo, re, { count = 1 } = {}) {
  const dir = path.join(demo.data, 'mail');
  for (let i = 0; i < 100; i++) {
    const found = [];
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.eml')).sort()) {
      const raw = await readFile(path.join(dir, name), 'utf8');
      const text = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      if (re.test(text)) found.push(text);
    }
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no e-mail matching ${re} in ${dir} (${(await readdir(dir)).join(', ') || 'empty'})`);
}

test('renewal due: the reminder\'s pay link pays with Khalti and the plan ends 30 days after its old end', async (t) => {
  await withDemo(t, async (demo, page) => {
    await buyWithKhalti(page, demo, 'BASIC');
    const paid = await serverSubscription(demo);
    assert.equal(paid.state, 'active');

    // 24 days on: inside the 7 days before the end.
    await skip(page, demo, 24);
    const banner = page.locator('[data-banner]');
    assert.equal(await banner.getAttribute('data-state'), 'renewal_due');
    assert.match(await banner.textContent(), /Your Basic plan ends on/);
    assert.ok(await banner.getByRole('button', { name: /Pay NPR 1,900 with Khalti/ }).isVisible());
    await shot(page, 'lifecycle-01-renewal-due');

    const [mail] = await mails(demo, /\/pay\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\//);
    const link = mail.match(/https?:\/\/[^\s"<>]+\/pay\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\//)[0];
    assert.ok(link.startsWith(demo.api), `the pay link is sima-server's: ${link}`);
    await page.goto(link);
    await shot(page, 'lifecycle-02-pay-link');
    await page.getByRole('button', { name: /Pay with Khalti/ }).click();
    await payOnKhalti(page);
    await page.getByRole('button', { name: /^Pay/ }).click();
    await page.waitForURL((url) => !url.href.includes('/khalti/'), { timeout: 15_000 });

    const renewed = await serverSubscription(demo);
    assert.equal(renewed.subscribed_plan, 'BASIC');
    assert.equal(Date.parse(renewed.end_date), Date.parse(paid.end_date) + 30 * DAY);
    assert.equal(renewed.state, 'active');
    const { khalti } = await (await fetch(`${demo.sim}/_sim/payments`)).json();
    assert.deepEqual(khalti.map((p) => [p.status, p.amount]), [['Completed', 190000], ['Completed', 190000]]);
    // The link is used: it says so, and never starts a second payment.
    await page.goto(link);
    assert.match(await page.locator('body').textContent(), /already paid/i);
    await openDashboard(page, demo);
    assert.equal(await page.locator('[data-banner]').isHidden(), true);
    await shot(page, 'lifecycle-03-renewed');
    // The used link's page is a 410, and the pay pages have no favicon on sima-server: both are
    // logged by the browser as failed loads.
  }, { allow: [/status of 410 \(Gone\)/, /status of 404 \(Not Found\)/] });
});

test('grace, then expiry: the plan still applies in grace, then FREE with the banner and the e-mails', async (t) => {
  await withDemo(t, async (demo, page) => {
    await buyWithKhalti(page, demo, 'BASIC');
    await skip(page, demo, 31);
    const banner = page.locator('[data-banner]');
    assert.equal(await banner.getAttribute('data-state'), 'grace');
    assert.match(await banner.textContent(), /Your Basic plan ended on .* Its limits still apply until/);
    assert.equal((await page.locator('[data-plan-badge]').textContent()).trim(), 'BASIC plan');
    assert.equal(await usageText(page, 'invoices'), '0/1000 (0%)');
    await mails(demo, /grace/i);
    await shot(page, 'lifecycle-04-grace');

    await skip(page, demo, 3);
    assert.equal(await banner.getAttribute('data-state'), 'expired');
    assert.match(await banner.textContent(), /Expired: you are on Free now\. Your Basic plan ended on .* Free's limits apply \(invoices 1,000 → 10/);
    assert.equal((await page.locator('[data-plan-badge]').textContent()).trim(), 'FREE plan');
    assert.match(await page.locator('[data-usage-why]').textContent(), /These are the Free plan's limits: your Basic plan expired on/);
    assert.equal(await usageText(page, 'invoices'), '0/10 (0%)');
    await mails(demo, /expired/i);
    const sub = await serverSubscription(demo);
    assert.deepEqual([sub.state, sub.plan, sub.subscribed_plan], ['expired', 'FREE', 'BASIC']);
    await shot(page, 'lifecycle-05-expired');
  });
});

test('an upgrade BASIC → PRO mid-period shows the prorated amount and charges exactly it', async (t) => {
  await withDemo(t, async (demo, page) => {
    await buyWithKhalti(page, demo, 'BASIC');
    await skip(page, demo, 15);
    await openPlans(page, demo);
    const quote = page.locator('.plan[data-plan="PRO"] [data-quote]');
    const shown = Number(await quote.getAttribute('data-amount-paisa'));
    // Half of BASIC's Rs 1,900 unused (a few seconds less): Rs 950 credited.
    assert.equal(shown, 295000);
    assert.match(await quote.textContent(), /PRO, 30 days.*Credit: unused BASIC until .*To pay now.*NPR 2,950/s);
    await shot(page, 'lifecycle-06-prorated-quote');
    await page.getByRole('button', { name: 'Upgrade to PRO with Khalti — NPR 2,950' }).click();
    await payOnKhalti(page);
    await page.getByRole('button', { name: /^Pay/ }).click();
    await expectSuccess(page, 'PRO');
    // The simulator's record (listed by pidx): BASIC at its price, the upgrade at the quote.
    const { khalti } = await (await fetch(`${demo.sim}/_sim/payments`)).json();
    assert.deepEqual(khalti.map((p) => [p.amount, p.status]).sort(), [[190000, 'Completed'], [shown, 'Completed']],
      'the gateway charged what the page showed');
    await shot(page, 'lifecycle-07-upgraded');
  });
});

test('a cheaper plan scheduled for the period\'s end, a cancel, and their undo', async (t) => {
  await withDemo(t, async (demo, page) => {
    await buyWithKhalti(page, demo, 'PRO');
    await openPlans(page, demo);
    await page.locator('[data-switch="BASIC"]').click();
    await page.locator('.plan[data-plan="BASIC"] [data-scheduled="switch"]').waitFor();
    const banner = page.locator('[data-banner]');
    assert.match(await banner.textContent(), /Your plan switches to Basic on .* Pro stays until then\./);
    assert.deepEqual((await serverSubscription(demo)).scheduled_change, { kind: 'switch', plan: 'BASIC' });
    await shot(page, 'lifecycle-08-switch-scheduled');
    await banner.getByRole('button', { name: 'Undo' }).click();
    await banner.waitFor({ state: 'hidden' });
    assert.equal((await serverSubscription(demo)).scheduled_change, null);

    await page.locator('[data-change="cancel"]').click();
    await page.locator('[data-scheduled="cancel"]').waitFor();
    assert.equal(await banner.getAttribute('data-state'), 'canceled');
    assert.match(await banner.textContent(), /Your Pro plan is canceled\. It stays until .*, then you are on Free\./);
    await banner.getByRole('button', { name: 'Keep my plan' }).click();
    await banner.waitFor({ state: 'hidden' });
    assert.equal((await serverSubscription(demo)).state, 'active');
  });
});
