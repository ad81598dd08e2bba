// The upgrade journeys through the gateway simulator's pages: Khalti (pay, cancel, pending)
// and eSewa (pay, cancel). Each test gets its own fresh demo (a FREE organization).
//
// Until sima-server has the payment routes, these tests skip themselves: each asks the running
// server for POST /billing/{khalti,esewa}/init/ and skips when it answers 404 no such route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser, shot, openDashboard, usageText, simFaults, journey, openPlans, payOnKhalti, payOnEsewa, expectSuccess,
} from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('Khalti: create until the prompt, upgrade to PRO, pay, success, create more', async (t) => {
  await journey(browser, t, 'khalti', async (demo, page) => {
    await openDashboard(page, demo);
    for (const expected of ['9/10 (90%)', '10/10 (100%)']) {
      await page.getByRole('button', { name: 'New invoice' }).click();
      await page.waitForFunction((x) => document.querySelector('sima-usage')?.shadowRoot?.querySelector('.usage-row[data-feature="invoices"] [data-usage-text]')?.textContent === x, expected);
      await page.getByRole('button', { name: 'New invoice' }).and(page.locator(':enabled')).waitFor();
    }
    await page.getByRole('button', { name: 'New invoice' }).click();
    const dialog = page.getByRole('dialog', { name: 'Invoices limit reached' });
    await dialog.waitFor();
    await shot(page, 'khalti-01-prompt', { fullPage: false });
    await dialog.getByRole('link', { name: 'See Basic plan' }).click();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.locator('.plan[data-plan="PRO"] .usage-row[data-feature="invoices"] [data-usage-text]').textContent(), '0/∞');
    await shot(page, 'khalti-02-plans');

    await page.getByRole('button', { name: 'Upgrade to PRO with Khalti' }).click();
    await payOnKhalti(page);
    await shot(page, 'khalti-03-gateway-page');
    await page.getByRole('button', { name: /^Pay/ }).click();

    await expectSuccess(page, 'PRO');
    assert.match(page.url(), /status=SUCCESS/);
    assert.match(await page.locator('[data-result]').textContent(), /NPR 3,900/);
    assert.equal(await usageText(page, 'invoices'), '0/∞');
    await shot(page, 'khalti-04-success');

    await page.getByRole('link', { name: 'Go to dashboard' }).click();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal((await page.locator('[data-plan-badge]').textContent()).trim(), 'PRO plan');
    for (const expected of ['1/∞', '2/∞', '3/∞']) {
      await page.getByRole('button', { name: 'New invoice' }).click();
      await page.waitForFunction((x) => document.querySelector('sima-usage')?.shadowRoot?.querySelector('.usage-row[data-feature="invoices"] [data-usage-text]')?.textContent === x, expected);
      await page.getByRole('button', { name: 'New invoice' }).and(page.locator(':enabled')).waitFor();
    }
    assert.equal(await page.locator('#upgrade-prompt').evaluate((d) => d.open), false, 'no prompt on PRO');
    await shot(page, 'khalti-05-dashboard-pro');
  });
});

test('Khalti: cancelling on the payment page leads to the failure page and back', async (t) => {
  await journey(browser, t, 'khalti', async (demo, page) => {
    await openPlans(page, demo);
    await page.getByRole('button', { name: 'Upgrade to PRO with Khalti' }).click();
    await page.waitForURL(/\/khalti\/pay\//);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(/\/failure\.html\?/, { timeout: 15_000 });
    await page.waitForSelector('[data-result][data-state="failed"]');
    assert.match(page.url(), /status=FAILED/);
    assert.match(await page.locator('[data-reason]').textContent(), /cancelled the payment on Khalti/);
    assert.match(await page.locator('[data-result]').textContent(), /still on the Free plan/);
    await shot(page, 'khalti-06-cancelled');
    await page.getByRole('link', { name: 'Back to dashboard' }).click();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal((await page.locator('[data-plan-badge]').textContent()).trim(), 'FREE plan');
    assert.equal(await usageText(page, 'invoices'), '8/10 (80%)');
  });
});

test('Khalti: a payment still pending is shown as such and followed until it succeeds', async (t) => {
  await journey(browser, t, 'khalti', async (demo, page) => {
    await simFaults(demo, { redirect_mode: 'pending_then_complete', pending_complete_ms: 3000 });
    await openPlans(page, demo);
    await page.getByRole('button', { name: 'Upgrade to BASIC with Khalti' }).click();
    await payOnKhalti(page);
    await page.getByRole('button', { name: /^Pay/ }).click();
    await page.waitForURL(/\/success\.html\?.*status=PENDING/, { timeout: 15_000 });
    await page.waitForSelector('[data-result][data-state="pending"]');
    assert.match(await page.locator('h1').textContent(), /Confirming your payment/);
    await shot(page, 'khalti-07-pending');
    await expectSuccess(page, 'BASIC');
    assert.equal(await usageText(page, 'invoices'), '0/1000 (0%)');
    await shot(page, 'khalti-08-pending-then-success');
  }, { width: 390, height: 844 });
});

test('eSewa: the browser posts the signed form, pays, success', async (t) => {
  await journey(browser, t, 'esewa', async (demo, page) => {
    await openPlans(page, demo);
    await page.getByRole('button', { name: 'Upgrade to PRO with eSewa' }).click();
    await payOnEsewa(page);
    await shot(page, 'esewa-01-gateway-page');
    await page.getByRole('button', { name: /^Pay/ }).click();
    await expectSuccess(page, 'PRO');
    assert.match(await page.locator('[data-result]').textContent(), /eSewa/);
    await shot(page, 'esewa-02-success');
  });
});

test('eSewa: cancelling leads to the failure page', async (t) => {
  await journey(browser, t, 'esewa', async (demo, page) => {
    await openPlans(page, demo);
    await page.getByRole('button', { name: 'Upgrade to PRO with eSewa' }).click();
    await page.waitForURL(/\/api\/epay\/main\/v2\/form|\/esewa\/pay\//);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(/\/failure\.html\?/, { timeout: 15_000 });
    await page.waitForSelector('[data-result][data-state="failed"]');
    assert.match(await page.locator('[data-result]').textContent(), /still on the Free plan/);
    await shot(page, 'esewa-03-cancelled');
  });
});
