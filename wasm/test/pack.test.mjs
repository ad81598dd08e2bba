// The npm tarball, installed into an empty folder and imported as a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

test('npm pack → install in an empty folder → import sima works', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'sima-pack-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], pkgDir));
  const files = packed[0].files.map((f) => f.path).sort();
  // sima/elements ships once its source is there (src/elements.js, the elements' part).
  const elements = existsSync(join(pkgDir, 'src', 'elements.js'))
    ? ['dist/elements.js', ...(existsSync(join(pkgDir, 'src', 'elements.d.ts')) ? ['src/elements.d.ts'] : [])] : [];
  assert.deepEqual(files, ['LICENSE', 'README.md', 'dist/client.js', 'dist/core.js', ...elements.filter((f) => f.startsWith('dist/')),
    'dist/errors.js', 'dist/index.js', 'dist/live.js', 'dist/node.js', 'dist/sima_core.js', 'dist/sima_core.wasm',
    'dist/sima_core_inline.js', 'dist/webhooks-browser.js', 'dist/webhooks.js', 'package.json', 'src/index.d.ts',
    'src/webhooks.d.ts', ...elements.filter((f) => f.startsWith('src/'))].sort());
  const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz')));
  const app = join(work, 'app');
  execFileSync('mkdir', [app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  npm(['install', tarball, '--offline'], app);
  writeFileSync(join(app, 'main.js'), `
    import { createCore, formatRupees, SimaError } from 'sima';
    let early;
    try { formatRupees(100); } catch (e) { early = e instanceof SimaError && e.code; }
    const catalog = ${JSON.stringify({
      features: [{ key: 'invoices', label: 'Invoices' }],
      plans: [{ code: 'FREE', price: 0, limits: { invoices: 10 } }, { code: 'BASIC', price: 1900, limits: { invoices: 1000 } }],
    })};
    const core = await createCore(catalog, { plan: 'FREE', usage: { invoices: { used: 10 } } });
    const d = core.check('invoices');
    let code;
    try { core.check('nope'); } catch (e) { code = e instanceof SimaError && e.code; }
    const buy = core.canBuy('BASIC', 0);
    console.log(JSON.stringify({ allowed: d.allowed, upgrade: d.upgrade.plan, text: core.usage()[0].text, code,
      early, price: formatRupees(190000), buy: [buy.ok, buy.renew, buy.end_date] }));
  `);
  const out = JSON.parse(execFileSync(process.execPath, ['main.js'], { cwd: app, encoding: 'utf8' }));
  assert.deepEqual(out, { allowed: false, upgrade: 'BASIC', text: '10/10 (100%)', code: 'unknown_feature',
    early: 'not_loaded', price: '1,900', buy: [true, false, '1970-01-31T00:00:00Z'] });
  // sima/webhooks in Node (the "node" condition): the shipped, minified verifier.
  writeFileSync(join(app, 'hooks.js'), `
    import { verifyWebhook, signWebhook, WebhookVerificationError } from 'sima/webhooks';
    const body = '{"id":"evt_1","type":"payment.succeeded","created":"2026-12-02T05:00:00Z","org_id":"org_1","sequence":1,"data":{}}';
    const header = signWebhook(body, ['whsec_new', 'whsec_old'], 1764651600);
    const event = verifyWebhook(Buffer.from(body), header, 'whsec_old', { now: 1764651600000 });
    let refused;
    try { verifyWebhook(body, header, 'whsec_wrong', { now: 1764651600000 }); } catch (e) {
      refused = e instanceof WebhookVerificationError && e.name + ':' + e.code;
    }
    console.log(JSON.stringify({ id: event.id, refused }));
  `);
  assert.deepEqual(JSON.parse(execFileSync(process.execPath, ['hooks.js'], { cwd: app, encoding: 'utf8' })),
    { id: 'evt_1', refused: 'WebhookVerificationError:signature_mismatch' });
  // The README ships in the tarball and is shown on npm, where a relative link (e.g. to the
  // repository's docs/) leads nowhere: only absolute links and anchors.
  const readme = readFileSync(join(app, 'node_modules', 'sima', 'README.md'), 'utf8');
  const relative = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^(https?:|mailto:|#)/.test(l));
  assert.deepEqual(relative, [], 'relative links in the README');
  // The wasm is exported for `?url` / asset imports; the browser entry is the "default".
  const resolved = execFileSync(process.execPath, ['-e', `const r = require('module').createRequire(process.cwd() + '/');
    const x = require('sima/package.json').exports;
    console.log(JSON.stringify([r.resolve('sima/sima_core.wasm'), x['.'].default, x['./webhooks'].default]))`], { cwd: app, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(resolved), [join(app, 'node_modules', 'sima', 'dist', 'sima_core.wasm'), './dist/index.js',
    './dist/webhooks-browser.js']);
  // Only the public entry points are exported.
  assert.throws(() => execFileSync(process.execPath, ['-e', "import('sima/dist/core.js').then(() => process.exit(0), () => process.exit(3))"], { cwd: app, stdio: 'ignore' }));
});

// What a browser downloads for `import 'sima'`: dist/index.js and the files it imports, the
// Emscripten glue and the wasm. The embedded copy (sima_core_inline.js) is fetched only by
// bundles that have no sima_core.wasm beside them, instead of the .wasm: printed, not added.
test('what browsers download stays within 60 KiB gzip', () => {
  const gz = (f) => gzipSync(readFileSync(join(pkgDir, f)), { level: 9 }).length;
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(pkgDir, file), 'utf8');
    // Static imports only ("from './x.js'"); the dynamic import of the inline copy is left out.
    for (const m of code.matchAll(/from\s*["'](\.\/[^"']+)["']/g)) visit(join('dist', m[1]));
  };
  visit('dist/index.js');
  const main = [...seen, 'dist/sima_core.wasm'].sort();
  assert.ok(main.includes('dist/sima_core.js') && main.includes('dist/client.js'), JSON.stringify(main));
  const sizes = main.map((f) => [f, gz(f)]);
  const total = sizes.reduce((sum, [, n]) => sum + n, 0);
  console.log(`main entry: ${(total / 1024).toFixed(1)} KiB gz ${JSON.stringify(sizes)}; ` +
    `inline fallback (instead of the .wasm): ${(gz('dist/sima_core_inline.js') / 1024).toFixed(1)} KiB gz`);
  assert.ok(total <= 60 * 1024, `the main entry is ${(total / 1024).toFixed(1)} KiB gz: ${JSON.stringify(sizes)}`);
});
