// The plans page asks the core what may be bought (client.canBuy): on FREE every paid plan is
// an upgrade; on a paid plan that plan is offered as a renewal (30 more days, usage kept) and a
// lower plan is not offered, with the core's reason. Each test gets its own fresh demo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser, shot, openDashboard, usageText, journey, openPlans, payOnKhalti, payOnEsewa, expectSuccess, buyWithKhalti,
} from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const card = (page, plan) => page.locator(`.plan[data-plan="${plan}"]`);
const buttons = async (page, plan) => (await card(page, plan).locator('[data-buy]').allTextContents()).map((t) => t.trim());
const DAY = 86_400_000;


test('Plans on FREE: BASIC and PRO are upgrades, FREE is not for sale, prices by the core', async (t) => {
  await journey(browser, t, 'khalti', async (demo, page) => {
    await openPlans(page, demo);
    assert.deepEqual(await buttons(page, 'FREE'), []);
    assert.equal(await card(page, 'FREE').locator('[data-refused]').count(), 0, 'the plan one is on needs no reason');
    assert.deepEqual(await buttons(page, 'BASIC'), ['Upgrade to BASIC with Khalti — NPR 1,900', 'Upgrade to BASIC with eSewa — NPR 1,900']);
    assert.deepEqual(await buttons(page, 'PRO'), ['Upgrade to PRO with Khalti — NPR 3,900', 'Upgrade to PRO with eSewa — NPR 3,900']);
    assert.equal((await card(page, 'PRO').locator('.plan-price').textContent()).trim(), 'NPR 3,900 / 30 days');
    assert.equal((await card(page, 'FREE').locator('.plan-price').textContent()).trim(), 'Free');
    assert.match(await page.locator('[data-subtitle]').textContent(), /You are on the Free plan\. An upgrade starts right away/);
    await shot(page, 'plans-01-free');
  });
});

test('Plans on PRO: PRO is renewed (30 more days, usage kept), BASIC is not offered, with the reason', async (t) => {
  await journey(browser, t, 'khalti', async (demo, page) => {
    await buyWithKhalti(page, demo, 'PRO'); // the upgrade path still works

    // One invoice on PRO, so that "usage kept" can be seen after the renewal.
    await openDashboard(page, demo);
    await page.getByRole('button', { name: 'New invoice' }).click();
    await page.waitForFunction(() => document.querySelector('sima-usage')?.shadowRoot?.querySelector('.usage-row[data-feature="invoices"] [data-usage-text]')?.textContent === '1/∞');

    await openPlans(page, demo);
    assert.match(await page.locator('[data-subtitle]').textContent(), /You are on Pro, our largest plan\./);
    assert.deepEqual(await buttons(page, 'PRO'), ['Renew PRO with Khalti — NPR 3,900', 'Renew PRO with eSewa — NPR 3,900']);
    const note = (await card(page, 'PRO').locator('[data-buy-note]').textContent()).trim();
    const until = note.match(/^Renewing adds 30 days: Pro until (.+)\. Your usage is kept\.$/);
    assert.ok(until, note);
    const renewedEnd = Date.parse(`${until[1]} UTC`);
    // A fresh PRO runs 30 days from now; renewing it now moves its end 30 days on: ~60 days.
    assert.ok(Math.abs(renewedEnd - Date.now() - 60 * DAY) <= 2 * DAY, `${until[1]} is about 60 days away`);
    assert.deepEqual(await buttons(page, 'BASIC'), []);
    const refused = card(page, 'BASIC').locator('[data-refused]');
    assert.equal(await refused.getAttribute('data-refused'), 'conflict');
    assert.match(await refused.textContent(),
      /^Not available: plan PRO is active until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; the lower plan BASIC cannot be bought while it lasts\.$/);
    assert.deepEqual(await buttons(page, 'FREE'), []);
    assert.equal(await card(page, 'FREE').locator('[data-refused]').getAttribute('data-refused'), 'invalid_plan');
    await shot(page, 'plans-02-pro-renew');

    // Renew with eSewa: the success page says so, the end moved, the invoice is still counted.
    await page.getByRole('button', { name: 'Renew PRO with eSewa' }).click();
    await payOnEsewa(page);
    await page.getByRole('button', { name: /^Pay/ }).click();
    await page.waitForURL(/\/success\.html\?/, { timeout: 15_000 });
    await page.waitForSelector('[data-result][data-state="success"]', { timeout: 20_000 });
    assert.equal((await page.locator('h1').textContent()).trim(), 'Pro renewed');
    assert.match(await page.locator('[data-success-text]').textContent(),
      new RegExp(`^Payment of NPR 3,900 received with eSewa\\. Pro now runs until ${until[1]}; your usage this period is kept\\.$`));
    assert.equal(await usageText(page, 'invoices'), '1/∞');
    assert.equal((await page.locator('[data-plan-badge]').textContent()).trim(), 'PRO plan');
    await shot(page, 'plans-03-renewed');

    // Renewing again is offered, now up to 90 days out.
    await openPlans(page, demo);
    const again = (await card(page, 'PRO').locator('[data-buy-note]').textContent()).match(/until (.+)\. Your/);
    assert.ok(Math.abs(Date.parse(`${again[1]} UTC`) - Date.now() - 90 * DAY) <= 2 * DAY, again[1]);
  });
});

test('Plans on BASIC: BASIC is renewed, PRO is an upgrade', async (t) => {
  await journey(browser, t, 'khalti', async (demo, page) => {
    await buyWithKhalti(page, demo, 'BASIC');
    await openPlans(page, demo);
    assert.deepEqual(await buttons(page, 'BASIC'), ['Renew BASIC with Khalti — NPR 1,900', 'Renew BASIC with eSewa — NPR 1,900']);
    // Just paid for BASIC: almost all of it is credited (NPR 1,900 of PRO's 3,900).
    assert.deepEqual(await buttons(page, 'PRO'), ['Upgrade to PRO with Khalti — NPR 2,000', 'Upgrade to PRO with eSewa — NPR 2,000']);
    assert.match(await page.locator('[data-subtitle]').textContent(), /You are on the Basic plan\. An upgrade starts right away/);
    await shot(page, 'plans-04-basic');
  }, { width: 390, height: 844 });
});
