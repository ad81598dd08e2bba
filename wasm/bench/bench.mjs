// Prints what sima costs a web app: bytes shipped to browsers (gzip -9), init time in Node,
// and the time per check() and usage() through the public API. Run: npm run bench
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';

const root = new URL('..', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root)));
// What `import 'sima'` downloads in a browser: dist/index.js, what it imports statically, the
// glue and the wasm. The embedded copy (sima_core_inline.js) replaces the .wasm only in
// bundles without it; node.js and elements.js are other entries.
const main = new Set(['dist/sima_core.wasm']);
(function visit(file) {
  if (main.has(file)) return;
  main.add(file);
  for (const m of readFileSync(new URL(file, root), 'utf8').matchAll(/from\s*["'](\.\/[^"']+)["']/g)) visit(`dist/${m[1].slice(2)}`);
})('dist/index.js');
const shipped = pkg.files.filter((f) => (f.endsWith('.js') || f.endsWith('.wasm')) && existsSync(new URL(f, root)));

console.log('sima bench (Node', process.version + ')\n');
console.log('shipped (gzip -9; * = downloaded by a browser for `import "sima"`):');
let total = 0;
for (const f of shipped) {
  const bytes = readFileSync(new URL(f, root));
  const gz = gzipSync(bytes, { level: 9 }).length;
  if (main.has(f)) total += gz;
  console.log(`  ${main.has(f) ? '*' : ' '} ${f.padEnd(24)} ${String(bytes.length).padStart(7)} B  ${(gz / 1024).toFixed(1).padStart(5)} KiB gz`);
}
console.log(`  * ${'main entry total'.padEnd(24)} ${' '.repeat(9)}  ${(total / 1024).toFixed(1).padStart(5)} KiB gz  (target <= 60)\n`);

// Init in a fresh process each time: import + compile + instantiate + first core.
const initScript = `
  const t0 = performance.now();
  const { createCore, init } = await import(${JSON.stringify(new URL('src/node.js', root).href)});
  await init();
  const t1 = performance.now();
  const { catalog, snapshot } = await import(${JSON.stringify(new URL('test/fixtures.mjs', root).href)});
  const t2 = performance.now();
  await createCore(catalog, snapshot('FREE'));
  console.log(JSON.stringify({ init: t1 - t0, core: performance.now() - t2 }));
`;
const runs = [];
for (let i = 0; i < 7; i++) {
  runs.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', initScript], { encoding: 'utf8' })));
}
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
console.log(`init in Node (median of ${runs.length} fresh processes): ${median(runs.map((r) => r.init)).toFixed(1)} ms  (target < 20)`);
console.log(`  + first createCore(): ${median(runs.map((r) => r.core)).toFixed(2)} ms\n`);

const { createCore, formatRupees } = await import('../src/node.js');
const { catalog, snapshot } = await import('../test/fixtures.mjs');
const core = await createCore(catalog, snapshot('FREE', { invoices: 8, api_calls: 450, team_members: 1 }));
const deal = await createCore(catalog, snapshot('FREE', { invoices: 8 }, { overrides: [{ feature: 'invoices', limit: 5000, plan: null, until: '2099-01-01T00:00:00Z' }] }));
const AT = Date.parse('2026-11-10T12:00:00Z');

// Per call: wall-clock time, and this process's CPU time (user + system), which other builds
// on a shared machine disturb less than the wall clock.
function ns(label, fn, iterations, target) {
  for (let i = 0; i < Math.min(iterations, 20000); i++) fn(i);
  const wall = [];
  const cpu = [];
  for (let r = 0; r < 5; r++) {
    const c = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < iterations; i++) fn(i);
    wall.push(((performance.now() - t) * 1e6) / iterations);
    const used = process.cpuUsage(c);
    cpu.push(((used.user + used.system) * 1e3) / iterations);
  }
  const t = target ? `  (target < ${target})` : '';
  console.log(`  ${label.padEnd(56)} ${median(wall).toFixed(0).padStart(6)} ns  ${median(cpu).toFixed(0).padStart(6)} ns cpu${t}`);
}

let sink;
console.log('per call through the public API (median of 5 runs; wall clock, then CPU time):');
ns("check('invoices')  (repeated: answered from the cache)", () => { sink = core.check('invoices'); }, 1e6);
ns("check('invoices', n)  (n varies: every call enters wasm)", (i) => { sink = core.check('invoices', 1 + (i & 7)); }, 3e5, 1000);
ns("  the same with a fixed now  (no clock read)", (i) => { sink = core.check('invoices', 1 + (i & 7), AT); }, 3e5, 1000);
ns("check('team_members', n)  (allocation, enters wasm)", (i) => { sink = core.check('team_members', 1 + (i & 7)); }, 3e5, 1000);
ns("check('pdf_export', n)  (boolean, enters wasm)", (i) => { sink = core.check('pdf_export', 1 + (i & 7)); }, 3e5, 1000);
ns("check('attachment_mb', n)  (value, enters wasm)", (i) => { sink = core.check('attachment_mb', i & 31); }, 3e5, 1000);
ns("check('invoices', n)  with an override in force", (i) => { sink = deal.check('invoices', 1 + (i & 7)); }, 3e5, 1000);
ns("record() + check()  (state changed each time)", (i) => { if ((i & 1023) === 0) core.setUsed('customers', 0); core.record('customers'); sink = core.check('customers'); }, 1e5);
ns('usage()  (repeated: answered from the cache)', () => { sink = core.usage(); }, 3e5);
ns('usage() after record()  (recomputed in wasm)', () => { core.record('api_calls'); sink = core.usage(); }, 2e4);
ns("usageAfterUpgrade('PRO')  (always in wasm)", () => { sink = core.usageAfterUpgrade('PRO'); }, 2e4);
ns("upgradeOptions('invoices')", () => { sink = core.upgradeOptions('invoices'); }, 2e4);
ns("canBuy('PRO')  (always in wasm)", () => { sink = core.canBuy('PRO'); }, 2e4);
const basic = await createCore(catalog, snapshot('BASIC'));
ns('lifecycle()  (always in wasm)', () => { sink = basic.lifecycle(AT); }, 2e4);
ns("quote('PRO')  (prorated, always in wasm)", () => { sink = basic.quote('PRO', AT); }, 2e4);
ns('formatRupees(paisa)', (i) => { sink = formatRupees(190000 + i); }, 1e5);
void sink;
