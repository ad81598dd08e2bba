// Types of the sima package (hand-written; the runtime is src/*.js over the wasm core).
// Numbers follow sima-server's JSON: -1 is unlimited, counts are whole numbers.

/** How the core is loaded. Only the first call to init() (or createCore/createClient) counts. */
export interface InitOptions {
  /** Where to find `sima_core.wasm`; `prefix` is the URL of the package's dist/ folder. */
  locateFile?: (file: string, prefix: string) => string;
  /** The bytes of `sima_core.wasm`, if you already have them. */
  wasmBinary?: ArrayBuffer | Uint8Array;
}

/** Loads the WebAssembly core once; later calls return the same promise. */
export function init(options?: InitOptions): Promise<void>;

export type Enforcement = 'hard' | 'soft';
export type UsageStatus = 'ok' | 'warning' | 'full' | 'over';

export interface CatalogFeature {
  key: string;
  label: string;
  enforcement: Enforcement;
}

export interface CatalogPlan {
  code: string;
  name: string;
  /** Whole rupees. */
  price: number;
  price_paisa: number;
  /** Per feature key; -1 = unlimited. */
  limits: Record<string, number>;
}

/** The JSON of GET /billing/plans/. */
export interface Catalog {
  currency: string;
  period_days: number;
  features: CatalogFeature[];
  /** Cheapest first. */
  plans: CatalogPlan[];
}

/** The JSON of GET /billing/usage/ (only `plan` and `usage[*].used` are read). */
export interface UsageSnapshot {
  plan: string;
  usage: Record<string, { used: number; [field: string]: unknown } | number>;
  org_id?: string;
  subscription?: { plan: string; is_active: boolean; start_date: string; end_date: string | null };
  period?: { start: string; end: string };
  [field: string]: unknown;
}

/** The cheapest plan that would allow the action. */
export interface Upgrade {
  plan: string;
  /** -1 = unlimited. */
  limit: number;
  /** Whole rupees. */
  price: number;
  price_paisa: number;
}

export interface Decision {
  allowed: boolean;
  feature: string;
  /** The plan the decision was made on. */
  plan: string;
  /** Used before the action. */
  current: number;
  requested: number;
  /** -1 = unlimited. */
  limit: number;
  /** Left before the action, never negative; null = unlimited. */
  remaining: number | null;
  /** Soft feature: allowed, but the action takes usage past the limit. */
  over: boolean;
  /** For a refusal (or a soft feature going over): the cheapest plan that allows it. */
  upgrade: Upgrade | null;
}

/** One row of a usage panel, e.g. text "8/10 (80%)", "450/100 (450%)", "12/∞". */
export interface UsageRow {
  feature: string;
  label: string;
  enforcement: Enforcement;
  used: number;
  /** -1 = unlimited. */
  limit: number;
  /** floor(used * 100 / limit); null when unlimited. */
  percent: number | null;
  status: UsageStatus;
  text: string;
}

export interface UpgradeOption {
  plan: string;
  name: string;
  /** This plan's limit for the feature; -1 = unlimited. */
  limit: number;
  price: number;
  price_paisa: number;
  /** Whether this plan allows current + n. */
  allows: boolean;
  /** The one plan the core suggests (the cheapest that allows it). */
  suggested: boolean;
}

/**
 * What buying a plan now would do: the core's CanBuy / Activate on the subscription of the
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
  /** Buying renews the active plan: its end moves `period_days` on and usage is kept. False: a new period starts now and usage resets. */
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
  current: number;
  limit: number;
  plan: string;
  upgrade: Upgrade | null;
}

/** JSON text, or the parsed object. */
export type JsonInput<T> = string | T;

/** Creates an offline core. Without a snapshot it starts on FREE with nothing used. */
export function createCore(
  catalog: JsonInput<Catalog>,
  usage?: JsonInput<UsageSnapshot> | null,
  options?: InitOptions,
): Promise<Core>;

/** sima's rules over one catalog and one usage snapshot. Made by createCore(). */
export class Core {
  private constructor();
  /** The plan decisions are made on. */
  readonly plan: string;
  /** The catalog as the core understood it, frozen; plans cheapest first. */
  readonly catalog: Readonly<Catalog>;
  /** May `n` (default 1) more of `feature` be done now? A refusal is `allowed: false`. */
  check(feature: string, n?: number): Decision;
  /** One row per feature, in catalog order. */
  usage(): UsageRow[];
  /** The same counts against `plan`'s limits. */
  usageAfterUpgrade(plan: string): UsageRow[];
  /** Every plan pricier than the current one, cheapest first. */
  upgradeOptions(feature: string, n?: number): UpgradeOption[];
  /** May `plan` be bought at `now` (default: the clock)? A refusal is `ok: false`, not an error. */
  canBuy(plan: string, now?: Date | number): BuyDecision;
  /** Counts `n` (default 1) more locally, after the server accepted. */
  record(feature: string, n?: number): void;
  /** Replaces plan and counts with a GET /billing/usage/ answer. */
  setUsage(snapshot: JsonInput<UsageSnapshot>): void;
  /** Sets one count. */
  setUsed(feature: string, used: number): void;
  /** Takes plan and count from a 403 limit_reached body. */
  applyLimitReached(body: LimitReachedBody): void;
}

export interface ClientOptions extends InitOptions {
  /** sima-server's base URL, e.g. "https://api.example.com/". */
  baseUrl: string;
  /** A session token (st_...), or a function that returns a fresh one. */
  token: string | (() => string | Promise<string>);
  /** Defaults to globalThis.fetch. */
  fetch?: typeof fetch;
}

export type ChangeReason = 'load' | 'usage' | 'record' | 'limit';
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

/** A Core kept in step with sima-server. The server's answers always win. */
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
  check(feature: string, n?: number): Decision;
  usage(): UsageRow[];
  usageAfterUpgrade(plan: string): UsageRow[];
  upgradeOptions(feature: string, n?: number): UpgradeOption[];
  canBuy(plan: string, now?: Date | number): BuyDecision;
  record(feature: string, n?: number): void;
  /** Refuses locally (LimitReachedError, status null) or POSTs and counts on success. */
  create<T = unknown>(feature: string, path: string, body: unknown): Promise<T>;
  /** POST /usage/{feature}/. */
  meter(feature: string, quantity?: number, idempotencyKey?: string): Promise<{ allowed: boolean; feature: string; used: number; limit: number; plan: string }>;
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
  constructor(decision: { feature: string; current: number; limit: number; plan: string; upgrade?: Upgrade | null }, extra?: { status?: number | null; body?: unknown });
  readonly code: 'limit_reached';
  readonly feature: string;
  readonly current: number;
  readonly limit: number;
  readonly plan: string;
  readonly upgrade: Upgrade | null;
}
