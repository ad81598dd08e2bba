// Feature kinds in the browser: a seat freed by removing a team member (an allocation), the
// switch "Export to PDF" (off on FREE, the prompt names Basic, on after paying for it), the
// attachment size (a value), the plans page listing each plan's switches and values, and an
// organization's own deal (an override set through the admin API).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  startDemo, launchBrowser, newPage, shot, openDashboard, usageText, journey, openPlans, payOnKhalti, expectSuccess,
} from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Runs `fn(demo, page)` on the dashboard of a fresh demo (a FREE organization). */
async function onFreshDashboard(fn) {
  const demo = await startDemo();
  try {
    const page = await newPage(browser);
    await openDashboard(page, demo);
    await fn(demo, page);
    page.assertClean();
    await page.context().close();
  } finally {
    await demo.stop();
  }
}

const waitText = (page, feature, text) => page.waitForFunction(([f, t]) =>
  document.querySelector('sima-usage')?.shadowRoot?.querySelector(`.usage-row[data-feature="${f}"] [data-usage-text]`)?.textContent === t, [feature, text]);

test('a seat freed: FREE 1/1 seats, adding is refused, Remove frees it, adding works again', async () => {
  await onFreshDashboard(async (demo, page) => {
    assert.equal(await usageText(page, 'team_members'), '1/1 seats (100%)');
    const members = page.locator('#team [data-member]');
    await members.first().waitFor();
    assert.equal(await members.count(), 1);

    // Refused at once by the core: no request.
    const requests = [];
    page.on('request', (r) => { if (r.url().startsWith(demo.api)) requests.push(`${r.method()} ${new URL(r.url()).pathname}`); });
    await page.getByRole('button', { name: 'Add team member' }).click();
    const dialog = page.getByRole('dialog', { name: 'Team members limit reached' });
    await dialog.waitFor();
    assert.deepEqual(requests, []);
    await dialog.getByRole('button', { name: 'Not now' }).click();
    await shot(page, 'kinds-01-seats-full');

    // Remove the one member: DELETE, and the bar drops without a reload.
    await page.getByRole('button', { name: 'Remove Asha Gurung' }).click();
    await waitText(page, 'team_members', '0/1 seats (0%)');
    assert.ok(requests.some((r) => /^DELETE \/team-members\/[^/]+\/$/.test(r)), requests.join(', '));
    await page.locator('#team .empty').waitFor();
    assert.equal(await page.locator('.usage-row[data-feature="team_members"]').getAttribute('data-status'), 'ok');
    await shot(page, 'kinds-02-seat-freed');

    // The seat is free on the server too: adding works, and the list shows the new member.
    await page.getByRole('button', { name: 'Add team member' }).click();
    await waitText(page, 'team_members', '1/1 seats (100%)');
    await members.first().waitFor();
    assert.equal(await members.count(), 1);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await usageText(page, 'team_members'), '1/1 seats (100%)', 'the server counted the same');
  });
});

test('the attachment size is a value: 5 MB fits on FREE, 20 MB is refused with the plan that allows it', async () => {
  await onFreshDashboard(async (demo, page) => {
    assert.equal(await usageText(page, 'attachment_mb'), '5 MB');
    assert.equal(await usageText(page, 'pdf_export'), 'Off');
    assert.equal((await page.locator('.usage-row[data-feature="pdf_export"] [data-unlock]').textContent()).trim(), '· on Basic');
    assert.equal(await usageText(page, 'custom_branding'), 'Off');
    assert.equal((await page.locator('.usage-row[data-feature="custom_branding"] [data-unlock]').textContent()).trim(), '· on Pro');
    assert.equal((await page.locator('[data-note="attachment_mb"]').textContent()).trim(), 'Up to 5 MB on Free');

    const size = page.getByLabel('Attachment size (MB)');
    await size.fill('5');
    await page.getByRole('button', { name: 'Attach file' }).click();
    await page.locator('.toast', { hasText: 'Attached a 5 MB file.' }).waitFor();

    await size.fill('20');
    await page.getByRole('button', { name: 'Attach file' }).click();
    const dialog = page.getByRole('dialog', { name: 'Attachment size limit' });
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute('data-source'), 'local');
    assert.match(await dialog.textContent(), /The Free plan allows up to 5 MB; this one is 20 MB\./);
    assert.equal((await dialog.locator('[data-prompt-offer]').textContent()).trim(), 'Upgrade to BASIC — up to 25 MB for NPR 1,900 / 30 days');
    await shot(page, 'kinds-03-attachment-prompt', { fullPage: false });
    await dialog.getByRole('button', { name: 'Not now' }).click();
    await size.fill('60');
    await page.getByRole('button', { name: 'Attach file' }).click();
    await dialog.waitFor();
    assert.match(await dialog.locator('[data-prompt-offer]').textContent(), /^Upgrade to PRO — up to 100 MB for NPR 3,900/);
  });
});

test('Export to PDF: off on FREE, the prompt names Basic; after buying Basic it is on', async (t) => {
  await journey(browser, t, 'khalti', async (demo, page) => {
    await openDashboard(page, demo);
    assert.equal((await page.locator('[data-note="pdf_export"]').textContent()).trim(), 'On Basic and up');
    const requests = [];
    page.on('request', (r) => { if (r.url().startsWith(demo.api)) requests.push(r.url()); });
    await page.getByRole('button', { name: 'Export to PDF' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export to PDF is not on your plan' });
    await dialog.waitFor();
    assert.deepEqual(requests, [], 'the local refusal sends no request');
    assert.match(await dialog.textContent(), /Export to PDF is not included in the Free plan\./);
    assert.equal((await dialog.locator('[data-prompt-offer]').textContent()).trim(),
      'Upgrade to BASIC — export to PDF included for NPR 1,900 / 30 days');
    await shot(page, 'kinds-04-pdf-prompt', { fullPage: false });

    // The plans page lists every plan's switches and values.
    await dialog.getByRole('link', { name: 'See Basic plan' }).click();
    await page.waitForSelector('body[data-ready="true"]');
    const limits = async (plan) => (await page.locator(`.plan[data-plan="${plan}"] .plan-limits li`).allTextContents()).map((x) => x.trim());
    assert.deepEqual(await limits('FREE'), ['10 invoices', '5 customers', '1 seat', '100 API calls (soft limit)',
      'No export to PDF', 'No custom branding', 'Attachment size up to 5 MB']);
    assert.deepEqual((await limits('BASIC')).slice(4), ['Export to PDF', 'No custom branding', 'Attachment size up to 25 MB']);
    assert.deepEqual((await limits('PRO')).slice(4), ['Export to PDF', 'Custom branding', 'Attachment size up to 100 MB']);
    assert.equal(await page.locator('.plan[data-plan="BASIC"] .usage-row[data-feature="pdf_export"] [data-usage-text]').textContent(), 'On');
    await shot(page, 'kinds-05-plans-switches');

    await page.getByRole('button', { name: 'Upgrade to BASIC with Khalti' }).click();
    await payOnKhalti(page);
    await page.getByRole('button', { name: /^Pay/ }).click();
    await expectSuccess(page, 'BASIC');

    await openDashboard(page, demo);
    assert.equal(await usageText(page, 'pdf_export'), 'On');
    assert.equal((await page.locator('[data-note="pdf_export"]').textContent()).trim(), 'Included in Basic');
    await page.getByRole('button', { name: 'Export to PDF' }).click();
    await page.locator('.toast', { hasText: 'Your invoices were exported to PDF.' }).waitFor();
    assert.equal(await page.getByRole('dialog').count(), 0);
    await shot(page, 'kinds-06-pdf-on');
  });
});

test("an organization's deal: more seats and the switch on, marked on the dashboard", async () => {
  await onFreshDashboard(async (demo, page) => {
    const admin = (await readFile(path.join(demo.data, 'admin.token'), 'utf8')).trim();
    const { org_id: org } = JSON.parse(await readFile(path.join(demo.data, 'org.json'), 'utf8'));
    const put = async (feature, body) => {
      const res = await fetch(`${demo.api}/admin/orgs/${org}/overrides/${feature}/`, {
        method: 'PUT', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, await res.text());
    };
    await put('team_members', { limit: 3, plan: 'FREE', reason: 'e2e: a bigger team on Free' });
    await put('pdf_export', { limit: true, until: '2099-01-01T00:00:00Z', reason: 'e2e: a trial' });
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await usageText(page, 'team_members'), '1/3 seats (33%)');
    assert.equal(await usageText(page, 'pdf_export'), 'On');
    for (const feature of ['team_members', 'pdf_export']) {
      assert.equal((await page.locator(`.usage-row[data-feature="${feature}"] [data-override]`).textContent()).trim(), 'your deal');
    }
    assert.equal(await page.locator('.usage-row[data-feature="invoices"] [data-override]').count(), 0);
    await page.getByRole('button', { name: 'Add team member' }).click();
    await waitText(page, 'team_members', '2/3 seats (66%)');
    await page.getByRole('button', { name: 'Export to PDF' }).click();
    await page.locator('.toast', { hasText: 'Your invoices were exported to PDF.' }).waitFor();
    await shot(page, 'kinds-07-deal');
  });
});
