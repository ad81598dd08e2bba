// Shared by the browser tests: starts the demo exactly as a newcomer does (scripts/demo) on free
// ports with a fresh data folder, launches Debian's Chromium headless through playwright-core,
// fails on any console error, and saves screenshots under test-output/e2e/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');
export const outDir = path.join(repo, 'test-output', 'e2e');

export const CHROMIUM = process.env.SIMA_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Demos still running when this process ends (a failed or interrupted run) are stopped too.
const running = new Set();
process.on('exit', () => { for (const child of running) child.kill('SIGTERM'); });

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function freePortBase() {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    if ((await portFree(base)) && (await portFree(base + 1)) && (await portFree(base + 2))) return base;
  }
  throw new Error('no three free consecutive ports');
}

/**
 * Starts scripts/demo on free ports with a fresh data folder (or `data`, to reuse one). Resolves once it prints its URL.
 * Returns {web, api, sim, data, output(), stop()}.
 */
export async function startDemo({ data } = {}) {
  const base = await freePortBase();
  data ??= await mkdtemp(path.join(os.tmpdir(), 'sima-e2e-'));
  const child = spawn(path.join(repo, 'scripts', 'demo'), [], {
    cwd: repo,
    env: { ...process.env, SIMA_DEMO_DATA: data, SIMA_DEMO_PORT_BASE: String(base), SIMA_DEMO_NO_BUILD: process.env.SIMA_DEMO_NO_BUILD ?? '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let log = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    running.delete(child);
    resolve({ code, signal });
  }));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`scripts/demo did not start in 30 s:\n${log}`)), 30_000);
    const onData = (chunk) => {
      log += chunk;
      if (log.includes('sima demo is running')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`scripts/demo exited (${code}) before it was ready:\n${log}`));
    });
  });
  const demo = {
    web: `http://127.0.0.1:${base}`,
    api: `http://127.0.0.1:${base + 1}`,
    sim: `http://127.0.0.1:${base + 2}`,
    data,
    output: () => log,
    /** Stops the demo with SIGTERM (as Ctrl-C does) and returns how it exited. */
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const how = await exited;
      clearTimeout(timer);
      if (!keepData) await rm(data, { recursive: true, force: true });
      return how;
    },
  };
  return demo;
}

/** Whether sima-server has the Khalti payment routes yet (404 = no such route). */
export async function paymentsAvailable(demo, provider = 'khalti') {
  const res = await fetch(`${demo.api}/billing/${provider}/init/`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  const body = await res.json().catch(() => null);
  return !(res.status === 404 && body?.code === 'not_found');
}

/** Sets simulator faults (PUT /_sim/faults). */
export async function simFaults(demo, faults) {
  const res = await fetch(`${demo.sim}/_sim/faults`, { method: 'PUT', body: JSON.stringify(faults) });
  if (!res.ok) throw new Error(`simulator faults: ${res.status} ${await res.text()}`);
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A new page in its own context (or in `context`). Every console error and uncaught page error
 * is collected; `assertClean()` throws if any happened that `allow` (regexes) does not excuse.
 */
export async function newPage(browser, { context, width = 1280, height = 860, allow = [] } = {}) {
  const ctx = context ?? await browser.newContext({ viewport: { width, height } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !allow.some((re) => re.test(msg.text()))) errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.assertClean = () => {
    if (errors.length) throw new Error(`the page logged errors:\n  ${errors.join('\n  ')}`);
  };
  return page;
}

/** Saves a screenshot as test-output/e2e/<name>.png: the whole page, or the viewport (dialogs). */
export async function shot(page, name, { fullPage = true } = {}) {
  await mkdir(outDir, { recursive: true });
  await page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage });
}

/** Waits until the dashboard has drawn its usage bars. */
export async function openDashboard(page, demo) {
  await page.goto(`${demo.web}/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
}

/** The text of one usage row, e.g. "8/10 (80%)". */
export async function usageText(page, feature) {
  return (await page.locator(`.usage-row[data-feature="${feature}"] [data-usage-text]`).first().textContent()).trim();
}

/** Reads performance marks from the page: {name: startTime in ms}. */
export async function marks(page) {
  return page.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])));
}

/** Prints a figure in the test output. */
export function figure(name, ms) {
  console.log(`# figure: ${name}: ${ms.toFixed(1)} ms`);
}

/**
 * Runs `fn(demo, page)` in `browser` against a fresh demo (a FREE organization), or skips the
 * test `t` when the provider is not served yet.
 */
export async function journey(browser, t, provider, fn, pageOptions = {}) {
  const demo = await startDemo();
  try {
    if (!(await paymentsAvailable(demo, provider))) {
      t.skip(`sima-server has no POST /billing/${provider}/init/ yet (404 no such route): payments not landed`);
      return;
    }
    const page = await newPage(browser, pageOptions);
    await fn(demo, page);
    page.assertClean();
    await page.context().close();
  } finally {
    await demo.stop();
  }
}

export async function openPlans(page, demo) {
  await page.goto(`${demo.web}/plans.html`);
  await page.waitForSelector('body[data-ready="true"]');
}

export async function payOnKhalti(page) {
  await page.waitForURL(/\/khalti\/pay\//);
  await page.locator('#khalti_id').fill('9800000001');
  await page.locator('#mpin').fill('1111');
  await page.locator('#otp').fill('987654');
}

export async function payOnEsewa(page) {
  await page.waitForURL(/\/api\/epay\/main\/v2\/form|\/esewa\/pay\//);
  await page.locator('#esewa_id').fill('9806800001');
  await page.locator('#password').fill('Nepal@123');
  await page.locator('#token').fill('123456');
}

export async function expectSuccess(page, plan) {
  await page.waitForURL(/\/success\.html\?/, { timeout: 15_000 });
  await page.waitForSelector('[data-result][data-state="success"]', { timeout: 20_000 });
  assert.equal((await page.locator('[data-receipt-plan]').textContent()).trim(), plan);
  assert.equal((await page.locator('[data-plan-badge]').textContent()).trim(), `${plan} plan`);
  assert.match(await page.locator('h1').textContent(), new RegExp(`You're on ${plan === 'PRO' ? 'Pro' : 'Basic'} now`));
}

/** From the plans page: buys `plan` with Khalti and waits for the success page. */
export async function buyWithKhalti(page, demo, plan) {
  await openPlans(page, demo);
  await page.getByRole('button', { name: `Upgrade to ${plan} with Khalti` }).click();
  await payOnKhalti(page);
  await page.getByRole('button', { name: /^Pay/ }).click();
  await expectSuccess(page, plan);
}
