// Writes what the package ships: src/*.js minified into dist/ beside the wasm core, the
// embedded copy of the wasm for bundles that cannot fetch it (dist/sima_core_inline.js), and
// Emscripten's glue made safe to bundle. Run by scripts/build-wasm and before `npm pack`; the
// sources in src/ are what the tests and the demo import.
//
// src/ files name dist files as '../dist/x' (which from dist/ is dist/x too); in dist/ they
// become './x', the form Vite and webpack 5 take `new URL('./sima_core.wasm', import.meta.url)`
// to be an asset in.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { minify } from 'terser';

const src = new URL('src/', import.meta.url);
const dist = new URL('dist/', import.meta.url);
// elements.js is the live-web part (sima/elements); built when it is there.
const FILES = ['index.js', 'node.js', 'core.js', 'client.js', 'live.js', 'errors.js', 'elements.js', 'webhooks.js', 'webhooks-browser.js']
  .filter((f) => existsSync(new URL(f, src)));

for (const file of FILES) {
  const code = (await readFile(new URL(file, src), 'utf8')).replaceAll("'../dist/", "'./");
  const out = await minify(code, {
    module: true,
    ecma: 2022,
    compress: { passes: 2 },
    format: { comments: false, preamble: '// sima: see README.md and src/index.d.ts' },
  });
  await writeFile(new URL(file, dist), `${out.code}\n`);
}

// Emscripten 3.1.6's glue reads import.meta.url when it is evaluated (an esbuild IIFE has
// import.meta = {}: new URL(x, undefined) throws) and names the wasm with
// new URL('sima_core.wasm', import.meta.url) (bundlers would emit a second copy). core.js hands
// it the compiled module through instantiateWasm, so neither is needed.
const glueFile = new URL('sima_core.js', dist);
let glue = await readFile(glueFile, 'utf8');
glue = glue
  .replace('var _scriptDir = import.meta.url;', 'var _scriptDir = "";')
  .replace('wasmBinaryFile=new URL("sima_core.wasm",import.meta.url).toString()', 'wasmBinaryFile="sima_core.wasm"');
if (glue.includes('import.meta')) throw new Error('minify.mjs: the Emscripten glue still reads import.meta: update the patch');
// Emscripten -Oz only strips its whitespace; terser's mangling takes another 2.7 KiB gz off.
const glueOut = await minify(glue, { module: true, ecma: 2020, compress: { passes: 2 } });
await writeFile(glueFile, `${glueOut.code}\n`);

// The wasm gzip'ed, in base64: core.js ungzips it with DecompressionStream.
const wasm = await readFile(new URL('sima_core.wasm', dist));
await writeFile(new URL('sima_core_inline.js', dist),
  `// sima: the wasm core embedded (gzip, base64), for bundles without sima_core.wasm beside them\nexport default '${gzipSync(wasm, { level: 9 }).toString('base64')}';\n`);
