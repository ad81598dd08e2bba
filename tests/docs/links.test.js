// The READMEs and docs/ link only to files of this repository, and every such link resolves:
// a user who clones the repo can follow each one (issue #10: no pointers to an internal brief).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const skip = new Set(['node_modules', 'build', '.git', 'test-output', 'demo-data', 'dist']);

function markdownFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...markdownFiles(p));
    else if (name.endsWith('.md')) out.push(p);
  }
  return out;
}

const files = markdownFiles(repo);

// GitHub's heading anchors: lowercase, punctuation dropped, spaces to '-', repeats numbered.
function anchors(file) {
  const seen = new Map();
  const out = new Set();
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && line.match(/^#{1,6}\s+(.*)$/);
    if (!m) continue;
    const slug = m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

test('the docs and READMEs exist', () => {
  for (const f of ['README.md', 'docs/api.md', 'docs/integration.md', 'docs/operations.md']) {
    assert.ok(files.includes(path.join(repo, f)), `${f} is missing`);
  }
});

test('every relative link in a Markdown file points to a file of the repo', () => {
  const problems = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const rel = path.relative(repo, file);
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [where, anchor] = target.split('#');
      const resolved = where === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(where));
      if (!resolved.startsWith(repo + path.sep)) problems.push(`${rel}: ${target} leaves the repository`);
      else if (!existsSync(resolved)) problems.push(`${rel}: ${target} does not exist`);
      else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) {
        problems.push(`${rel}: ${target}: no heading with that anchor`);
      }
    }
    for (const m of text.matchAll(/(\.\.\/shared\/|\bspec\/(api|gateways)\.md|\bDESIGN\.md|\bSTYLE\.md)/g)) {
      problems.push(`${rel}: names ${m[0]}, which is not part of the repository`);
    }
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});
