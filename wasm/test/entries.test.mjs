// The package's entry points as a runtime meets them: the Node entry reads the wasm from disk;
// the browser entry fetches it beside itself, at once when init() is called, and falls back to
// the embedded copy when it cannot (an esbuild bundle has no sima_core.wasm beside it).
// Each case runs in a fresh process: the core loads once per process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const src = (f) => JSON.stringify(new URL(`../src/${f}`, import.meta.url).href);
const dist = (f) => JSON.stringify(new URL(`../dist/${f}`, import.meta.url).href);
const CATALOG = JSON.stringify({
  features: [{ key: 'invoices', label: 'Invoices' }],
  plans: [{ code: 'FREE', price: 0, limits: { invoices: 10 } }, { code: 'BASIC', price: 1900, limits: { invoices: 1000 } }],
});

function run(script) {
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

// Records every fetch; a .wasm answers `wasmStatus` (the folder of a bundle without the file).
const SPY = (wasmStatus) => `
  const fetched = [];
  globalThis.fetch = async (url) => {
    fetched.push(String(url));
    return new Response('not here', { status: ${wasmStatus}, headers: { 'Content-Type': 'text/html' } });
  };`;

const USE = `
  const core = await createCore(${CATALOG}, { plan: 'FREE', usage: { invoices: { used: 10 } } });
  const d = core.check('invoices');`;

test('the Node entry reads the wasm from the package folder, without fetch', () => {
  for (const entry of [src('node.js'), dist('node.js')]) {
    const out = run(`${SPY(500)}
      const { createCore } = await import(${entry});
      ${USE}
      console.log(JSON.stringify({ fetched, allowed: d.allowed, upgrade: d.upgrade.plan }));`);
    assert.deepEqual(out, { fetched: [], allowed: false, upgrade: 'BASIC' }, entry);
  }
});

test('the browser entry starts fetching the wasm when init() is called, then takes the embedded copy on a 404', () => {
  for (const [entry, file] of [[src('index.js'), 'dist/sima_core.wasm'], [dist('index.js'), 'dist/sima_core.wasm']]) {
    const out = run(`${SPY(404)}
      const { init, createCore } = await import(${entry});
      const pending = init();
      const atOnce = [...fetched]; // before anything was awaited
      await pending;
      ${USE}
      console.log(JSON.stringify({ atOnce, fetched, allowed: d.allowed }));`);
    assert.equal(out.atOnce.length, 1, entry);
    assert.ok(out.atOnce[0].endsWith(file), out.atOnce[0]);
    assert.deepEqual(out.fetched, out.atOnce, 'nothing else is fetched: the copy is embedded');
    assert.equal(out.allowed, false);
  }
});

test('init() options: wasmBinary, a compiled module, and a wasmUrl that fails with init_failed', () => {
  const BYTES = `${SPY(404)} const bytes = (await import('node:fs')).readFileSync(new URL(${dist('sima_core.wasm')}));
    const { init, formatRupees } = await import(${src('index.js')});`;
  assert.deepEqual(run(`${BYTES} await init({ wasmBinary: bytes });
    console.log(JSON.stringify([formatRupees(190000), fetched]));`), ['1,900', []]);
  assert.deepEqual(run(`${BYTES} await init({ module: WebAssembly.compile(bytes) });
    console.log(JSON.stringify([formatRupees(100), fetched]));`), ['1', []]);
  assert.deepEqual(run(`${BYTES} const code = await init({ wasmUrl: 'https://cdn.example/sima_core.wasm' }).then(() => 'loaded', (e) => e.code);
    console.log(JSON.stringify([code, fetched]));`), ['init_failed', ['https://cdn.example/sima_core.wasm']]);
});
