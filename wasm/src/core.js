// The offline core: sima's rules (compiled from sdk/ to WebAssembly) over one catalog and one
// usage snapshot. Every answer is a fresh plain object; nothing needs to be freed.
import createSimaCore from '../dist/sima_core.js';
import { SimaError, invalid } from './errors.js';

const WASM_FILE = 'sima_core.wasm';
const DIST_URL = new URL('../dist/', import.meta.url);

// Layouts of the doubles the core writes at out() (wasm/src/bindings.cc: Slot, RowField,
// OptionField, catalogNumbers), and the names of its enum values.
const ALLOWED = 0, CURRENT = 1, REQUESTED = 2, LIMIT = 3, REMAINING = 4, OVER = 5,
  UP_PLAN = 6, UP_LIMIT = 7, UP_PRICE = 8, UP_PAISA = 9;
const ROW = 5, OPTION = 6;
const STATUS = ['ok', 'warning', 'full', 'over']; // sima::UsageStatus
const ENFORCEMENT = ['hard', 'soft']; // sima::Enforcement
const CURRENCY = 0, FEATURE_KEY = 1, FEATURE_LABEL = 2, PLAN_CODE = 3, PLAN_NAME = 4; // TextKind

let ready = null; // the Emscripten module
let initialized = null; // what init() returns

/**
 * Loads the WebAssembly core once; every later call returns the same promise (options of
 * later calls are ignored). Every other entry point awaits it, so calling it is optional.
 * @param {{locateFile?: (file: string, prefix: string) => string, wasmBinary?: ArrayBuffer|Uint8Array}} [options]
 */
export function init(options = {}) {
  loadModule(options);
  return initialized;
}

function loadModule(options = {}) {
  if (!ready) {
    ready = load(options).catch((e) => {
      ready = null; // a failed load (e.g. offline) may be retried
      initialized = null;
      throw e instanceof SimaError ? e : new SimaError('init_failed', `sima: could not load the core: ${e?.message ?? e}`, { cause: e });
    });
    initialized = ready.then(() => undefined);
  }
  return ready;
}

async function load({ locateFile, wasmBinary } = {}) {
  const settings = {};
  if (locateFile) settings.locateFile = locateFile;
  if (wasmBinary) {
    settings.wasmBinary = wasmBinary;
  } else if (isNode()) {
    // Emscripten 3.1.6's ES module cannot read files itself in Node: hand it the bytes.
    const where = locateFile ? locateFile(WASM_FILE, DIST_URL.href) : new URL(WASM_FILE, DIST_URL).href;
    const fsName = 'node:fs/promises'; // not a static import: browsers and bundlers never see it
    const { readFile } = await import(/* @vite-ignore */ /* webpackIgnore: true */ fsName);
    settings.wasmBinary = await readFile(/^[a-z][a-z0-9+.-]+:/i.test(where) ? new URL(where) : where);
  }
  return createSimaCore(settings);
}

function isNode() {
  return typeof process === 'object' && typeof process.versions?.node === 'string' &&
    typeof window === 'undefined';
}

// Frees a Core's wasm object when the Core itself is garbage collected.
const registry = new FinalizationRegistry(({ module, handle }) => module.destroy(handle));
const CONSTRUCT = Symbol('sima.Core');

function jsonText(value, what) {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    try {
      return JSON.stringify(value);
    } catch (e) {
      throw new SimaError('invalid_json', `${what} cannot be turned into JSON: ${e.message}`, { cause: e });
    }
  }
  throw invalid(`${what} must be a JSON string or an object, got ${describe(value)}`);
}

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function featureArg(feature) {
  if (typeof feature !== 'string') throw invalid(`feature must be a string, got ${describe(feature)}`);
  return feature;
}

// `what` words the message for a number that is not whole (the core refuses the rest).
function countArg(n, name, what) {
  if (typeof n !== 'number') throw invalid(`${name} must be a number, got ${describe(n)}`);
  if (!Number.isInteger(n) && Number.isFinite(n)) throw invalid(`${what}, got ${n}`);
  return n;
}
const QUANTITY = 'quantity must be a whole number';

/**
 * Creates an offline core from a catalog (GET /billing/plans/) and a usage snapshot
 * (GET /billing/usage/), each as JSON text or as the parsed object. Without a snapshot the
 * core starts on FREE with nothing used.
 */
export async function createCore(catalog, usage, options) {
  const module = await loadModule(options);
  return new Core(CONSTRUCT, module, catalog, usage);
}

export class Core {
  #module;
  #raw; // the handle of the wasm core
  #out; // index in HEAPF64 of the doubles the core answers in (fixed once the catalog is set)
  #plan;
  #catalog;
  #featureIndex;
  // Answers of the wasm core, kept until the state changes (record, setUsage, ...).
  #checks = [];
  #rowsCache = null;

  constructor(token, module, catalog, usage) {
    if (token !== CONSTRUCT) throw new TypeError('use createCore() to make a sima Core');
    const raw = module.create();
    this.#module = module;
    this.#raw = raw;
    registry.register(this, { module, handle: raw });
    this.#ok(module.setCatalog(raw, jsonText(catalog, 'the catalog')));
    this.#out = module.out(raw) / 8;
    this.#catalog = deepFreeze(this.#readCatalog());
    this.#featureIndex = new Map(this.#catalog.features.map((f, i) => [f.key, i]));
    if (usage !== undefined && usage !== null) this.setUsage(usage);
    this.#plan = module.plan(raw);
  }

  /** The plan the core decides on. */
  get plan() {
    return this.#plan;
  }

  /** The catalog as the core understood it (frozen): plans cheapest first, -1 = unlimited. */
  get catalog() {
    return this.#catalog;
  }

  /** May `n` more of `feature` be done now? Never throws for a refusal: see `allowed`. */
  check(feature, n = 1) {
    const index = this.#featureIndex.get(feature);
    const cached = index === undefined ? undefined : this.#checks[index];
    if (cached !== undefined && cached.requested === n) {
      return { ...cached, upgrade: cached.upgrade && { ...cached.upgrade } };
    }
    const m = this.#module;
    if (index === undefined || !Number.isInteger(n)) {
      countArg(n, 'n', QUANTITY);
      if (m.checkByName(this.#raw, featureArg(feature), n) !== 0) this.#fail();
    } else if (m.check(this.#raw, index, n) !== 0) {
      this.#fail();
    }
    const s = m.HEAPF64;
    const o = this.#out;
    const up = s[o + UP_PLAN];
    const decision = {
      allowed: s[o + ALLOWED] !== 0,
      feature,
      plan: this.#plan,
      current: s[o + CURRENT],
      requested: s[o + REQUESTED],
      limit: s[o + LIMIT],
      remaining: s[o + REMAINING] < 0 ? null : s[o + REMAINING],
      over: s[o + OVER] !== 0,
      upgrade: up < 0 ? null : {
        plan: this.#catalog.plans[up].code,
        limit: s[o + UP_LIMIT],
        price: s[o + UP_PRICE],
        price_paisa: s[o + UP_PAISA],
      },
    };
    if (index !== undefined) this.#checks[index] = { ...decision, upgrade: decision.upgrade && { ...decision.upgrade } };
    return decision;
  }

  /** One row per feature, in catalog order, as a usage panel draws it. */
  usage() {
    this.#rowsCache ??= this.#rows('');
    return this.#rowsCache.map((row) => ({ ...row }));
  }

  /** The same counts drawn against another plan's limits (the "after upgrade" preview). */
  usageAfterUpgrade(plan) {
    if (typeof plan !== 'string' || plan === '') throw invalid(`plan must be a non-empty string, got ${describe(plan)}`);
    return this.#rows(plan);
  }

  /** Every plan pricier than the current one, cheapest first, for `n` more of `feature`. */
  upgradeOptions(feature, n = 1) {
    const m = this.#module;
    const count = m.upgradeOptions(this.#raw, featureArg(feature), countArg(n, 'n', QUANTITY));
    if (count < 0) this.#fail();
    const s = m.HEAPF64;
    const plans = this.#catalog.plans;
    const options = [];
    for (let i = 0, o = this.#out; i < count; i++, o += OPTION) {
      const plan = plans[s[o]];
      options.push({
        plan: plan.code,
        name: plan.name,
        limit: s[o + 1],
        price: s[o + 2],
        price_paisa: s[o + 3],
        allows: s[o + 4] !== 0,
        suggested: s[o + 5] !== 0,
      });
    }
    return options;
  }

  /** Counts `n` more of `feature` locally, after the server accepted a create. */
  record(feature, n = 1) {
    const key = featureArg(feature);
    const count = countArg(n, 'n', `${QUANTITY} of at least 1`);
    this.#ok(this.#module.record(this.#raw, key, count));
    this.#changed();
  }

  /** Replaces the plan and every count with a GET /billing/usage/ answer. */
  setUsage(snapshot) {
    this.#ok(this.#module.setUsage(this.#raw, jsonText(snapshot, 'the usage snapshot')));
    this.#plan = this.#module.plan(this.#raw);
    this.#changed();
  }

  /** Sets one count (e.g. the server's `current` from a 403). */
  setUsed(feature, used) {
    const key = featureArg(feature);
    const count = countArg(used, 'used', 'used must be a whole number of 0 or more');
    this.#ok(this.#module.setUsed(this.#raw, key, count));
    this.#changed();
  }

  /** Takes the server's view from a 403 limit_reached body: its plan and its count. */
  applyLimitReached(body) {
    if (body === null || typeof body !== 'object') throw invalid('a limit_reached body must be an object');
    if (typeof body.plan === 'string' && body.plan !== this.#plan) {
      this.#ok(this.#module.setPlan(this.#raw, body.plan));
      this.#plan = this.#module.plan(this.#raw);
      this.#changed();
    }
    this.setUsed(body.feature, body.current);
  }

  #changed() {
    this.#checks = [];
    this.#rowsCache = null;
  }

  #rows(plan) {
    const m = this.#module;
    const text = m.usage(this.#raw, plan);
    if (text === '') this.#fail();
    const texts = text.split('\n');
    const s = m.HEAPF64;
    const features = this.#catalog.features;
    const rows = [];
    for (let i = 0, o = this.#out; i < features.length; i++, o += ROW) {
      rows.push({
        feature: features[i].key,
        label: features[i].label,
        used: s[o],
        limit: s[o + 1],
        percent: s[o + 2] < 0 ? null : s[o + 2],
        status: STATUS[s[o + 3]],
        text: texts[i],
        enforcement: ENFORCEMENT[s[o + 4]],
      });
    }
    return rows;
  }

  // The catalog as the core holds it, in the shape of GET /billing/plans/.
  #readCatalog() {
    const m = this.#module;
    const raw = this.#raw;
    this.#ok(m.catalogNumbers(raw));
    // Copied out first: a string from the core may grow the wasm memory and detach HEAPF64.
    const o = this.#out;
    const featureCount = m.HEAPF64[o + 1], planCount = m.HEAPF64[o + 2];
    const n = m.HEAPF64.slice(o, o + 3 + featureCount + planCount * (2 + featureCount));
    let at = 3;
    const features = [];
    for (let i = 0; i < featureCount; i++) {
      features.push({
        key: m.catalogText(raw, FEATURE_KEY, i),
        label: m.catalogText(raw, FEATURE_LABEL, i),
        enforcement: ENFORCEMENT[n[at++]],
      });
    }
    const plans = [];
    for (let i = 0; i < planCount; i++) {
      plans.push({
        code: m.catalogText(raw, PLAN_CODE, i),
        name: m.catalogText(raw, PLAN_NAME, i),
        price: n[at++],
        price_paisa: n[at++],
        limits: Object.fromEntries(features.map((f) => [f.key, n[at++]])),
      });
    }
    return { currency: m.catalogText(raw, CURRENCY, 0), period_days: n[0], features, plans };
  }

  #ok(done) {
    if (!done) this.#fail();
  }

  #fail() {
    const error = this.#module.error(this.#raw);
    const cut = error.indexOf('\n');
    throw new SimaError(error.slice(0, cut), error.slice(cut + 1));
  }
}

function deepFreeze(value) {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
