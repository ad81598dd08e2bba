// Types of the sima package (hand-written; the runtime is src/*.js over the wasm core).
// Numbers follow sima-server's JSON: -1 is unlimited, counts are whole numbers; a switch's
// limit (a boolean feature) is true/false.

/**
 * How the core is loaded. Only the first call to init() (or createCore/createClient) counts.
 * Without options the browser entry fetches `sima_core.wasm` beside itself (bundlers emit it
 * as an asset) and falls back to a copy embedded in a lazily imported module; the Node entry
 * reads it from the package folder.
 */
export interface InitOptions {
  /** Where `sima_core.wasm` is, e.g. `import wasmUrl from 'sima/sima_core.wasm?url'` (Vite). */
  wasmUrl?: string | URL;
  /** Where to find `sima_core.wasm`; `prefix` is the URL of the package's dist/ folder. */
  locateFile?: (file: string, prefix: string) => string;
  /** The bytes of `sima_core.wasm`, if you already have them. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** The core already compiled (e.g. by WebAssembly.compileStreaming of your own fetch). */
  module?: WebAssembly.Module | Promise<WebAssembly.Module>;
}

/**
 * Starts loading the WebAssembly core at once (fetch + streaming compile) and resolves when it
 * is ready; later calls return the same promise. Safe at module top level, before any token:
 * `init();` in the page's first module overlaps the download with the session request.
 */
export function init(options?: InitOptions): Promise<void>;

export type Enforcement = 'hard' | 'soft';
export type UsageStatus = 'ok' | 'warning' | 'full' | 'over';
/**
 * What a feature is: `metered` (counted per period, reset at each period and when a plan
 * starts), `allocation` (live things, never reset; released on delete), `boolean` (a switch,
 * on or off per plan), `value` (a number per plan the app enforces, e.g. max upload MB).
 */
export type FeatureKind = 'metered' | 'allocation' | 'boolean' | 'value';

/** A plan's limit for a feature: a number (-1 = unlimited), or true/false for a switch. */
export type LimitValue = number | boolean;

export interface CatalogFeature {
  key: string;
  label: string;
  kind: FeatureKind;
  /** Switches and values are always hard. */
  enforcement: Enforcement;
  /** Shown after numbers ("seats", "MB"); "" when none. */
  unit: string;
}

export interface CatalogPlan {
  code: string;
  name: string;
  /** Whole rupees. */
  price: number;
  price_paisa: number;
  /** Per feature key; -1 = unlimited; true/false for a switch. */
  limits: Record<string, LimitValue>;
}

/** The JSON of GET /billing/plans/. */
export interface Catalog {
  currency: string;
  period_days: number;
  /** Days before a paid period's end on which a renewal reminder is due, largest first ([7, 3, 1] by default); the first is where "renewal_due" starts. */
  renewal_notice_days: number[];
  /** Days a paid plan still applies after its end ("grace"; 3 by default). */
  grace_days: number;
  features: CatalogFeature[];
  /** Cheapest first. */
  plans: CatalogPlan[];
}

/**
 * A per-organization override: replaces the plan's limit for one feature while in force
 * (only on `plan` when set; before `until` when set).
 */
export interface Override {
  /** A count or -1 (unlimited); true/false for a switch. */
  limit: LimitValue;
  /** Only while this plan is in force; null = whatever the plan. */
  plan: string | null;
  /** In force before this time (RFC 3339); null = until cleared. */
  until: string | null;
}

/** An override as GET /billing/usage/ lists it. */
export interface SnapshotOverride extends Override {
  feature: string;
}

/**
 * Where a subscription stands: `free` (on FREE), `trialing` (a trial before its end), `active`
 * (paid), `renewal_due` (paid, from `renewal_due_from` to the end: pay to renew), `grace` (after
 * the end, until `grace_until`: the plan still applies), `canceled` (ends at the period's end),
 * `expired` (past the end and the grace: FREE applies).
 */
export type SubscriptionState = 'free' | 'trialing' | 'active' | 'renewal_due' | 'grace' | 'canceled' | 'expired';

/** A change scheduled for the period's end: a cancel (FREE then) or a switch to a cheaper plan. */
export type ScheduledChange = { kind: 'cancel'; plan: null } | { kind: 'switch'; plan: string };

/**
 * The subscription as sima-server sends it in every answer (usage, GET/POST
 * /billing/subscription/) and as Core.lifecycle(now) computes it. Times are RFC 3339 (UTC).
 */
export interface Subscription {
  /** The plan in force (a plan in grace still applies; FREE once expired). */
  plan: string;
  /** A paid or trial plan applies (trialing, active, renewal_due, grace, canceled). */
  is_active: boolean;
  start_date: string;
  /** The period's end; null = never ends (FREE). */
  end_date: string | null;
  state: SubscriptionState;
  /** The plan paid for or granted (stays after expiry). */
  subscribed_plan: string;
  trial: boolean;
  /** The plan a renewal buys (a scheduled switch's plan, else the plan); null when it does not renew. */
  renewal_plan: string | null;
  /** When renewal_due starts; null for a trial, a canceled plan, FREE. */
  renewal_due_from: string | null;
  /** When the grace ends; null without grace (trial, canceled, FREE). */
  grace_until: string | null;
  /** When FREE takes (or took) over unless paid; null for FREE. */
  ends_at: string | null;
  scheduled_change: ScheduledChange | null;
}

/** One line of a quote, as Khalti's `amount_breakdown` carries it: paisa, a credit negative. */
export interface QuoteLine {
  label: string;
  amount: number;
}

/**
 * What paying for a plan costs now, as sima-server will charge it (sima::QuotePayment, never
 * below the gateway minimum of Rs 10): an upgrade over a paid plan is its price minus the unused
 * part of the paid one (pro rata by time, rounded down to whole rupees), and its new period
 * starts at payment; anything else (a first plan, a renewal) is the plan's price, a renewal's
 * period following the old end.
 */
export interface Quote {
  plan: string;
  /** The plan credited; "FREE" when nothing is. */
  from_plan: string;
  /** Whole rupees. */
  price: number;
  price_paisa: number;
  /** price_paisa - amount_paisa, >= 0. */
  credit_paisa: number;
  /** What the payment is for, whole rupees (fraction dropped). */
  amount: number;
  amount_paisa: number;
  /** Of the paid plan at `now` (0 without a credit). */
  unused_seconds: number;
  /** The period the payment buys. */
  start_date: string;
  end_date: string;
  /** "PRO, 30 days" at the price, then "Credit: unused BASIC until 2026-12-15" (negative) when there is one; sums to amount_paisa. */
  amount_breakdown: QuoteLine[];
}

/** The JSON of GET /billing/usage/ (`plan`, `usage[*].used`, `subscription` and `overrides` are read). */
export interface UsageSnapshot {
  plan: string;
  usage: Record<string, { used: number; [field: string]: unknown } | number>;
  /** Every override of the organization, also those not in force now. */
  overrides?: SnapshotOverride[];
  org_id?: string;
  /** The lifecycle fields are optional in input (an older server sends only the first four). */
  subscription?: Pick<Subscription, 'plan' | 'start_date' | 'end_date'> & Partial<Subscription>;
  period?: { start: string; end: string };
  /** When the server read it (RFC 3339 with milliseconds); sima-server sends it from the live-usage release on. */
  as_of?: string;
  /** "<as_of in ms>-<16 hex>": equal hex, equal state; a smaller ms part is an older answer. */
  version?: string;
  [field: string]: unknown;
}

/** The cheapest plan that would allow the action (for a switch: that turns it on). */
export interface Upgrade {
  plan: string;
  /** Its limit: -1 = unlimited; true for a switch. */
  limit: LimitValue;
  /** Whole rupees. */
  price: number;
  price_paisa: number;
}

/**
 * What check(feature, n) decides: for a count, n more; for a switch, whether it is on (n
 * ignored, requested 1); for a value, whether n fits.
 */
export interface Decision {
  allowed: boolean;
  feature: string;
  kind: FeatureKind;
  /** The plan the decision was made on: the plan in force at `now`. */
  plan: string;
  /** Used before the action (metered, allocation); 0 for switches and values. */
  current: number;
  requested: number;
  /** The effective limit: -1 = unlimited; true/false for a switch. */
  limit: LimitValue;
  /** Left before the action, never negative; null = unlimited, and always for switches and values. */
  remaining: number | null;
  /** Soft feature: allowed, but the action takes usage past the limit. */
  over: boolean;
  /** The organization's override in force for this feature (its limit is `limit`), or null. */
  override: Override | null;
  /** For a refusal (or a soft feature going over): the cheapest pricier plan that allows it. */
  upgrade: Upgrade | null;
}

/**
 * One row of a usage panel. `text`: "8/10 (80%)", "450/100 (450%)", "12/∞", "1/10 seats (10%)"
 * for counts; "On"/"Off" for a switch; "25 MB"/"Unlimited" for a value.
 */
export interface UsageRow {
  feature: string;
  kind: FeatureKind;
  label: string;
  enforcement: Enforcement;
  /** Metered and allocations; 0 for switches and values. */
  used: number;
  /** The effective limit: -1 = unlimited; true/false for a switch. */
  limit: LimitValue;
  /** floor(used * 100 / limit); null when unlimited, and for switches and values. */
  percent: number | null;
  status: UsageStatus;
  text: string;
  /** "seats", "MB"; "" when none. */
  unit: string;
  /** The override in force for this feature, or null. */
  override: Override | null;
  /** A switch that is off: the cheapest pricier plan that turns it on; else null. */
  unlock: Upgrade | null;
  /** Why a hard feature is over its limit, e.g. "11 in use, 10 allowed on Free: remove 1 to add more"; "" otherwise. */
  note: string;
}

export interface UpgradeOption {
  plan: string;
  name: string;
  /** This plan's effective limit for the feature; -1 = unlimited; true/false for a switch. */
  limit: LimitValue;
  price: number;
  price_paisa: number;
  /** Whether this plan allows the action (as check() decides it). */
  allows: boolean;
  /** The one plan the core suggests (the cheapest that allows it). */
  suggested: boolean;
}

/**
 * What buying a plan now would do: the core's ActivateWithGrace on the subscription of the
 * last usage snapshot, as sima-server decides POST /billing/{provider}/init/.
 */
export interface BuyDecision {
  /** The plan may be bought now. */
  ok: boolean;
  plan: string;
  /** Why not: 'invalid_plan' (unknown or free plan) or 'conflict' (a pricier plan is active); null when ok. */
  code: 'invalid_plan' | 'conflict' | (string & {}) | null;
  /** The core's reason, e.g. "plan PRO is active until 2026-12-01T00:00:00Z; the lower plan BASIC cannot be bought while it lasts"; null when ok. */
  message: string | null;
  /** Buying renews the plan (active, renewal due, in grace, or a trial's plan): its end moves `period_days` on from the old end and usage is kept. False: a new period starts now and usage resets. */
  renew: boolean;
  /** When the plan would end after buying it (RFC 3339, UTC); null when refused. */
  end_date: string | null;
}

export interface RupeeFormatOptions {
  /** "2,700" rather than "2700". Default true. */
  thousands?: boolean;
  /** Decimals always shown: 0 ("1,900"), 1 ("1,900.0"), 2 ("1,900.00"). Default 0; paisa are never dropped. */
  minDecimals?: 0 | 1 | 2;
}

/**
 * Paisa as rupee text by the core's sima::FormatRupees: 190000 → "1,900", 13350 → "133.5".
 * Synchronous: the core must be loaded (await init(), createCore() or createClient() first).
 */
export function formatRupees(paisa: number, options?: RupeeFormatOptions): string;

/** The 403 limit_reached body of sima-server. */
export interface LimitReachedBody {
  error?: string;
  code?: 'limit_reached';
  feature: string;
  kind?: FeatureKind;
  current: number;
  /** false for a switch. */
  limit: LimitValue;
  plan: string;
  override?: Override | null;
  upgrade: Upgrade | null;
}

/** The answer of POST /usage/{feature}/ (meter). */
export interface MeterResult {
  allowed: boolean;
  feature: string;
  kind: FeatureKind;
  /** The count after metering (metered, allocation); 0 for switches and values. */
  used: number;
  limit: LimitValue;
  plan: string;
  override: Override | null;
  [field: string]: unknown;
}

/** JSON text, or the parsed object. */
export type JsonInput<T> = string | T;

/** Creates an offline core. Without a snapshot it starts on FREE with nothing used. */
export function createCore(
  catalog: JsonInput<Catalog>,
  usage?: JsonInput<UsageSnapshot> | null,
  options?: InitOptions,
): Promise<Core>;

/** A time: a Date or milliseconds since 1970. Every `now` defaults to the clock. */
export type TimeInput = Date | number;

/** sima's rules over one catalog and one usage snapshot. Made by createCore(). */
export class Core {
  private constructor();
  /** The plan of the last snapshot (decisions use the plan in force at their `now`). */
  readonly plan: string;
  /** The catalog as the core understood it, frozen; plans cheapest first. */
  readonly catalog: Readonly<Catalog>;
  /**
   * May `n` (default 1) of `feature` be done at `now`: n more of a count, a switch on, a value
   * of n (n >= 0) fitting? A refusal is `allowed: false`.
   */
  check(feature: string, n?: number, now?: TimeInput): Decision;
  /** One row per feature, in catalog order, at `now`. */
  usage(now?: TimeInput): UsageRow[];
  /** What the rows would be right after buying `plan` at `now`: allocations kept, a new period's metered counts at 0. */
  usageAfterUpgrade(plan: string, now?: TimeInput): UsageRow[];
  /** Every plan pricier than the one in force, cheapest first. */
  upgradeOptions(feature: string, n?: number, now?: TimeInput): UpgradeOption[];
  /** May `plan` be bought at `now` (default: the clock)? A refusal is `ok: false`, not an error. */
  canBuy(plan: string, now?: TimeInput): BuyDecision;
  /**
   * The subscription at `now`, recomputed from the last one the server sent: a page left open
   * crosses renewal_due, grace and expiry without a request.
   */
  lifecycle(now?: TimeInput): Subscription;
  /**
   * What paying for `plan` at `now` costs, as the server will charge it. Throws a SimaError
   * ('conflict', 'invalid_plan') when it cannot be bought now (canBuy() says why without throwing).
   */
  quote(plan: string, now?: TimeInput): Quote;
  /** Replaces the subscription with the server's (GET/POST /billing/subscription/); counts stay. */
  setSubscription(subscription: JsonInput<UsageSnapshot['subscription'] & object>): void;
  /** Counts `n` (default 1) more locally, after the server accepted; a negative n releases an allocation. */
  record(feature: string, n?: number): void;
  /** Replaces plan, subscription, counts and overrides with a GET /billing/usage/ answer. */
  setUsage(snapshot: JsonInput<UsageSnapshot>): void;
  /** Sets one count (metered or allocation). */
  setUsed(feature: string, used: number): void;
  /** Takes plan and (for a count) the count from a 403 limit_reached body. */
  applyLimitReached(body: LimitReachedBody): void;
  /** When (ms) answers next change without a new snapshot (an end, renewal due, grace, an override's end); null if never. */
  nextChange(now?: TimeInput): number | null;
}

export interface ClientOptions extends InitOptions {
  /** sima-server's base URL, e.g. "https://api.example.com/". */
  baseUrl: string;
  /** A session token (st_...), or a function that returns a fresh one. */
  token: string | (() => string | Promise<string>);
  /** Defaults to globalThis.fetch. */
  fetch?: typeof fetch;
  /** The time in milliseconds that every `now` of the client defaults to; default Date.now. */
  clock?: () => number;
  /**
   * Where the last catalog + usage answer is kept for the next visit (key `sima:v1:<baseUrl>`;
   * never the token): default localStorage in browsers, nothing in Node; false: nowhere; or
   * any Storage-like object. With a stored snapshot createClient resolves once the wasm is
   * ready, `stale` until the server's answer replaces it.
   */
  persist?: boolean | Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /**
   * Keep the view live from GET /events/{org_id}/ (default true in browsers, false in Node):
   * one stream per browser (Web Locks + BroadcastChannel), polling while streaming is not
   * possible.
   */
  live?: boolean;
  /** Milliseconds between polls of GET /billing/usage/ when the stream is not available; default 30000. */
  refreshInterval?: number;
}

/** The state of the live connection: 'off' (live: false, or close()d), 'connecting', 'open', 'polling'. */
export type LiveStatus = 'off' | 'connecting' | 'open' | 'polling';

/**
 * What getSnapshot() returns: frozen, and the same object until something changes (for
 * React's useSyncExternalStore). Before anything is loaded: plan/catalog/lifecycle null,
 * usage [], stale true.
 */
export interface ClientSnapshot {
  readonly plan: string | null;
  readonly catalog: Readonly<Catalog> | null;
  readonly usage: readonly Readonly<UsageRow>[];
  /** The subscription as the server last sent it. */
  readonly subscription: Readonly<UsageSnapshot['subscription']> | null;
  /** The subscription as it stands now, computed locally (lifecycle()). */
  readonly lifecycle: Readonly<Subscription> | null;
  /** When the server read the state shown (null from an older server). */
  readonly asOf: Date | null;
  /** True while the view is a stored snapshot not yet revalidated, or the live stream was lost. */
  readonly stale: boolean;
  readonly live: LiveStatus;
}

export type ChangeReason = 'load' | 'usage' | 'record' | 'limit' | 'subscription' | 'stored' | 'live' | 'status' | 'clock';
export interface ChangeEvent {
  type: 'change';
  reason: ChangeReason;
}

export interface KhaltiInit {
  payment_id: number;
  provider: 'KHALTI';
  plan: string;
  amount: number;
  amount_paisa: number;
  /** The quote's lines as Khalti received them (paisa; a credit negative), summing to amount_paisa. */
  amount_breakdown: QuoteLine[];
  status: string;
  pidx: string;
  payment_url: string;
  expires_at: string;
  [field: string]: unknown;
}

export interface EsewaInit {
  payment_id: number;
  provider: 'ESEWA';
  plan: string;
  amount: number;
  amount_paisa: number;
  amount_breakdown: QuoteLine[];
  status: string;
  form_url: string;
  fields: Record<string, string | number>;
  [field: string]: unknown;
}

export type PaymentStatus = 'PENDING' | 'SUCCESS' | 'FAILED' | 'REFUNDED';

export interface Payment {
  payment_id: number;
  provider: 'KHALTI' | 'ESEWA';
  plan: string;
  amount: number;
  amount_paisa: number;
  status: PaymentStatus;
  amount_breakdown: QuoteLine[];
  reason: string | null;
  reference_id: string | null;
  created_at: string;
  updated_at: string;
  [field: string]: unknown;
}

export interface VerifyResult {
  success: boolean;
  status: PaymentStatus;
  payment_id?: number;
  plan?: string;
  reason?: string;
  retry_after?: number;
  [field: string]: unknown;
}

/** Creates a client and loads plans and usage. */
export function createClient(options: ClientOptions): Promise<SimaClient>;

/**
 * A Core kept in step with sima-server. The server's answers always win. Every method is
 * bound to its client: `const { check, subscribe, getSnapshot } = client` works.
 */
export class SimaClient {
  constructor(options: ClientOptions);
  readonly loaded: boolean;
  readonly plan: string;
  readonly catalog: Readonly<Catalog>;
  /** The last GET /billing/usage/ answer. */
  readonly snapshot: UsageSnapshot | null;
  /** GET /billing/plans/ and /billing/usage/. */
  load(): Promise<void>;
  /** GET /billing/usage/ again. */
  refresh(): Promise<UsageRow[]>;
  check(feature: string, n?: number, now?: TimeInput): Decision;
  usage(now?: TimeInput): UsageRow[];
  usageAfterUpgrade(plan: string, now?: TimeInput): UsageRow[];
  upgradeOptions(feature: string, n?: number, now?: TimeInput): UpgradeOption[];
  canBuy(plan: string, now?: TimeInput): BuyDecision;
  /** The subscription at `now` (default: options.clock), recomputed locally (Core.lifecycle). */
  lifecycle(now?: TimeInput): Subscription;
  /** What paying for `plan` costs at `now`, as the server will charge it (Core.quote). */
  quote(plan: string, now?: TimeInput): Quote;
  /** GET /billing/subscription/: the server's subscription now; the local view takes it. */
  subscription(): Promise<Subscription>;
  /**
   * POST /billing/subscription/: schedule a switch to a cheaper plan or a cancel for the
   * period's end, or undo it. Resolves with the subscription after; a refusal rejects with the
   * server's SimaError (409 'conflict' with its reason, 400 'invalid_plan' / 'validation_error').
   */
  changeSubscription(change: { change: 'switch'; plan: string } | { change: 'cancel' | 'undo' }): Promise<Subscription>;
  record(feature: string, n?: number): void;
  /** Refuses locally (LimitReachedError, status null) or POSTs and counts on success. */
  create<T = unknown>(feature: string, path: string, body: unknown): Promise<T>;
  /** DELETEs `path` (e.g. "/team-members/7/") and, on 204, releases one of the allocation `feature` locally. */
  remove(feature: string, path: string): Promise<void>;
  /**
   * POST /usage/{feature}/: counts `quantity` (default 1; negative releases an allocation), or
   * asks a switch / a value. A refusal rejects with LimitReachedError.
   */
  meter(feature: string, quantity?: number, idempotencyKey?: string): Promise<MeterResult>;
  startUpgrade(plan: string, options?: { provider?: 'khalti' }): Promise<KhaltiInit>;
  startUpgrade(plan: string, options: { provider: 'esewa' }): Promise<EsewaInit>;
  payment(id: number | string): Promise<Payment>;
  verifyPayment(id: number, options?: { pidx?: string; provider?: 'khalti' | 'esewa' }): Promise<VerifyResult>;
  /**
   * DELETE /sessions/current/ (log out): ends this session token on the server. Resolves when
   * the session is over (also if it already was); a secret key is refused (403 SimaError).
   */
  endSession(): Promise<void>;
  /** Any authorized JSON call; 2xx resolves with the body, anything else rejects with a SimaError. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** Called after every change of the local view. Returns an unsubscribe function. */
  subscribe(listener: (event: ChangeEvent) => void): () => void;
  /** The view as one frozen object, the same until something changes. */
  getSnapshot(): ClientSnapshot;
  /** Stops the live stream or the polling. */
  close(): void;
}

/** Every error sima throws. `code` is the server's code or the core's. */
export class SimaError extends Error {
  constructor(code: string, message: string, extra?: { status?: number | null; body?: unknown; cause?: unknown });
  readonly code: string;
  /** The HTTP status for a server answer; null when decided locally. */
  readonly status: number | null;
  /** The server's error body, if any. */
  readonly body: unknown;
}

/** A hard limit refused the action: locally (status null) or by the server (403). */
export class LimitReachedError extends SimaError {
  constructor(
    decision: { feature: string; kind?: FeatureKind; current: number; requested?: number; limit: LimitValue; plan: string; override?: Override | null; upgrade?: Upgrade | null },
    extra?: { status?: number | null; body?: unknown },
  );
  readonly code: 'limit_reached';
  readonly feature: string;
  readonly kind: FeatureKind;
  readonly current: number;
  /** false for a switch. */
  readonly limit: LimitValue;
  readonly plan: string;
  /** The override in force that set the limit, or null. */
  readonly override: Override | null;
  /** For a switch: the plan that turns it on. */
  readonly upgrade: Upgrade | null;
}
