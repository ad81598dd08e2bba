// docs/openapi.json is a valid OpenAPI 3.1 document: the official schema (through
// @seriousme/openapi-schema-validator), every $ref resolves, and every schema in it compiles
// as JSON Schema 2020-12 (the dialect of OpenAPI 3.1), so a typo in a schema fails here too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const path = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));
const doc = JSON.parse(readFileSync(path, 'utf8'));

test('openapi.json matches the OpenAPI 3.1 schema', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  assert.equal(validator.version, '3.1', `validated as OpenAPI ${validator.version}`);
  assert.ok(result.valid, `docs/openapi.json is not valid OpenAPI 3.1:\n${JSON.stringify(result.errors, null, 2)}`);
  assert.doesNotThrow(() => validator.resolveRefs(), 'every $ref resolves');
});

test('every schema in openapi.json compiles as JSON Schema 2020-12', () => {
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormats(ajv);
  ajv.addKeyword('components'); // the container of the schemas below, not a schema keyword
  ajv.addSchema({ $id: 'openapi.json', components: doc.components }, 'openapi.json');
  const failures = [];
  for (const name of Object.keys(doc.components.schemas)) {
    try {
      ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
    } catch (e) {
      failures.push(`${name}: ${e.message}`);
    }
  }
  assert.deepEqual(failures, [], failures.join('\n'));
});

test('every operation has an id, a 2xx/3xx answer and only known security schemes', () => {
  const schemes = new Set(Object.keys(doc.components.securitySchemes));
  const ids = new Set();
  const problems = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${p}`;
      if (!op.operationId) problems.push(`${where}: no operationId`);
      else if (ids.has(op.operationId)) problems.push(`${where}: duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      if (!Object.keys(op.responses).some((c) => /^[23]/.test(c))) problems.push(`${where}: no success answer`);
      for (const req of op.security ?? []) {
        for (const s of Object.keys(req)) if (!schemes.has(s)) problems.push(`${where}: unknown scheme ${s}`);
      }
    }
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('every {param} of a path is declared as a path parameter, and no other', () => {
  const problems = [];
  const resolve = (p) => (p.$ref ? p.$ref.split('/').reduce((o, k) => (k === '#' ? doc : o[k]), null) : p);
  for (const [p, item] of Object.entries(doc.paths)) {
    const inPath = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    for (const [method, op] of Object.entries(item)) {
      const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])]
        .map(resolve).filter((x) => x.in === 'path').map((x) => x.name).sort();
      if (JSON.stringify(inPath) !== JSON.stringify(declared)) {
        problems.push(`${method.toUpperCase()} ${p}: path has {${inPath}}, declared ${declared}`);
      }
    }
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});
