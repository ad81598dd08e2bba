// The offline core: sima's rules (compiled from sdk/ to WebAssembly) over one catalog and one
// usage snapshot. Every answer is a fresh plain object; nothing needs to be freed.
import createSimaCore from '../dist/sima_core.js';
import { SimaError, invalid } from './errors.js';

const WASM_FILE = 'sima_core.wasm';

let ready = null; // the Emscripten module
let initialized = null; // what init() returns
let loaded = null; // the module once ready (formatRupees is synchronous)
let L = null; // its layouts and enum names (see load())

// What the platform entry sets: src/node.js reads the wasm with node:fs. The browser entry
// leaves it null and fetches.
export const host = { readWasm: null, defaultWasm: null };

// The names of an enum's values, by value.
function names(nameOf) {
  const out = [];
  for (let name; (name = nameOf(out.length)) !== '';) out.push(name);
  return Object.freeze(out);
}

/**
 * Starts loading the WebAssembly core at once (fetch and streaming compile) and returns a
 * promise of it being ready; every later call returns the same promise (options of later
 * calls are ignored). Call it at the top of a module, before any token exists, so the core
 * downloads while the page asks for its session; every other entry point awaits it.
 * @param {{wasmUrl?: string|URL, locateFile?: (file: string, prefix: string) => string,
 *          wasmBinary?: ArrayBuffer|Uint8Array, module?: WebAssembly.Module|Promise<WebAssembly.Module>}} [options]
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
    initialized.catch(() => {}); // init() at the top of a module must not be an unhandled rejection: the next call sees it
  }
  return ready;
}

async function load(options) {
  const module = await instantiate(await compile(options));
  // The layouts of out() are constants bound by src/bindings.cc (CHECK_ALLOWED, ...), copied
  // into a plain object for quick reads; the enum names are the sdk's to_string.
  const layout = Object.fromEntries(Object.entries(module).filter(([k, v]) => /^[A-Z][A-Z_]+$/.test(k) && typeof v === 'number'));
  layout.STATUS = names(module.usageStatusName); // sima::UsageStatus
  layout.ENFORCEMENT = names(module.enforcementName); // sima::Enforcement
  layout.KIND = names(module.featureKindName); // sima::FeatureKind
  layout.SUB_STATE = names(module.subscriptionStateName); // sima::SubscriptionState
  L = Object.freeze(layout);
  loaded = module;
  return module;
}

// The compiled wasm (a WebAssembly.Module), from the first source the options name.
async function compile({ module, wasmBinary, wasmUrl, locateFile } = {}) {
  if (module) return module;
  if (wasmBinary) return WebAssembly.compile(wasmBinary);
  if (wasmUrl !== undefined || locateFile) {
    const beside = defaultUrl();
    return compileFrom(String(wasmUrl ?? locateFile(WASM_FILE, beside ? new URL('./', beside).href : '')));
  }
  if (host.defaultWasm) return WebAssembly.compile(await host.defaultWasm());
  // The file beside this one, as bundlers see it: Vite and webpack 5 emit it as an asset and
  // rewrite the URL. Where it cannot be had (esbuild: an IIFE has no import.meta.url, an ESM
  // bundle's folder has no sima_core.wasm; a dev server answering index.html), the wasm comes
  // from a module that embeds it, imported only then.
  const url = defaultUrl();
  if (url) {
    try {
      return await compileFrom(url);
    } catch {
      // fall through to the embedded copy
    }
  }
  return compileInline();
}

// new URL('../dist/sima_core.wasm', import.meta.url) (dist/core.js says './sima_core.wasm'),
// computed here, never at module top level: an esbuild IIFE turns import.meta into {}.
function defaultUrl() {
  try {
    return new URL('../dist/sima_core.wasm', import.meta.url).href;
  } catch {
    return null;
  }
}

async function compileFrom(url) {
  if (host.readWasm) return WebAssembly.compile(await host.readWasm(url));
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  // Streaming compile needs the server to say application/wasm; otherwise compile the bytes.
  const type = response.headers.get('Content-Type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && type.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

// The embedded copy: dist/sima_core_inline.js holds the wasm gzip'ed and in base64 (built by
// minify.mjs), ungzipped by the browser.
async function compileInline() {
  const { default: base64 } = await import('../dist/sima_core_inline.js');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const wasm = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return WebAssembly.compile(await new Response(wasm).arrayBuffer());
}

// Emscripten's glue instantiates what was compiled above through its instantiateWasm hook
// (it would otherwise fetch the file itself, after the glue ran).
function instantiate(compiled) {
  return new Promise((resolve, reject) => {
    createSimaCore({
      instantiateWasm(imports, receive) {
        WebAssembly.instantiate(compiled, imports).then((instance) => receive(instance, compiled), reject);
        return {};
      },
    }).then(resolve, reject);
  });
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
  #kinds; // per feature (catalog order): its kind
  #switches; // per feature: true for a switch (its limits read as true/false)
  #counted; // per feature: true for metered features and allocations
  #overrides = []; // per feature: its override {limit, plan, until} from the snapshot, or null
  // The times (seconds) where an answer may change without a new snapshot: the subscription's
  // end, where its grace ends and the overrides' ends. An answer is kept for the interval of
  // them it was made in.
  #bounds = [];
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
    const features = this.#catalog.features;
    this.#featureIndex = new Map(features.map((f, i) => [f.key, i]));
    this.#kinds = features.map((f) => f.kind);
    this.#switches = features.map((f) => f.kind === 'boolean');
    this.#counted = features.map((f) => f.kind === 'metered' || f.kind === 'allocation');
    if (usage !== undefined && usage !== null) this.setUsage(usage);
    else this.#readState();
    this.#plan = module.plan(raw);
  }

  /** The plan of the last usage snapshot (or 403 body); decisions use the plan in force at their `now`. */
  get plan() {
    return this.#plan;
  }

  /** The catalog as the core understood it (frozen): plans cheapest first, -1 = unlimited, switches true/false. */
  get catalog() {
    return this.#catalog;
  }

  /**
   * May `n` of `feature` be done at `now` (a Date or milliseconds; default: the clock)? For a
   * count, n more; for a switch, whether it is on; for a value, whether n fits. Never throws
   * for a refusal: see `allowed`.
   */
  check(feature, n = 1, now) {
    const at = now === undefined ? Math.floor(Date.now() / 1000) : seconds(now);
    const index = this.#featureIndex.get(feature);
    const cached = index === undefined ? undefined : this.#checks[index];
    if (cached !== undefined && cached.n === n && at >= cached.lo && at < cached.hi) return copyDecision(cached.d);
    const m = this.#module;
    if (index === undefined || !Number.isInteger(n)) {
      countArg(n, 'n', QUANTITY);
      if (m.checkByName(this.#raw, featureArg(feature), n, at) !== 0) this.#fail();
    } else if (m._sima_check(this.#raw, index, n, at) !== 0) { // a plain wasm export (bindings.cc)
      this.#fail();
    }
    const s = m.HEAPF64;
    const o = this.#out;
    const i = index; // known here: an unknown feature failed above
    const sw = this.#switches[i];
    const up = s[o + L.CHECK_UPGRADE_PLAN];
    const remaining = s[o + L.CHECK_REMAINING];
    const decision = {
      allowed: s[o + L.CHECK_ALLOWED] !== 0,
      feature,
      kind: this.#kinds[i],
      plan: this.#catalog.plans[s[o + L.CHECK_PLAN]].code,
      current: s[o + L.CHECK_CURRENT],
      requested: s[o + L.CHECK_REQUESTED],
      limit: limitOf(sw, s[o + L.CHECK_LIMIT]),
      remaining: remaining < 0 ? null : remaining,
      over: s[o + L.CHECK_OVER] !== 0,
      override: s[o + L.CHECK_OVERRIDE] !== 0 ? copyOverride(this.#overrides[i]) : null,
      upgrade: up < 0 ? null : {
        plan: this.#catalog.plans[up].code,
        limit: limitOf(sw, s[o + L.CHECK_UPGRADE_LIMIT]),
        price: s[o + L.CHECK_UPGRADE_PRICE],
        price_paisa: s[o + L.CHECK_UPGRADE_PAISA],
      },
    };
    this.#checks[index] = { n, lo: this.#from(at), hi: this.#until(at), d: copyDecision(decision) };
    return decision;
  }

  /** One row per feature, in catalog order, as a usage panel draws it at `now` (default: the clock). */
  usage(now) {
    const at = now === undefined ? Math.floor(Date.now() / 1000) : seconds(now);
    const cached = this.#rowsCache;
    if (cached === null || at < cached.lo || at >= cached.hi) {
      this.#rowsCache = { lo: this.#from(at), hi: this.#until(at), rows: this.#rows('', at) };
    }
    return this.#rowsCache.rows.map(copyRow);
  }

  /**
   * What the usage panel would show right after buying `plan` at `now`: allocations kept,
   * metered counts zero when the purchase starts a new period, the plan's switches and values.
   */
  usageAfterUpgrade(plan, now) {
    if (typeof plan !== 'string' || plan === '') throw invalid(`plan must be a non-empty string, got ${describe(plan)}`);
    return this.#rows(plan, now === undefined ? Math.floor(Date.now() / 1000) : seconds(now));
  }

  /** Every plan pricier than the one in force at `now`, cheapest first, for `n` of `feature`. */
  upgradeOptions(feature, n = 1, now) {
    const m = this.#module;
    const at = now === undefined ? Math.floor(Date.now() / 1000) : seconds(now);
    const count = m.upgradeOptions(this.#raw, featureArg(feature), countArg(n, 'n', QUANTITY), at);
    if (count < 0) this.#fail();
    const s = m.HEAPF64;
    const plans = this.#catalog.plans;
    const sw = this.#switches[this.#featureIndex.get(feature)];
    const options = [];
    for (let i = 0, o = this.#out; i < count; i++, o += L.OPTION_SIZE) {
      const plan = plans[s[o + L.OPTION_PLAN]];
      options.push({
        plan: plan.code,
        name: plan.name,
        limit: limitOf(sw, s[o + L.OPTION_LIMIT]),
        price: s[o + L.OPTION_PRICE],
        price_paisa: s[o + L.OPTION_PAISA],
        allows: s[o + L.OPTION_ALLOWS] !== 0,
        suggested: s[o + L.OPTION_SUGGESTED] !== 0,
      });
    }
    return options;
  }

  /** May `plan` be bought at `now` (sima::ActivateWithGrace)? A refusal is `ok: false`, not an error. */
  canBuy(plan, now = Date.now()) {
    if (typeof plan !== 'string') throw invalid(`plan must be a string, got ${describe(plan)}`);
    const m = this.#module;
    const end = m.canBuy(this.#raw, plan, seconds(now));
    if (end === '') {
      const [code, message] = this.#error();
      if (code === 'validation_error') throw new SimaError(code, message);
      return { ok: false, plan, code, message, renew: false, end_date: null };
    }
    return { ok: true, plan, code: null, message: null, renew: m.HEAPF64[this.#out + L.BUY_RENEW] !== 0, end_date: end };
  }

  /**
   * The subscription at `now` (default: the clock), in the shape of the server's "subscription"
   * (sima::SubscriptionToJson): its state, the plan in force and the dates that matter, computed
   * here by sima::LifecycleAt, so a page left open crosses renewal_due, grace and expiry
   * without a request.
   */
  lifecycle(now) {
    const m = this.#module;
    if (!m.lifecycle(this.#raw, now === undefined ? Math.floor(Date.now() / 1000) : seconds(now))) this.#fail();
    const s = m.HEAPF64;
    const o = this.#out;
    const plans = this.#catalog.plans;
    const code = (i) => (i < 0 ? null : plans[i].code);
    const state = L.SUB_STATE[s[o + L.LC_STATE]];
    const next = s[o + L.LC_NEXT_PLAN];
    const cancel = s[o + L.LC_CANCEL] !== 0;
    return {
      plan: code(s[o + L.LC_PLAN]),
      is_active: state !== 'free' && state !== 'expired',
      start_date: isoOrNull(s[o + L.LC_START]),
      end_date: isoOrNull(s[o + L.LC_END]),
      state,
      subscribed_plan: code(s[o + L.LC_SUBSCRIBED]),
      trial: s[o + L.LC_TRIAL] !== 0,
      renewal_plan: code(s[o + L.LC_RENEWAL_PLAN]),
      renewal_due_from: isoOrNull(s[o + L.LC_RENEWAL_DUE_FROM]),
      grace_until: isoOrNull(s[o + L.LC_GRACE_UNTIL]),
      ends_at: isoOrNull(s[o + L.LC_ENDS_AT]),
      scheduled_change: cancel ? { kind: 'cancel', plan: null } : next < 0 ? null : { kind: 'switch', plan: code(next) },
    };
  }

  /**
   * What paying for `plan` at `now` costs, as the server will charge it (sima::QuotePayment
   * with the gateway minimum): an upgrade is prorated with a credit line for the unused time;
   * anything else is the plan's price. Throws a SimaError ('conflict', 'invalid_plan') when the
   * plan cannot be bought now (canBuy() says why without throwing).
   */
  quote(plan, now) {
    if (typeof plan !== 'string') throw invalid(`plan must be a string, got ${describe(plan)}`);
    const m = this.#module;
    const labels = m.quote(this.#raw, plan, now === undefined ? Math.floor(Date.now() / 1000) : seconds(now));
    if (labels === '') this.#fail();
    const s = m.HEAPF64;
    const o = this.#out;
    const plans = this.#catalog.plans;
    const lines = labels.split('\n');
    return {
      plan: plans[s[o + L.QUOTE_TO]].code,
      from_plan: plans[s[o + L.QUOTE_FROM]].code,
      price: s[o + L.QUOTE_PRICE],
      price_paisa: s[o + L.QUOTE_PRICE_PAISA],
      credit_paisa: s[o + L.QUOTE_CREDIT],
      amount: s[o + L.QUOTE_AMOUNT],
      amount_paisa: s[o + L.QUOTE_AMOUNT_PAISA],
      unused_seconds: s[o + L.QUOTE_UNUSED],
      start_date: iso(s[o + L.QUOTE_START]),
      end_date: iso(s[o + L.QUOTE_END]),
      amount_breakdown: lines.map((label, i) => ({ label, amount: s[o + L.QUOTE_HEADER + i] })),
    };
  }

  /**
   * Counts `n` more of `feature` locally, after the server accepted a create; a negative `n`
   * releases that many of an allocation (after a delete).
   */
  record(feature, n = 1) {
    const key = featureArg(feature);
    const count = countArg(n, 'n', QUANTITY);
    this.#ok(this.#module.record(this.#raw, key, count));
    this.#changed();
  }

  /** Replaces the plan, the subscription, every count and the overrides with a GET /billing/usage/ answer. */
  setUsage(snapshot) {
    this.#ok(this.#module.setUsage(this.#raw, jsonText(snapshot, 'the usage snapshot')));
    this.#plan = this.#module.plan(this.#raw);
    this.#readState();
    this.#changed();
  }

  /**
   * Replaces the subscription with the server's (the "subscription" of GET or POST
   * /billing/subscription/, e.g. after scheduling a change); counts and plan stay.
   */
  setSubscription(subscription) {
    this.#ok(this.#module.setSubscription(this.#raw, jsonText(subscription, 'the subscription')));
    this.#readState();
    this.#changed();
  }

  /** Sets one count (e.g. the server's `current` from a 403). */
  setUsed(feature, used) {
    const key = featureArg(feature);
    const count = countArg(used, 'used', 'used must be a whole number of 0 or more');
    this.#ok(this.#module.setUsed(this.#raw, key, count));
    this.#changed();
  }

  /** Takes the server's view from a 403 limit_reached body: its plan and, for a count, its count. */
  applyLimitReached(body) {
    if (body === null || typeof body !== 'object') throw invalid('a limit_reached body must be an object');
    if (typeof body.plan === 'string' && body.plan !== this.#plan) {
      this.#ok(this.#module.setPlan(this.#raw, body.plan));
      this.#plan = this.#module.plan(this.#raw);
      this.#readState();
      this.#changed();
    }
    const index = this.#featureIndex.get(body.feature);
    if (index === undefined || this.#counted[index]) this.setUsed(body.feature, body.current);
  }

  /**
   * When (milliseconds) the answers next change without a new snapshot, after `now` (default:
   * the clock): the subscription's end, renewal due, the grace's end or an override's end;
   * null when none is ahead. A view drawn at `now` is right until then.
   */
  nextChange(now) {
    const hi = this.#until(now === undefined ? Math.floor(Date.now() / 1000) : seconds(now));
    return hi === Infinity ? null : hi * 1000;
  }

  #changed() {
    this.#checks = [];
    this.#rowsCache = null;
  }

  // [#from(at), #until(at)): the interval between the bounds that holds `at`, where answers
  // cannot change.
  #from(at) {
    let lo = -Infinity;
    for (const b of this.#bounds) if (b <= at && b > lo) lo = b;
    return lo;
  }

  #until(at) {
    let hi = Infinity;
    for (const b of this.#bounds) if (b > at && b < hi) hi = b;
    return hi;
  }

  // The subscription's end and the overrides, after a new snapshot or plan.
  #readState() {
    const m = this.#module;
    this.#ok(m.state(this.#raw));
    const features = this.#catalog.features;
    // Copied out first: a string from the core may grow the wasm memory and detach HEAPF64.
    const o = this.#out;
    const n = m.HEAPF64.slice(o, o + L.STATE_HEADER + features.length * L.STATE_OVERRIDE_SIZE);
    const bounds = [n[L.STATE_END], n[L.STATE_RENEWAL_DUE], n[L.STATE_ENDS_AT]].filter((b) => b >= 0);
    this.#overrides = features.map((f, i) => {
      const at = L.STATE_HEADER + i * L.STATE_OVERRIDE_SIZE;
      if (n[at + L.STATE_HAS_OVERRIDE] === 0) return null;
      const plan = n[at + L.STATE_PLAN];
      const until = n[at + L.STATE_UNTIL];
      if (until >= 0) bounds.push(until);
      return {
        limit: limitOf(this.#switches[i], n[at + L.STATE_LIMIT]),
        plan: plan < 0 ? null : this.#catalog.plans[plan].code,
        until: until < 0 ? null : m.catalogText(this.#raw, L.TEXT_OVERRIDE_UNTIL, i),
      };
    });
    this.#bounds = bounds;
  }

  #rows(plan, at) {
    const m = this.#module;
    const text = m.usage(this.#raw, plan, at);
    if (text === '') this.#fail();
    const texts = text.split('\n');
    const s = m.HEAPF64;
    const features = this.#catalog.features;
    const plans = this.#catalog.plans;
    const rows = [];
    for (let i = 0, o = this.#out; i < features.length; i++, o += L.ROW_SIZE) {
      const percent = s[o + L.ROW_PERCENT];
      const unlock = s[o + L.ROW_UNLOCK_PLAN];
      const f = features[i];
      rows.push({
        feature: f.key,
        kind: f.kind,
        label: f.label,
        used: s[o + L.ROW_USED],
        limit: limitOf(this.#switches[i], s[o + L.ROW_LIMIT]),
        percent: percent < 0 ? null : percent,
        status: L.STATUS[s[o + L.ROW_STATUS]],
        text: texts[2 * i],
        enforcement: L.ENFORCEMENT[s[o + L.ROW_ENFORCEMENT]],
        unit: f.unit,
        override: s[o + L.ROW_OVERRIDE] !== 0 ? { ...this.#overrides[i] } : null,
        unlock: unlock < 0 ? null : {
          plan: plans[unlock].code, limit: true, price: s[o + L.ROW_UNLOCK_PRICE], price_paisa: s[o + L.ROW_UNLOCK_PAISA],
        },
        note: texts[2 * i + 1],
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
    const noticeAt = L.CATALOG_HEADER + 2 * featureCount + planCount * (L.PLAN_HEADER + featureCount);
    const n = m.HEAPF64.slice(o, o + noticeAt + m.HEAPF64[o + L.CATALOG_NOTICE_DAYS]);
    let at = L.CATALOG_HEADER;
    const features = [];
    for (let i = 0; i < featureCount; i++, at++) {
      features.push({
        key: m.catalogText(raw, L.TEXT_FEATURE_KEY, i),
        label: m.catalogText(raw, L.TEXT_FEATURE_LABEL, i),
        kind: L.KIND[n[at + featureCount]],
        enforcement: L.ENFORCEMENT[n[at]],
        unit: m.catalogText(raw, L.TEXT_FEATURE_UNIT, i),
      });
    }
    at += featureCount;
    const plans = [];
    for (let i = 0; i < planCount; i++, at += L.PLAN_HEADER + featureCount) {
      const limits = n.subarray(at + L.PLAN_HEADER);
      plans.push({
        code: m.catalogText(raw, L.TEXT_PLAN_CODE, i),
        name: m.catalogText(raw, L.TEXT_PLAN_NAME, i),
        price: n[at + L.PLAN_PRICE],
        price_paisa: n[at + L.PLAN_PAISA],
        limits: Object.fromEntries(features.map((f, j) => [f.key, limitOf(f.kind === 'boolean', limits[j])])),
      });
    }
    return {
      currency: m.catalogText(raw, L.TEXT_CURRENCY, 0),
      period_days: n[L.CATALOG_PERIOD_DAYS],
      renewal_notice_days: [...n.subarray(noticeAt)],
      grace_days: n[L.CATALOG_GRACE_DAYS],
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

// A limit as the server's JSON shows it: true/false for a switch (-1 on, 0 off), else the number.
function limitOf(isSwitch, wire) {
  return isSwitch ? wire !== 0 : wire;
}

// Copies as object literals of one shape: V8 builds them several times faster than a spread
// (check() returns a copy of every cached answer).
function copyDecision(d) {
  const u = d.upgrade;
  return {
    allowed: d.allowed,
    feature: d.feature,
    kind: d.kind,
    plan: d.plan,
    current: d.current,
    requested: d.requested,
    limit: d.limit,
    remaining: d.remaining,
    over: d.over,
    override: d.override && copyOverride(d.override),
    upgrade: u && { plan: u.plan, limit: u.limit, price: u.price, price_paisa: u.price_paisa },
  };
}

function copyOverride(o) {
  return { limit: o.limit, plan: o.plan, until: o.until };
}

function copyRow(row) {
  return { ...row, override: row.override && { ...row.override }, unlock: row.unlock && { ...row.unlock } };
}

const MAX_SECONDS = 253402300799; // 9999-12-31T23:59:59Z

// Seconds since 1970 as sima::FormatTime writes them ("2026-12-01T00:00:00Z").
function iso(s) {
  return new Date(s * 1000).toISOString().replace('.000Z', 'Z');
}

function isoOrNull(s) {
  return s < 0 ? null : iso(s);
}

// `now` (a Date or milliseconds since 1970) in whole seconds, checked here because a cached
// answer does not reach the core.
function seconds(now) {
  const ms = now instanceof Date ? now.getTime() : now;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw invalid(`now must be a Date or milliseconds since 1970, got ${describe(now)}`);
  }
  const s = Math.floor(ms / 1000);
  if (s < 0 || s > MAX_SECONDS) throw invalid(`now must be a time between 1970 and 9999, got ${ms} ms`);
  return s;
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
