// The client: keeps an offline Core in step with sima-server (docs/api.md) over fetch.
// The server is the authority: every answer that says something about usage replaces the
// local view, and a 403 limit_reached overrides it.
import { createCore, init as initCore } from './core.js';
import { LimitReachedError, SimaError, invalid } from './errors.js';
import { startLive } from './live.js';

const PROVIDERS = { khalti: 'khalti', esewa: 'esewa' };
const CHANGES = ['switch', 'cancel', 'undo'];
// What getSnapshot() answers before anything is loaded (one object: React compares them).
const NOTHING = Object.freeze({ plan: null, catalog: null, usage: Object.freeze([]), subscription: null, lifecycle: null,
  asOf: null, stale: true, live: 'off' });

const inBrowser = () => typeof window === 'object' && typeof document === 'object';

// localStorage where there is one; reading it throws in some private modes and sandboxes.
function localStore() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

// "<as_of in ms>-<hash>" → [ms, hash]; [null, null] for anything else (an older server).
function versionOf(version) {
  const m = typeof version === 'string' ? /^(\d+)-(\w+)$/.exec(version) : null;
  return m ? [Number(m[1]), m[2]] : [null, null];
}

/**
 * Creates a client and loads the catalog and the usage snapshot (at once from a persisted
 * snapshot when there is one, revalidated in the background).
 * @param {import('./index.js').ClientOptions} options
 */
export async function createClient(options) {
  const client = new SimaClient(options);
  await client.load();
  return client;
}

export class SimaClient {
  #base;
  #token;
  #fetch;
  #initOptions;
  #clock;
  #core = null;
  #snapshot = null;
  #plans = null; // the catalog as the server sent it (persisted with the snapshot)
  #listeners = new Set();
  #view = null; // getSnapshot()'s object until the next change
  #storage; // where snapshots persist (null: nowhere)
  #stale = false; // the view is a persisted snapshot the server has not confirmed yet
  #lost = false; // the live stream dropped: changes may be missed until the next answer
  #liveWanted;
  #liveStatus = 'off';
  #liveOrg = null;
  #stopLive = null;
  #refreshInterval;
  #closed = false;
  #local = false; // the core counted something locally since the last server answer
  #timer; // announces the view's next change of time (getSnapshot)

  constructor({ baseUrl, token, fetch: fetchFn, clock, locateFile, wasmBinary, wasmUrl, module, persist, live,
    refreshInterval = 30000 } = {}) {
    if (typeof baseUrl !== 'string' || baseUrl === '') throw invalid('baseUrl must be a non-empty string');
    if (typeof token !== 'string' && typeof token !== 'function') throw invalid('token must be a string or a function');
    this.#base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    this.#token = token;
    this.#fetch = fetchFn ?? globalThis.fetch?.bind(globalThis);
    if (typeof this.#fetch !== 'function') throw invalid('no fetch: pass options.fetch');
    if (clock !== undefined && typeof clock !== 'function') throw invalid('clock must be a function returning milliseconds');
    this.#clock = clock ?? Date.now;
    this.#initOptions = { locateFile, wasmBinary, wasmUrl, module };
    if (persist !== undefined && persist !== true && persist !== false && typeof persist?.getItem !== 'function') {
      throw invalid('persist must be true, false or a Storage (getItem, setItem, removeItem)');
    }
    this.#storage = persist === false ? null : persist === true ? localStore() : persist ?? (inBrowser() ? localStore() : null);
    this.#liveWanted = live ?? inBrowser();
    if (!(refreshInterval > 0)) throw invalid('refreshInterval must be a number of milliseconds');
    this.#refreshInterval = refreshInterval;
    // Every method is bound: `const { check, subscribe, getSnapshot } = client` works, and
    // useSyncExternalStore(client.subscribe, client.getSnapshot) needs no wrappers.
    for (const name of Object.getOwnPropertyNames(SimaClient.prototype)) {
      const method = Object.getOwnPropertyDescriptor(SimaClient.prototype, name).value;
      if (name !== 'constructor' && typeof method === 'function') this[name] = method.bind(this);
    }
  }

  /** True once load() has succeeded. */
  get loaded() {
    return this.#core !== null;
  }

  /** The plan the local view decides on. */
  get plan() {
    return this.#coreOrThrow().plan;
  }

  /** The catalog (GET /billing/plans/), frozen. */
  get catalog() {
    return this.#coreOrThrow().catalog;
  }

  /** The last GET /billing/usage/ answer as the server sent it (subscription, period, ...). */
  get snapshot() {
    return this.#snapshot;
  }

  /**
   * Loads the catalog and the usage snapshot; call again to reload both. The wasm, the plans
   * and the usage are requested at once. With a persisted snapshot (options.persist) it
   * resolves as soon as the wasm is ready, `stale` until the server's answer replaces it.
   */
  async load() {
    const ready = initCore(this.#initOptions);
    const fresh = Promise.all([this.request('GET', 'billing/plans/'), this.#call('GET', 'billing/usage/')]);
    const stored = this.#core ? null : this.#readStored();
    if (stored) {
      try {
        await ready;
        this.#core = await createCore(stored.plans, stored.usage, this.#initOptions);
      } catch {
        this.#forget(); // written by another version, or broken: the server's answer follows
      }
      if (this.#core) {
        this.#plans = stored.plans;
        this.#snapshot = stored.usage;
        this.#stale = true;
        this.#emit('stored');
        this.#startLive();
        fresh.then(([plans, usage]) => this.#takeFresh(plans, usage)).catch(() => {}); // offline: stays stale
        return;
      }
    }
    const [plans, usage] = await fresh;
    await this.#takeFresh(plans, usage);
  }

  /** Re-reads the usage snapshot from the server; returns the usage rows. */
  async refresh() {
    this.#coreOrThrow();
    this.#takeUsage(await this.#call('GET', 'billing/usage/'), 'usage');
    return this.usage();
  }

  /**
   * The view as one frozen object that stays the same object until something changes (what
   * React's useSyncExternalStore needs): {plan, catalog, usage, subscription, lifecycle,
   * asOf, stale, live}.
   */
  getSnapshot() {
    if (this.#view) return this.#view;
    const core = this.#core;
    if (!core) return NOTHING;
    const now = this.#clock();
    const s = this.#snapshot;
    let lifecycle = null;
    try {
      lifecycle = Object.freeze(core.lifecycle(now));
    } catch {
      // a snapshot without a subscription the core can read: no lifecycle to show
    }
    this.#view = Object.freeze({
      plan: core.plan,
      catalog: core.catalog,
      usage: Object.freeze(core.usage(now).map(Object.freeze)),
      subscription: s?.subscription ?? null,
      lifecycle,
      asOf: typeof s?.as_of === 'string' ? new Date(s.as_of) : null,
      stale: this.#stale || this.#lost,
      live: this.#liveStatus,
    });
    // The view holds for the time it was drawn at: when the clock crosses the plan's end, the
    // grace's end, renewal due or an override's end, listeners hear of a change ('clock').
    clearTimeout(this.#timer);
    const next = core.nextChange(now);
    if (next !== null && !this.#closed) {
      this.#timer = setTimeout(() => this.#emit('clock'), Math.min(next - now + 1, 2 ** 31 - 1));
      this.#timer.unref?.(); // Node: never keeps a process alive
    }
    return this.#view;
  }

  /** Stops the live stream or the polling (the view stays as it is). */
  close() {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#stopLive?.();
    this.#stopLive = null;
    this.#setLive('off');
  }

  // Every `now` below defaults to options.clock (Date.now).
  check(feature, n = 1, now = this.#clock()) {
    return this.#coreOrThrow().check(feature, n, now);
  }

  usage(now = this.#clock()) {
    return this.#coreOrThrow().usage(now);
  }

  usageAfterUpgrade(plan, now = this.#clock()) {
    return this.#coreOrThrow().usageAfterUpgrade(plan, now);
  }

  upgradeOptions(feature, n = 1, now = this.#clock()) {
    return this.#coreOrThrow().upgradeOptions(feature, n, now);
  }

  canBuy(plan, now = this.#clock()) {
    return this.#coreOrThrow().canBuy(plan, now);
  }

  /** The subscription at `now`, recomputed locally from the last one the server sent (Core.lifecycle). */
  lifecycle(now = this.#clock()) {
    return this.#coreOrThrow().lifecycle(now);
  }

  /** What paying for `plan` at `now` costs, as the server will charge it (Core.quote). */
  quote(plan, now = this.#clock()) {
    return this.#coreOrThrow().quote(plan, now);
  }

  /** GET /billing/subscription/: the subscription as the server has it now; the local view takes it. */
  async subscription() {
    const answer = await this.#call('GET', 'billing/subscription/');
    this.#takeSubscription(answer?.subscription);
    return answer?.subscription ?? null;
  }

  /**
   * POST /billing/subscription/: schedules a switch to a cheaper `plan` or a cancel for the
   * period's end, or undoes it (`change`: 'switch' | 'cancel' | 'undo'). Resolves with the
   * subscription after it (the local view takes it); a refusal rejects with the server's
   * SimaError (409 conflict with its reason, 400 invalid_plan / validation_error).
   */
  async changeSubscription({ change, plan } = {}) {
    if (!CHANGES.includes(change)) throw invalid(`change must be "switch", "cancel" or "undo", got ${String(change)}`);
    if (change === 'switch' ? typeof plan !== 'string' || plan === '' : plan !== undefined) {
      throw invalid(change === 'switch' ? 'plan must be a plan code for a switch' : 'plan is only for a switch');
    }
    const answer = await this.#call('POST', 'billing/subscription/', change === 'switch' ? { change, plan } : { change });
    this.#takeSubscription(answer?.subscription);
    return answer?.subscription ?? null;
  }

  /** Counts locally (optimistic; a negative n releases an allocation) and tells listeners. */
  record(feature, n = 1) {
    this.#coreOrThrow().record(feature, n);
    this.#local = true;
    this.#emit('record');
  }

  /**
   * Creates something that counts against `feature` (e.g. POST /invoices/): refused locally,
   * without a request, when the core says no; otherwise sent, and counted once the server
   * answers 2xx. A 403 from the server overrides the local view. Returns the server's body.
   */
  async create(feature, path, body) {
    const kind = this.#kindOf(feature);
    if (kind !== 'metered' && kind !== 'allocation') throw invalid(`only what is counted is created: "${feature}" is ${kind}`);
    const decision = this.check(feature, 1);
    if (!decision.allowed) throw new LimitReachedError(decision);
    const answer = await this.request('POST', path, body);
    this.record(feature, 1);
    return answer;
  }

  /**
   * Deletes something that holds an allocation (e.g. DELETE /team-members/7/): sent, and on
   * the server's 204 released locally, so the bar drops at once. `feature` must be an
   * allocation of the catalog. A 404 (missing, or another organization's) is a SimaError.
   */
  async remove(feature, path) {
    const kind = this.#kindOf(feature);
    if (kind !== 'allocation') throw invalid(`only an allocation can be removed: "${feature}" is ${kind}`);
    if (typeof path !== 'string' || path === '') throw invalid('path must be a non-empty string');
    await this.request('DELETE', path);
    try {
      this.#core.record(feature, -1);
      this.#local = true;
    } catch {
      await this.refresh(); // the local count was stale (already 0): take the server's
      return;
    }
    this.#emit('record');
  }

  /**
   * POST /usage/{feature}/: meters an integrator's action; the server's count wins. A negative
   * quantity releases an allocation; a switch or a value is answered (allowed or a 403), not
   * counted.
   */
  async meter(feature, quantity = 1, idempotencyKey) {
    if (typeof feature !== 'string' || feature === '') throw invalid('feature must be a non-empty string');
    if (!Number.isInteger(quantity)) throw invalid(`quantity must be a whole number, got ${String(quantity)}`);
    if (quantity < 0 && this.#core && this.#kindOf(feature) === 'metered') {
      throw invalid('a metered feature cannot be released');
    }
    const body = { quantity };
    if (idempotencyKey !== undefined) body.idempotency_key = idempotencyKey;
    return this.request('POST', `usage/${encodeURIComponent(feature)}/`, body);
  }

  /**
   * Starts buying `plan`: POST /billing/khalti/init/ (or esewa). Returns the server's answer;
   * for Khalti send the user to `payment_url`, for eSewa POST `fields` to `form_url`. Its
   * `amount_paisa` and `amount_breakdown` are what quote(plan) showed (the server prices it).
   */
  async startUpgrade(plan, { provider = 'khalti' } = {}) {
    if (typeof plan !== 'string' || plan === '') throw invalid('plan must be a non-empty string');
    if (!PROVIDERS[provider]) throw invalid(`provider must be "khalti" or "esewa", got ${String(provider)}`);
    return this.request('POST', `billing/${provider}/init/`, { plan });
  }

  /** GET /billing/payments/{id}/. A payment seen as SUCCESS re-reads the usage (new plan). */
  async payment(id) {
    const answer = await this.request('GET', `billing/payments/${encodeURIComponent(String(id))}/`);
    if (answer?.status === 'SUCCESS' && answer.plan && answer.plan !== this.#core?.plan) await this.refresh();
    return answer;
  }

  /**
   * POST /billing/{provider}/verify/. Returns the decision as the server states it: success,
   * pending (202) or failed (400 payment_failed) are answers, not errors.
   */
  async verifyPayment(id, { pidx, provider = 'khalti' } = {}) {
    if (!PROVIDERS[provider]) throw invalid(`provider must be "khalti" or "esewa", got ${String(provider)}`);
    const body = { payment_id: id };
    if (pidx !== undefined) body.pidx = pidx;
    let answer;
    try {
      answer = await this.request('POST', `billing/${provider}/verify/`, body);
    } catch (e) {
      if (e instanceof SimaError && e.code === 'payment_failed') return e.body;
      throw e;
    }
    if (answer?.status === 'SUCCESS') await this.refresh();
    return answer;
  }

  /**
   * DELETE /sessions/current/: ends this client's browser session on the server (log out).
   * Resolves once the session is over, also when it was already (401: ended or expired);
   * other failures reject. Calls after it are unauthorized until a new token is given.
   */
  async endSession() {
    this.close();
    this.#forget(); // the next person at this browser does not see this one's usage first
    try {
      await this.#call('DELETE', 'sessions/current/');
    } catch (e) {
      if (!(e instanceof SimaError && e.status === 401)) throw e;
    }
  }

  /**
   * Any authorized JSON call to sima-server. Resolves with the parsed body of a 2xx answer;
   * rejects with a SimaError carrying the server's `code` (LimitReachedError for 403
   * limit_reached, after taking the server's count into the local view).
   */
  async request(method, path, body) {
    const answer = await this.#call(method, path, body);
    if (answer && typeof answer === 'object' && this.#core && typeof answer.feature === 'string' &&
        typeof answer.used === 'number' && typeof answer.plan === 'string') {
      this.#sync(() => this.#core.applyLimitReached({ ...answer, current: answer.used }), 'usage');
    }
    return answer;
  }

  /**
   * Calls `listener({type: 'change', reason})` after every change of the local view:
   * reason is 'load', 'usage', 'record', 'limit' (a server 403 overrode it), 'subscription'
   * (a subscription answer replaced the local one), 'stored' (drawn from a persisted
   * snapshot), 'live' (the server pushed a change), 'status' (`stale` or `live` changed) or
   * 'clock' (the time crossed an end that changes the answers: the plan's, the grace's, an
   * override's).
   * Returns a function that unsubscribes.
   */
  subscribe(listener) {
    if (typeof listener !== 'function') throw invalid('listener must be a function');
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // A fresh catalog and usage answer (load): a new core over both; a live event newer than
  // this answer (it can overtake the load on a returning visit) keeps its usage.
  async #takeFresh(plans, usage) {
    const held = this.#snapshot;
    const [heldMs] = versionOf(held?.version);
    const [ms] = versionOf(usage?.version);
    if (!this.#stale && held?.org_id === usage?.org_id && heldMs !== null && ms !== null && heldMs > ms) usage = held;
    this.#core = await createCore(plans, usage, this.#initOptions);
    this.#plans = plans;
    this.#snapshot = usage;
    this.#stale = this.#lost = this.#local = false;
    this.#store();
    this.#emit('load');
    this.#startLive();
  }

  // A usage answer (refresh, a live event, a poll) unless it is older than the one held
  // (docs/api.md: a version's milliseconds order answers; an equal hash is the same state) or
  // another organization's.
  #takeUsage(usage, reason) {
    const held = this.#snapshot;
    if (!usage || typeof usage !== 'object' || !this.#core) return;
    if (held?.org_id && usage.org_id && usage.org_id !== held.org_id) return;
    const [ms, hash] = versionOf(usage.version);
    const [heldMs, heldHash] = versionOf(held?.version);
    if (ms !== null && heldMs !== null) {
      if (ms < heldMs) return;
      if (hash === heldHash && !this.#local) {
        this.#snapshot = { ...held, as_of: usage.as_of, version: usage.version };
        this.#store();
        if (this.#stale || this.#lost) {
          this.#stale = this.#lost = false;
          this.#emit('status');
        }
        return;
      }
    }
    try {
      this.#core.setUsage(usage);
    } catch {
      return; // a shape this catalog does not know (a new feature): the next load takes it
    }
    this.#snapshot = usage;
    this.#stale = this.#lost = this.#local = false;
    this.#store();
    this.#emit(reason);
  }

  #startLive() {
    const org = this.#snapshot?.org_id;
    if (!this.#liveWanted || this.#closed || typeof org !== 'string' || org === this.#liveOrg) return;
    this.#stopLive?.();
    this.#liveOrg = org;
    this.#setLive('connecting');
    this.#stopLive = startLive({
      url: new URL(`events/${encodeURIComponent(org)}/`, this.#base).href,
      auth: async () => `Bearer ${await this.#tokenNow()}`,
      fetch: this.#fetch,
      poll: () => this.#call('GET', 'billing/usage/'),
      apply: (usage) => this.#takeUsage(usage, 'live'),
      status: (s) => this.#setLive(s),
      refreshInterval: this.#refreshInterval,
      channel: `sima-live:${this.#base}:${org}`,
    });
  }

  #setLive(status) {
    if (status === this.#liveStatus) return;
    if (this.#liveStatus === 'open') this.#lost = true; // until the next answer says what was missed
    this.#liveStatus = status;
    this.#emit('status');
  }

  // Persistence: the catalog and the usage answer (org, plan, counts: nothing secret, never
  // the token) under sima:v1:<baseUrl>. Storage errors (quota, private mode) are ignored.
  get #key() {
    return `sima:v1:${this.#base}`;
  }

  #store() {
    const s = this.#snapshot;
    try {
      this.#storage?.setItem(this.#key, JSON.stringify({ plans: this.#plans, usage: s, as_of: s?.as_of ?? null, version: s?.version ?? null }));
    } catch {
      // full or refused: the next visit loads from the network
    }
  }

  #readStored() {
    try {
      const v = JSON.parse(this.#storage?.getItem(this.#key) ?? 'null');
      if (v?.plans && typeof v.plans === 'object' && v.usage && typeof v.usage === 'object') return v;
    } catch {
      // corrupt: ignored (and replaced by the next answer)
    }
    return null;
  }

  #forget() {
    try {
      this.#storage?.removeItem(this.#key);
    } catch {
      // nothing to do
    }
  }

  async #tokenNow() {
    return typeof this.#token === 'function' ? this.#token() : this.#token;
  }

  async #call(method, path, body) {
    const url = new URL(path.replace(/^\/+/, ''), this.#base);
    const token = await this.#tokenNow();
    const init = { method, headers: { Accept: 'application/json', Authorization: `Bearer ${token}` } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await this.#fetch(url.href, init);
    } catch (e) {
      throw new SimaError('network_error', `sima: ${method} ${url.pathname} failed: ${e?.message ?? e}`, { cause: e });
    }
    const text = await response.text();
    let data = null;
    if (text !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        throw new SimaError('invalid_response', `sima: ${method} ${url.pathname} answered ${response.status} with a body that is not JSON`, { status: response.status });
      }
    }
    if (response.ok) return data;
    const code = typeof data?.code === 'string' ? data.code : `http_${response.status}`;
    if (response.status === 403 && code === 'limit_reached' && data) {
      if (this.#core) this.#sync(() => this.#core.applyLimitReached(data), 'limit');
      throw new LimitReachedError(data, { status: 403, body: data });
    }
    const message = typeof data?.error === 'string' ? data.error : `${method} ${url.pathname} answered ${response.status}`;
    throw new SimaError(code, message, { status: response.status, body: data });
  }

  #takeSubscription(subscription) {
    if (!subscription || typeof subscription !== 'object' || !this.#core) return;
    if (this.#snapshot) this.#snapshot = { ...this.#snapshot, subscription };
    this.#sync(() => this.#core.setSubscription(subscription), 'subscription');
  }

  #sync(apply, reason) {
    try {
      apply();
      this.#local = true;
    } catch {
      // A server answer the local catalog does not know (e.g. a new feature): refresh later.
      return;
    }
    this.#emit(reason);
  }

  // The kind of a catalog feature; unknown_feature when the catalog has none such.
  #kindOf(feature) {
    const f = this.#coreOrThrow().catalog.features.find((x) => x.key === feature);
    if (!f) throw new SimaError('unknown_feature', `unknown feature "${String(feature)}"`);
    return f.kind;
  }

  #coreOrThrow() {
    if (!this.#core) throw new SimaError('not_loaded', 'sima: call load() (or use createClient) first');
    return this.#core;
  }

  #emit(reason) {
    this.#view = null;
    const event = { type: 'change', reason };
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (e) {
        queueMicrotask(() => { throw e; }); // a broken listener must not break the others
      }
    }
  }
}
