// The client: keeps an offline Core in step with sima-server (docs/api.md) over fetch.
// The server is the authority: every answer that says something about usage replaces the
// local view, and a 403 limit_reached overrides it.
import { createCore } from './core.js';
import { LimitReachedError, SimaError, invalid } from './errors.js';

const PROVIDERS = { khalti: 'khalti', esewa: 'esewa' };
const CHANGES = ['switch', 'cancel', 'undo'];

/**
 * Creates a client and loads the catalog and the usage snapshot.
 * @param {{baseUrl: string, token: string | (() => string | Promise<string>), fetch?: typeof fetch,
 *          clock?: () => number, locateFile?: (file: string, prefix: string) => string,
 *          wasmBinary?: ArrayBuffer|Uint8Array}} options
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
  #listeners = new Set();

  constructor({ baseUrl, token, fetch: fetchFn, clock, locateFile, wasmBinary } = {}) {
    if (typeof baseUrl !== 'string' || baseUrl === '') throw invalid('baseUrl must be a non-empty string');
    if (typeof token !== 'string' && typeof token !== 'function') throw invalid('token must be a string or a function');
    this.#base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    this.#token = token;
    this.#fetch = fetchFn ?? globalThis.fetch?.bind(globalThis);
    if (typeof this.#fetch !== 'function') throw invalid('no fetch: pass options.fetch');
    if (clock !== undefined && typeof clock !== 'function') throw invalid('clock must be a function returning milliseconds');
    this.#clock = clock ?? Date.now;
    this.#initOptions = { locateFile, wasmBinary };
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

  /** Loads the catalog and the usage snapshot; call again to reload both. */
  async load() {
    const [plans, usage] = await Promise.all([
      this.request('GET', 'billing/plans/'),
      this.#call('GET', 'billing/usage/'),
    ]);
    this.#core = await createCore(plans, usage, this.#initOptions);
    this.#snapshot = usage;
    this.#emit('load');
  }

  /** Re-reads the usage snapshot from the server; returns the usage rows. */
  async refresh() {
    const usage = await this.#call('GET', 'billing/usage/');
    this.#coreOrThrow().setUsage(usage);
    this.#snapshot = usage;
    this.#emit('usage');
    return this.usage();
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
   * reason is 'load', 'usage', 'record', 'limit' (a server 403 overrode it) or 'subscription'
   * (a subscription answer replaced the local one).
   * Returns a function that unsubscribes.
   */
  subscribe(listener) {
    if (typeof listener !== 'function') throw invalid('listener must be a function');
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #call(method, path, body) {
    const url = new URL(path.replace(/^\/+/, ''), this.#base);
    const token = typeof this.#token === 'function' ? await this.#token() : this.#token;
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
