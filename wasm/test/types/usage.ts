// Must compile with `tsc --noEmit -p test/types`: the package's types as a user sees them.
import {
  createClient, createCore, formatRupees, init, LimitReachedError, SimaError,
  type BuyDecision, type Catalog, type ChangeEvent, type Core, type Decision, type FeatureKind, type LimitValue,
  type ClientSnapshot, type LiveStatus, type MeterResult, type Override, type Quote, type SimaClient, type Subscription, type SubscriptionState,
  type UsageRow, type UpgradeOption,
} from '../../src/index.js';

async function offline(catalog: Catalog): Promise<void> {
  await init({ locateFile: (file, prefix) => prefix + file });
  const core: Core = await createCore(catalog, { plan: 'FREE', usage: { invoices: { used: 8 } } });
  const d: Decision = core.check('invoices');
  const n: number | null = d.remaining;
  const upgradeTo: string | undefined = d.upgrade?.plan;
  const rows: UsageRow[] = core.usage();
  const status: 'ok' | 'warning' | 'full' | 'over' = rows[0].status;
  const preview: UsageRow[] = core.usageAfterUpgrade('PRO', new Date());
  const kind: FeatureKind = d.kind;
  const limit: LimitValue = d.limit;
  const deal: Override | null = d.override;
  const until: string | null | undefined = deal?.until;
  const on: boolean = core.check('pdf_export', 1, Date.now()).allowed;
  const fits: boolean = core.check('attachment_mb', 30).allowed;
  const unlockPlan: string | undefined = core.usage(Date.now())[4].unlock?.plan;
  const note: string = rows[0].note;
  const unit: string = core.catalog.features[2].unit;
  core.record('team_members', -1);
  // @ts-expect-error now is a Date or milliseconds
  core.usage('today');
  const options: UpgradeOption[] = core.upgradeOptions('invoices', 2);
  core.record('invoices');
  core.setUsed('invoices', 3);
  core.setUsage('{"plan":"FREE","usage":{}}');
  const plan: string = core.plan;
  const buy: BuyDecision = core.canBuy('PRO');
  const ends: string | null = buy.end_date;
  const renew: boolean = core.canBuy('PRO', new Date()).renew;
  const why: string | null = core.canBuy('BASIC', Date.now()).message;
  const price: string = formatRupees(190000, { minDecimals: 2 });
  const life: Subscription = core.lifecycle(Date.now());
  const state: SubscriptionState = life.state;
  const graceUntil: string | null = life.grace_until;
  const switchTo: string | null | undefined = life.scheduled_change?.plan;
  const q: Quote = core.quote('PRO', new Date());
  const credit: number = q.amount_breakdown[1]?.amount ?? 0;
  const notice: number[] = core.catalog.renewal_notice_days;
  core.setSubscription({ plan: 'PRO', start_date: '2026-11-01T00:00:00Z', end_date: null, scheduled_change: { kind: 'cancel', plan: null } });
  // @ts-expect-error a switch names its plan
  const bad: Subscription['scheduled_change'] = { kind: 'switch', plan: null };
  void [state, graceUntil, switchTo, credit, notice, bad];
  // @ts-expect-error minDecimals is 0, 1 or 2
  formatRupees(100, { minDecimals: 3 });
  // @ts-expect-error now is a Date or milliseconds
  core.canBuy('PRO', '2026-11-10');
  // @ts-expect-error n must be a number
  core.check('invoices', '2');
  // @ts-expect-error the catalog is read-only
  core.catalog.currency = 'USD';
  void [n, upgradeTo, status, preview, options, plan, renew, why, until, price, kind, limit, on, fits, unlockPlan, note, unit, ends];
}

async function online(): Promise<void> {
  const client: SimaClient = await createClient({ baseUrl: 'https://api.example.com', token: () => 'st_x', clock: () => Date.now() + 86400e3 });
  const sub: Subscription = await client.subscription();
  const after: Subscription = await client.changeSubscription({ change: 'switch', plan: 'BASIC' });
  await client.changeSubscription({ change: 'undo' });
  // @ts-expect-error a switch needs its plan
  await client.changeSubscription({ change: 'switch' });
  const due: string | null = client.lifecycle().renewal_due_from;
  const amount: number = client.quote('PRO').amount_paisa;
  void [sub, after, due, amount];
  const off: () => void = client.subscribe((e: ChangeEvent) => { if (e.reason === 'limit') void e.type; });
  // React: useSyncExternalStore(subscribe, getSnapshot) takes the bound methods as they are.
  const { subscribe, getSnapshot, check } = client;
  const store: [(onChange: () => void) => () => void, () => ClientSnapshot] = [subscribe, getSnapshot];
  const view: ClientSnapshot = store[1]();
  const live: LiveStatus = view.live;
  const when: Date | null = view.asOf;
  const stale: boolean = view.stale;
  const bar: number | undefined = view.usage[0]?.percent ?? undefined;
  // @ts-expect-error the snapshot is read-only
  view.stale = false;
  void [live, when, stale, bar, check('invoices').allowed];
  const persisted: SimaClient = await createClient({ baseUrl: 'https://api.example.com/', token: 'st_x', persist: false, live: false, refreshInterval: 10000, wasmUrl: '/sima_core.wasm' });
  persisted.close();
  try {
    await client.create<{ id: string }>('invoices', '/invoices/', { amount_paisa: 250000 });
  } catch (e) {
    if (e instanceof LimitReachedError) {
      const price: number | undefined = e.upgrade?.price;
      const status: number | null = e.status;
      const kind: FeatureKind = e.kind;
      const over: Override | null = e.override;
      void [price, status, kind, over];
    } else if (e instanceof SimaError) {
      const code: string = e.code;
      void code;
    }
  }
  await client.remove('team_members', '/team-members/7/');
  const metered: MeterResult = await client.meter('customers', -1);
  const seats: number = metered.used;
  void seats;
  const khalti = await client.startUpgrade('PRO');
  const url: string = khalti.payment_url;
  const lines: number = khalti.amount_breakdown.reduce((sum, l) => sum + l.amount, 0);
  void lines;
  const esewa = await client.startUpgrade('PRO', { provider: 'esewa' });
  const form: string = esewa.form_url;
  const payment = await client.payment(khalti.payment_id);
  const ps: 'PENDING' | 'SUCCESS' | 'FAILED' | 'REFUNDED' = payment.status;
  const v = await client.verifyPayment(khalti.payment_id, { pidx: khalti.pidx });
  const rows: UsageRow[] = await client.refresh();
  const renewable: boolean = client.canBuy(client.plan).renew;
  void renewable;
  const ended: Promise<void> = client.endSession();
  await ended;
  off();
  void [url, form, ps, v.success, rows];
}

void offline;
void online;
