// Writes what the package ships to browsers: src/{index,core,client,errors}.js minified into
// dist/ beside the wasm core (dist/core.js imports ./sima_core.js as src/core.js imports
// ../dist/sima_core.js). Run by scripts/build-wasm and before `npm pack`; the sources in src/
// are what the tests and the demo import.
import { readFile, writeFile } from 'node:fs/promises';
import { minify } from 'terser';

const FILES = ['index.js', 'core.js', 'client.js', 'errors.js'];
const src = new URL('src/', import.meta.url);
const dist = new URL('dist/', import.meta.url);

for (const file of FILES) {
  const code = await readFile(new URL(file, src), 'utf8');
  const out = await minify(code, {
    module: true,
    ecma: 2022,
    compress: { passes: 2 },
    format: { comments: false, preamble: '// sima: see README.md and src/index.d.ts' },
  });
  await writeFile(new URL(file, dist), `${out.code}\n`);
}
