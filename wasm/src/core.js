// The offline core: sima's rules (compiled from sdk/ to WebAssembly) over one catalog and one
// usage snapshot. Every answer is a fresh plain object; nothing needs to be freed.
import createSimaCore from '../dist/sima_core.js';
import { SimaError, invalid } from './errors.js';

const WASM_FILE = 'sima_core.wasm';
const DIST_URL = new URL('../dist/', import.meta.url);

let ready = null; // the Emscripten module
let initialized = null; // what init() returns
let loaded = null; // the module once ready (formatRupees is synchronous)
let L = null; // its layouts and enum names (see load())

// The names of an enum's values, by value.
function names(nameOf) {
  const out = [];
  for (let name; (name = nameOf(out.length)) !== '';) out.push(name);
  return Object.freeze(out);
}

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

async function load(options) {
  const module = await instantiate(options);
  // The layouts of out() are constants bound by src/bindings.cc (CHECK_ALLOWED, ...), copied
  // into a plain object for quick reads; the enum names are the sdk's to_string.
  const layout = Object.fromEntries(Object.entries(module).filter(([k, v]) => /^[A-Z][A-Z_]+$/.test(k) && typeof v === 'number'));
  layout.STATUS = names(module.usageStatusName); // sima::UsageStatus
  layout.ENFORCEMENT = names(module.enforcementName); // sima::Enforcement
  L = Object.freeze(layout);
  loaded = module;
  return module;
}

async function instantiate({ locateFile, wasmBinary } = {}) {
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
    const up = s[o + L.CHECK_UPGRADE_PLAN];
    const remaining = s[o + L.CHECK_REMAINING];
    const decision = {
      allowed: s[o + L.CHECK_ALLOWED] !== 0,
      feature,
      plan: this.#plan,
      current: s[o + L.CHECK_CURRENT],
      requested: s[o + L.CHECK_REQUESTED],
      limit: s[o + L.CHECK_LIMIT],
      remaining: remaining < 0 ? null : remaining,
      over: s[o + L.CHECK_OVER] !== 0,
      upgrade: up < 0 ? null : {
        plan: this.#catalog.plans[up].code,
        limit: s[o + L.CHECK_UPGRADE_LIMIT],
        price: s[o + L.CHECK_UPGRADE_PRICE],
        price_paisa: s[o + L.CHECK_UPGRADE_PAISA],
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
    for (let i = 0, o = this.#out; i < count; i++, o += L.OPTION_SIZE) {
      const plan = plans[s[o + L.OPTION_PLAN]];
      options.push({
        plan: plan.code,
        name: plan.name,
        limit: s[o + L.OPTION_LIMIT],
        price: s[o + L.OPTION_PRICE],
        price_paisa: s[o + L.OPTION_PAISA],
        allows: s[o + L.OPTION_ALLOWS] !== 0,
        suggested: s[o + L.OPTION_SUGGESTED] !== 0,
      });
    }
    return options;
  }

  /** May `plan` be bought at `now` (sima::Activate)? A refusal is `ok: false`, not an error. */
  canBuy(plan, now = Date.now()) {
    if (typeof plan !== 'string') throw invalid(`plan must be a string, got ${describe(plan)}`);
    const ms = now instanceof Date ? now.getTime() : now;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw invalid(`now must be a Date or milliseconds since 1970, got ${describe(now)}`);
    }
    const m = this.#module;
    const end = m.canBuy(this.#raw, plan, Math.floor(ms / 1000));
    if (end === '') {
      const [code, message] = this.#error();
      if (code === 'validation_error') throw new SimaError(code, message);
      return { ok: false, plan, code, message, renew: false, end_date: null };
    }
    return { ok: true, plan, code: null, message: null, renew: m.HEAPF64[this.#out + L.BUY_RENEW] !== 0, end_date: end };
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
    for (let i = 0, o = this.#out; i < features.length; i++, o += L.ROW_SIZE) {
      const percent = s[o + L.ROW_PERCENT];
      rows.push({
        feature: features[i].key,
        label: features[i].label,
        used: s[o + L.ROW_USED],
        limit: s[o + L.ROW_LIMIT],
        percent: percent < 0 ? null : percent,
        status: L.STATUS[s[o + L.ROW_STATUS]],
        text: texts[i],
        enforcement: L.ENFORCEMENT[s[o + L.ROW_ENFORCEMENT]],
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
    const featureCount = m.HEAPF64[o + L.CATALOG_FEATURES], planCount = m.HEAPF64[o + L.CATALOG_PLANS];
    const n = m.HEAPF64.slice(o, o + L.CATALOG_HEADER + featureCount + planCount * (L.PLAN_HEADER + featureCount));
    let at = L.CATALOG_HEADER;
    const features = [];
    for (let i = 0; i < featureCount; i++) {
      features.push({
        key: m.catalogText(raw, L.TEXT_FEATURE_KEY, i),
        label: m.catalogText(raw, L.TEXT_FEATURE_LABEL, i),
        enforcement: L.ENFORCEMENT[n[at++]],
      });
    }
    const plans = [];
    for (let i = 0; i < planCount; i++, at += L.PLAN_HEADER + featureCount) {
      const limits = n.subarray(at + L.PLAN_HEADER);
      plans.push({
        code: m.catalogText(raw, L.TEXT_PLAN_CODE, i),
        name: m.catalogText(raw, L.TEXT_PLAN_NAME, i),
        price: n[at + L.PLAN_PRICE],
        price_paisa: n[at + L.PLAN_PAISA],
        limits: Object.fromEntries(features.map((f, j) => [f.key, limits[j]])),
      });
    }
    return {
      currency: m.catalogText(raw, L.TEXT_CURRENCY, 0),
      period_days: n[L.CATALOG_PERIOD_DAYS],
      features,
      plans,
    };
  }

  #ok(done) {
    if (!done) this.#fail();
  }

  #fail() {
    throw new SimaError(...this.#error());
  }

  // [code, message] of the core's last error.
  #error() {
    const error = this.#module.error(this.#raw);
    const cut = error.indexOf('\n');
    return [error.slice(0, cut), error.slice(cut + 1)];
  }
}

/** Paisa as rupee text by sima::FormatRupees (190000 -> "1,900"), once the core is loaded. */
export function formatRupees(paisa, { thousands = true, minDecimals = 0 } = {}) {
  if (!loaded) throw new SimaError('not_loaded', 'sima: the core is not loaded yet: await init() first');
  countArg(paisa, 'paisa', 'paisa must be a whole number');
  if (!Number.isSafeInteger(paisa)) throw invalid(`paisa must be a whole number within 2^53, got ${paisa}`);
  if (![0, 1, 2].includes(minDecimals)) throw invalid(`minDecimals must be 0, 1 or 2, got ${minDecimals}`);
  return loaded.formatRupees(paisa, thousands === true, minDecimals);
}

function deepFreeze(value) {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
