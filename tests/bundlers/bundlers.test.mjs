// The sima package exactly as npm ships it (`npm pack` of wasm/, installed from the tarball)
// in the bundlers people use, each with zero configuration: Vite (dev server and build),
// esbuild (ESM, and its default IIFE), webpack 5 (production), and plain <script type="module">
// with the package's files on another origin (a CDN). Every page, in Debian's headless
// Chromium, must decide a check with the wasm core, draw <sima-usage> from sima/elements, and
// log no error; no browser bundle may contain Node code (node:fs, node:crypto). sima/webhooks,
// the server-side verifier, bundles for a browser as a stand-in that stops the page with a clear
// error. Build times are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build as esbuild } from 'esbuild';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const bin = (pkg, file) => path.join(here, 'node_modules', pkg, file);
const CHROMIUM = process.env.SIMA_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

// What every page must answer: FREE has used its 10 invoices; BASIC is the upgrade.
const EXPECTED = { allowed: false, current: 10, limit: 10, upgrade: 'BASIC', bar: '10/10 (100%)' };

let work; // temp folder: the app with sima installed from the tarball, and every build's output
let app;
let browser;
let cdn; // serves the package's dist/ from another origin, with CORS

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

function serve(root, { cors = false } = {}) {
  const server = http.createServer(async (req, res) => {
    let name = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (name.endsWith('/')) name += 'index.html';
    const file = path.join(root, path.normalize(name));
    if (!file.startsWith(root)) return res.writeHead(403).end();
    try {
      const data = await readFile(file);
      const headers = { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' };
      if (cors) headers['Access-Control-Allow-Origin'] = '*';
      res.writeHead(200, headers).end(data);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)),
  })));
}

async function timed(name, fn) {
  const t0 = performance.now();
  const out = await fn();
  console.log(`# ${name}: ${(performance.now() - t0).toFixed(0)} ms`);
  return out;
}

async function files(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.join(entry.parentPath ?? entry.path, entry.name));
  }
  return out;
}

// No Node built-in in what a browser loads.
async function assertNoNodeCode(dir) {
  for (const file of await files(dir)) {
    if (!/\.(m?js|html)$/.test(file)) continue;
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, /node:fs|node:path|node:crypto|createHmac|require\("fs"\)/, `${path.relative(work, file)} holds Node code`);
  }
}

const page = (script) => `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>sima</title><link rel="icon" href="data:,"></head>\n<body><sima-usage></sima-usage>${script}</body></html>\n`;

/**
 * Opens `url` in a fresh context; resolves with the page's result once it has one, the errors
 * it logged and the URLs that answered 404.
 */
async function answer(url) {
  const context = await browser.newContext();
  const tab = await context.newPage();
  const errors = [];
  const missing = [];
  tab.on('response', (r) => { if (r.status() === 404) missing.push(r.url()); });
  tab.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`); });
  tab.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  try {
    await tab.goto(url);
    await tab.waitForSelector('body[data-result]', { timeout: 20_000 });
    const result = JSON.parse(await tab.locator('body').getAttribute('data-result'));
    return { result, errors, missing };
  } finally {
    await context.close();
  }
}

// `wasmBeside: false`: the bundle's folder has no sima_core.wasm (esbuild copies no asset,
// Vite's dev pre-bundle moves the module): the core tries the file beside the module, and on
// its 404 takes the embedded copy. That one 404 (and Chromium's line about it) is expected;
// nothing else is.
async function assertWorks(url, { wasmBeside = true } = {}) {
  const { result, errors, missing } = await answer(url);
  const expected404 = (u) => !wasmBeside && /\/sima_core\.wasm(\?.*)?$/.test(u);
  assert.deepEqual(missing.filter((u) => !expected404(u)), [], 'nothing else is missing');
  const real = errors.filter((e) => !(e.startsWith('console: Failed to load resource') && expected404(e.replace(/.*\((.*)\)$/, '$1'))));
  assert.deepEqual(real, [], `the page logged errors:\n${real.join('\n')}`);
  assert.deepEqual(result, EXPECTED);
}

// Serves `dir` as a site's root while `fn(url)` runs.
async function served(dir, fn) {
  const site = await serve(dir);
  try {
    return await fn(site.url);
  } finally {
    await site.close();
  }
}

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sima-bundlers-'));
  app = path.join(work, 'app');
  await mkdir(app);
  // `npm pack` runs the package's prepack (minify.mjs): the tarball is what npm would publish.
  const { stdout } = await timed('npm pack of wasm/', () =>
    run('npm', ['pack', '--json', '--pack-destination', work], { cwd: path.join(repo, 'wasm') }));
  const tarball = path.join(work, JSON.parse(stdout)[0].filename);
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await timed('npm install of the tarball', () =>
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: app }));
  await cp(path.join(here, 'app', 'main.js'), path.join(app, 'main.js'));
  await cp(path.join(here, 'app', 'index.html'), path.join(app, 'index.html'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  cdn = await serve(path.join(app, 'node_modules', 'sima', 'dist'), { cors: true });
});

after(async () => {
  await browser?.close();
  await cdn?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('Vite build (zero config), served as static files', async () => {
  const out = path.join(work, 'out', 'vite');
  await timed('vite build', () => run(process.execPath, [bin('vite', 'bin/vite.js'), 'build', '--outDir', out, '--logLevel', 'warn'], { cwd: app }));
  await assertNoNodeCode(out);
  assert.ok((await files(out)).some((f) => f.endsWith('.wasm')), 'Vite emits sima_core.wasm as an asset');
  await served(out, (url) => assertWorks(`${url}/`));
});

test('Vite dev server', async () => {
  const child = spawn(process.execPath, [bin('vite', 'bin/vite.js'), '--host', '127.0.0.1', '--port', '0', '--clearScreen', 'false'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await timed('vite dev server start', () => new Promise((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`vite did not start:\n${log}`)), 30_000);
      const onData = (chunk) => {
        log += chunk;
        const m = log.replace(/\x1b\[[0-9;]*m/g, '').match(/Local:\s+(http:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    }));
    await timed('vite dev: first page (dependency pre-bundling included)', () => assertWorks(url, { wasmBeside: false }));
  } finally {
    child.kill('SIGTERM');
  }
});

test('esbuild ESM bundle (zero config)', async () => {
  const out = path.join(work, 'out', 'esbuild-esm');
  await timed('esbuild --format=esm', () => esbuild({ entryPoints: [path.join(app, 'main.js')], bundle: true, format: 'esm', outdir: out, logLevel: 'warning' }));
  await writeFile(path.join(out, 'index.html'), page('<script type="module" src="main.js"></script>'));
  await assertNoNodeCode(out);
  await served(out, (url) => assertWorks(`${url}/`, { wasmBeside: false }));
});

test('esbuild default format (IIFE), as a classic script', async () => {
  const out = path.join(work, 'out', 'esbuild-iife');
  await timed('esbuild (default IIFE)', () => esbuild({ entryPoints: [path.join(app, 'main.js')], bundle: true, outdir: out, logLevel: 'warning' }));
  await writeFile(path.join(out, 'index.html'), page('<script src="main.js"></script>'));
  await assertNoNodeCode(out);
  await served(out, (url) => assertWorks(`${url}/`));
});

test('webpack 5 (production, entry and output only)', async () => {
  const out = path.join(work, 'out', 'webpack');
  await timed('webpack --mode production', () => run(process.execPath, [bin('webpack-cli', 'bin/cli.js'), '--mode', 'production', '--entry', './main.js', '--output-path', out], { cwd: app }));
  await writeFile(path.join(out, 'index.html'), page('<script src="main.js"></script>'));
  await assertNoNodeCode(out);
  assert.ok((await files(out)).some((f) => f.endsWith('.wasm')), 'webpack emits sima_core.wasm as an asset');
  await served(out, (url) => assertWorks(`${url}/`));
});

test('plain <script type="module"> with the package on a CDN-like origin (import map)', async () => {
  const out = path.join(work, 'out', 'plain');
  await mkdir(out, { recursive: true });
  await cp(path.join(app, 'main.js'), path.join(out, 'main.js'));
  const map = JSON.stringify({ imports: { sima: `${cdn.url}/index.js`, 'sima/elements': `${cdn.url}/elements.js` } });
  await writeFile(path.join(out, 'index.html'), page(`<script type="importmap">${map}</script><script type="module" src="main.js"></script>`));
  // The browser entry's files (dist/node.js, the Node entry, is only for `node` conditions).
  for (const file of ['index.js', 'core.js', 'client.js', 'errors.js', 'elements.js', 'sima_core.js']) {
    assert.doesNotMatch(await readFile(path.join(app, 'node_modules', 'sima', 'dist', file), 'utf8'), /node:fs/, file);
  }
  await served(out, (url) => assertWorks(`${url}/`));
});

// sima/webhooks holds node:crypto and wants a secret that must never reach a browser: a browser
// bundle gets the package's stand-in ("default" condition), which throws "server-side only" at
// load, never the verifier; a Node build (the "node" condition) gets the verifier.
test('sima/webhooks in a browser bundle is the server-side-only stand-in (esbuild, webpack)', async () => {
  const entry = path.join(app, 'hooks.js');
  await writeFile(entry, `import { verifyWebhook } from 'sima/webhooks';\ndocument.body.dataset.result = String(typeof verifyWebhook);\n`);
  const esm = path.join(work, 'out', 'hooks-esbuild');
  await esbuild({ entryPoints: [entry], bundle: true, format: 'esm', outdir: esm, logLevel: 'warning' });
  const wp = path.join(work, 'out', 'hooks-webpack');
  await run(process.execPath, [bin('webpack-cli', 'bin/cli.js'), '--mode', 'production', '--entry', './hooks.js', '--output-path', wp], { cwd: app });
  for (const [out, tag] of [[esm, '<script type="module" src="hooks.js"></script>'], [wp, '<script src="main.js"></script>']]) {
    await assertNoNodeCode(out);
    const bundle = (await files(out)).filter((f) => f.endsWith('.js'));
    assert.ok(bundle.length > 0);
    for (const f of bundle) assert.match(await readFile(f, 'utf8'), /server-side only/, f);
    await writeFile(path.join(out, 'index.html'), page(tag));
    await served(out, async (url) => {
      const context = await browser.newContext();
      const tab = await context.newPage();
      const thrown = tab.waitForEvent('pageerror', { timeout: 10_000 });
      await tab.goto(`${url}/`);
      assert.match((await thrown).message, /sima\/webhooks is server-side only/);
      await tab.waitForFunction(() => document.readyState === 'complete');
      assert.equal(await tab.locator('body').getAttribute('data-result'), null, 'the page went on past the import');
      await context.close();
    });
  }
  const node = path.join(work, 'out', 'hooks-node');
  await esbuild({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outdir: node, logLevel: 'warning' });
  assert.match(await readFile(path.join(node, 'hooks.js'), 'utf8'), /node:crypto/);
});
