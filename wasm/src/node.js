// sima for Node (package.json exports "node"): the browser API, with the wasm read from the
// package folder by node:fs instead of fetched. Browser bundles never import this file.
import { readFile } from 'node:fs/promises';
import { host } from './core.js';

host.defaultWasm = () => readFile(new URL('../dist/sima_core.wasm', import.meta.url));
// init({wasmUrl}) / locateFile: a file path or file: URL is read from disk, anything else fetched.
host.readWasm = async (where) => {
  if (!/^[a-z][a-z0-9+.-]+:/i.test(where) || where.startsWith('file:')) {
    return readFile(where.startsWith('file:') ? new URL(where) : where);
  }
  const response = await fetch(where);
  if (!response.ok) throw new Error(`GET ${where} answered ${response.status}`);
  return response.arrayBuffer();
};

export * from './index.js';
