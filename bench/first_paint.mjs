// First paint of the web demo's dashboard in Debian's headless Chromium (a benchmark: it
// prints figures, asserts nothing). Starts the demo as the browser tests do (scripts/demo on
// free ports, a fresh data folder) and loads the dashboard:
//   cold       a fresh browser profile each time (empty HTTP cache, no persisted snapshot);
//   returning  a new tab of a profile that has visited once (HTTP cache with the compiled wasm,
//              the client's persisted snapshot, no session yet in the tab).
// The figure is navigation start -> the first <sima-usage> render with real rows (its
// performance.mark('sima:bars')). Median and p90 of N loads each (default 25).
//   floor      the same dashboard HTML and CSS with every script removed: its first contentful
//              paint, what this machine's Chromium needs to show the page at all.
//
//   (cd tests/e2e && npm ci) && node bench/first_paint.mjs [N]
// Needs build/release's sima-server and sima-gateway-sim and wasm/dist (scripts/build-wasm), or
// SIMA_SERVER_BIN / SIMA_SIM_BIN.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startDemo, launchBrowser, repo } from '../tests/e2e/harness.mjs';

const N = Number(process.argv[2] ?? 25);

// Navigation start -> the bars; also which requests to sima-server and to /api/ ended before
// them (the critical path's round trips).
async function barsAt(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => performance.getEntriesByName('sima:bars').length > 0, null, { timeout: 20_000 });
  return page.evaluate(() => {
    const bars = performance.getEntriesByName('sima:bars')[0].startTime;
    const before = performance.getEntriesByType('resource')
      .filter((e) => e.responseEnd < bars && (!e.name.startsWith(location.origin) || new URL(e.name).pathname.startsWith('/api/')))
      .map((e) => new URL(e.name).pathname);
    return { bars, before };
  });
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { median: at(0.5), p90: at(0.9), min: s[0], max: s[s.length - 1] };
}

const fmt = (x) => `${x.toFixed(1)} ms`;

const demo = await startDemo();
const browser = await launchBrowser();
try {
  const url = `${demo.web}/`;
  const cold = [];
  let coldPath = [];
  for (let i = 0; i < N; i++) {
    const context = await browser.newContext();
    const { bars, before } = await barsAt(await context.newPage(), url);
    cold.push(bars);
    coldPath = before;
    await context.close();
  }
  const returning = [];
  const context = await browser.newContext();
  const first = await context.newPage();
  await barsAt(first, url); // the first visit: fills the cache and the persisted snapshot
  await first.waitForTimeout(500); // its background revalidation and storage writes settle
  await first.close();
  let returningPath = [];
  for (let i = 0; i < N; i++) {
    const page = await context.newPage();
    const { bars, before } = await barsAt(page, url);
    returning.push(bars);
    returningPath = before;
    await page.close();
  }
  await context.close();
  // The floor: the dashboard without its scripts (and their preloads), served at a path of
  // the demo's origin so the CSS and the fonts come as they do for the real page.
  const html = (await readFile(path.join(repo, 'web-demo', 'index.html'), 'utf8'))
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<link rel="(modulepreload|preload)"[^>]*>/g, '');
  const floor = [];
  const floorContext = await browser.newContext();
  await floorContext.route(`${demo.web}/floor.html`, (r) => r.fulfill({ status: 200, contentType: 'text/html', body: html }));
  for (let i = 0; i < N; i++) {
    const page = await floorContext.newPage();
    await page.goto(`${demo.web}/floor.html`);
    await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
    floor.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0].startTime));
    await page.close();
  }
  await floorContext.close();
  const f = stats(floor);
  const c = stats(cold);
  const r = stats(returning);
  console.log(`first paint of the dashboard (navigation start -> <sima-usage> bars drawn), ${N} loads each, headless Chromium on loopback:`);
  console.log(`  cold first visit:  median ${fmt(c.median)}  p90 ${fmt(c.p90)}  (min ${fmt(c.min)}, max ${fmt(c.max)})`);
  console.log(`  returning visit:   median ${fmt(r.median)}  p90 ${fmt(r.p90)}  (min ${fmt(r.min)}, max ${fmt(r.max)})`);
  console.log(`  floor (no script):  median ${fmt(f.median)}  p90 ${fmt(f.p90)}  (min ${fmt(f.min)}, max ${fmt(f.max)})  the page's HTML and CSS alone, first contentful paint`);
  console.log(`  requests answered before the bars (last load): cold [${coldPath.join(', ')}], returning [${returningPath.join(', ')}]`);
  console.log(`  load average: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
  console.log(`  command: node bench/first_paint.mjs ${N}`);
} finally {
  await browser.close();
  await demo.stop();
}
