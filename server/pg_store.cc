#include "pg_store.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <random>
#include <set>

#include "pg_migrations.h"
#include "sima/text.h"
#include "store_rows.h"
#include "store_rules.h"

namespace sima::server {
namespace {

using pg::Conn;
using pg::Row;
using pg::Statement;

// Counter shards: writers that take no lock spread over this many rows per counter.
constexpr int kShards = 64;

// How many columns kSubscriptionColumns names.
constexpr int kSubscriptionColumnCount =
    static_cast<int>(std::count(kSubscriptionColumns.begin(), kSubscriptionColumns.end(), ',')) + 1;

Invoice ReadInvoice(const Row& r) { return ReadInvoiceRow(r); }
Customer ReadCustomer(const Row& r) { return ReadCustomerRow(r); }
TeamMember ReadTeamMember(const Row& r) { return ReadTeamMemberRow(r); }
ApiKeyInfo ReadKeyInfo(const Row& r) { return ReadKeyInfoRow(r); }

// One page of an organization's list, newest first by (created_at, seq), of the rows `filter`
// (" AND ...") keeps. `columns` are read by `read`; created_at and seq follow them. Reads one row
// more than asked to know whether another page exists.
template <typename T, typename R>
Expected<Page<T>> ReadPage(Conn& c, std::string_view columns, std::string_view table,
                           const std::string& org_id, const PageRequest& page, R read,
                           std::string_view filter = "") {
  const std::string head = "SELECT " + std::string(columns) + ", created_at, seq FROM " +
                           std::string(table) + " WHERE org_id = $1" + std::string(filter);
  const std::string order = " ORDER BY created_at DESC, seq DESC LIMIT ";
  auto rows = page.after ? c.All(head + " AND (created_at, seq) < ($2, $3)" + order + "$4", org_id,
                                 page.after->at, page.after->row, page.limit + 1)
                         : c.All(head + order + "$2", org_id, page.limit + 1);
  if (!rows) return rows.error();
  Page<T> out;
  const int n = static_cast<int>(std::count(columns.begin(), columns.end(), ',')) + 1;
  for (const Row& r : *rows) {
    if (static_cast<int64_t>(out.items.size()) == page.limit) {
      const Row& last = (*rows)[out.items.size() - 1];
      out.next = PageKey{last.Int(n), last.Int(n + 1)};
      break;
    }
    out.items.push_back(read(r));
  }
  return out;
}

template <typename T, typename R>
Expected<T> ReadOne(Conn& c, const std::string& sql, const std::string& org_id,
                    const std::string& id, std::string_view what, R read) {
  auto row = c.One(sql, id, org_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no " + std::string(what) + " with this id");
  return read(**row);
}

std::vector<std::string> Hashes(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(r.Text(0));
  return out;
}

// What LoadUsage reads of one organization, `org` naming its id: rows of (what, period_start,
// feature, number, plan, until_at) where `what` is 'm' (a metered counter of a period that
// can be the current one: those that started within one period length before $2; number =
// its count), 'a' (an allocation's live count) or 'o' (an override not expired at $3; number =
// its limit on the wire).
std::string OrgCounts(std::string_view org) {
  const std::string o(org);
  return "SELECT 'm' AS what, period_start, feature, SUM(used)::bigint AS n, NULL::text AS plan, "
         "NULL::bigint AS until_at FROM usage_counters WHERE org_id = " +
         o +
         " AND period_start > $2 GROUP BY period_start, feature "
         "UNION ALL SELECT 'a', NULL, feature, used, NULL, NULL FROM allocations WHERE org_id = " +
         o +
         " UNION ALL SELECT 'o', NULL, feature, limit_wire, plan, until_at FROM overrides "
         "WHERE org_id = " +
         o + " AND (until_at IS NULL OR until_at > $3)";
}

// `columns` ("a, b") with `prefix` before each name ("s.a, s.b").
std::string Prefixed(std::string_view columns, std::string_view prefix) {
  std::string out;
  for (size_t at = 0; at < columns.size();) {
    const size_t comma = std::min(columns.find(", ", at), columns.size());
    out += (out.empty() ? "" : ", ") + std::string(prefix) +
           std::string(columns.substr(at, comma - at));
    at = comma + 2;
  }
  return out;
}

}  // namespace

PgStore::PgStore(pg::ConnInfo info, const Catalog& catalog, const Options& options)
    : pool_(std::move(info), options.pool_size), catalog_(catalog), options_(options) {
  if (!options_.confirmation) options_.confirmation = CatalogConfirmation(catalog_);
  std::random_device rd;
  shard_base_ = static_cast<int>(rd() % kShards);
  char id[17];
  std::snprintf(id, sizeof(id), "%08x%08x", rd(), rd());
  instance_id_ = id;
}

PgStore::~PgStore() { StopWatching(); }

Expected<std::unique_ptr<PgStore>> PgStore::Open(const Options& options, const Catalog& catalog) {
  if (options.pool_size < 1) return Error::Validation("SIMA_DB_POOL", "must be at least 1");
  auto info = pg::ConnInfo::Parse(options.url);
  if (!info) return info.error();
  info.value().set_schema(options.schema);
  std::unique_ptr<PgStore> store(new PgStore(std::move(info).value(), catalog, options));
  auto lease = store->pool_.Acquire();
  if (!lease) return lease.error();
  if (auto r = MigratePg(**lease, options.schema); !r) {
    Error e = r.error();
    if (e.kind == ErrorKind::kUnavailable) {
      e.message = "cannot connect to PostgreSQL at " + store->display() + ": " + e.message;
    }
    return e;
  }
  return store;
}

// --- building blocks ---

Expected<UsageState> PgStore::LoadUsage(Conn& c, const std::string& org_id, Time now,
                                        std::initializer_list<std::string_view> adds, bool lock) {
  // The subscription and, in the same statement, everything the decisions need: no round trip
  // of its own for counts or overrides: kSubscriptionColumns first, then OrgCounts's from
  // column kAt on.
  constexpr int kAt = kSubscriptionColumnCount;
  static const std::string kWithSubscription = "SELECT " + Prefixed(kSubscriptionColumns, "s.") +
                                               ", c.* FROM subscriptions s LEFT JOIN LATERAL (" +
                                               OrgCounts("s.org_id") +
                                               ") c ON true WHERE s.org_id = $1";
  static const std::string kAfterLock = "SELECT " + Prefixed(kSubscriptionColumns, "NULL AS ") +
                                        ", c.* FROM (" + OrgCounts("$1") + ") c";
  UsageState state;
  const int64_t since = ToUnixSeconds(now) - int64_t{catalog_.period_days()} * 86400;
  auto read_overrides = [&](const std::vector<Row>& all) {
    Overrides out;
    for (const Row& r : all) {
      if (r.IsNull(kAt) || r.Text(kAt) != "o") continue;
      auto limit = LimitFromWire(r.Int(kAt + 3));
      out.push_back(Override{r.Text(kAt + 2), limit ? limit.value() : Limit::Unlimited(),
                             r.OptText(kAt + 4), r.OptAt(kAt + 5)});
    }
    std::sort(out.begin(), out.end(),
              [](const Override& a, const Override& b) { return a.feature < b.feature; });
    return out;
  };
  Expected<std::vector<Row>> rows = std::vector<Row>();
  if (!lock) {
    rows = c.All(kWithSubscription, org_id, since, now);
    if (!rows) return rows.error();
    if (rows->empty()) return Error::NotFound("no such organization");
    state.subscription = ReadSubscriptionRow(rows->front());
    state.overrides = read_overrides(*rows);
    // Whether this call can be refused after all: then it needs the lock.
    const Plan* plan = catalog_.FindPlan(PlanInForce(catalog_, state.subscription, now));
    for (std::string_view feature : adds) {
      const auto index = catalog_.FeatureIndex(feature);
      if (!index || plan == nullptr) continue;
      const Feature& f = catalog_.features()[*index];
      const Limit limit = ResolveLimit(catalog_, *plan, *index, state.overrides, now).limit;
      if (f.kind == FeatureKind::kAllocation ||
          (f.enforcement == Enforcement::kHard && !limit.unlimited())) {
        lock = true;
      }
    }
  }
  if (lock) {
    // The organization's lock, held to the commit (BEGIN travels with it when the caller asked
    // for the lock up front). The subscription as committed now, and the counts and overrides
    // read after the lock (a new snapshot) include every earlier holder's.
    auto locked = LockSubscription(c, org_id);
    if (!locked) return locked.error();
    state.subscription = std::move(locked).value();
    rows = c.All(kAfterLock, org_id, since, now);
    if (!rows) return rows.error();
    state.overrides = read_overrides(*rows);
  }
  state.period = CurrentPeriod(state.subscription, catalog_.period_days(), now);
  for (const Row& r : *rows) {
    if (r.IsNull(kAt)) continue;
    const std::string what = r.Text(kAt);
    const std::string feature = r.Text(kAt + 2);
    const bool allocation = IsAllocation(catalog_, feature);
    if (what == "a" && allocation) state.usage[feature] = r.Int(kAt + 3);
    if (what == "m" && !allocation && r.Int(kAt + 1) == ToUnixSeconds(state.period.start)) {
      state.usage[feature] = r.Int(kAt + 3);
    }
  }
  return state;
}

Expected<Subscription> PgStore::LockSubscription(Conn& c, const std::string& org_id) {
  static const std::string kLock = "SELECT " + std::string(kSubscriptionColumns) +
                                   " FROM subscriptions WHERE org_id = $1 FOR NO KEY UPDATE";
  auto row = c.One(kLock, org_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no such organization");
  return ReadSubscriptionRow(**row);
}

ExpectedDone PgStore::Count(Conn& c, const std::string& org_id, UsageState& state,
                            const std::vector<std::pair<std::string_view, int64_t>>& adds) {
  Statement metered;
  metered.sql = "INSERT INTO usage_counters(org_id, period_start, feature, shard, used) VALUES ";
  metered.params = {org_id, ToUnixSeconds(state.period.start), (shard_base_ + c.slot()) % kShards};
  for (const auto& [feature, n] : adds) {
    const int64_t used = state.usage[std::string(feature)];
    if (n > 0 && used > INT64_MAX - n) return Error::Conflict("the usage counter would overflow");
    if (IsAllocation(catalog_, feature)) {
      if (auto r = CountLive(c, org_id, state, feature, n); !r) return r;
      continue;
    }
    const size_t at = metered.params.size();
    if (at > 3) metered.sql += ", ";
    metered.sql += "($1, $2, $" + std::to_string(at + 1) + ", $3, $" + std::to_string(at + 2) + ")";
    metered.params.emplace_back(feature);
    metered.params.emplace_back(n);
    state.usage[std::string(feature)] += n;
  }
  if (metered.params.size() == 3) return Done{};
  metered.sql +=
      " ON CONFLICT (org_id, period_start, feature, shard) "
      "DO UPDATE SET used = usage_counters.used + excluded.used";
  // Sent with the next statement or the COMMIT: no round trip of its own.
  c.Defer(std::move(metered));
  return Done{};
}

ExpectedDone PgStore::CountLive(Conn& c, const std::string& org_id, UsageState& state,
                                std::string_view feature, int64_t n) {
  // One row per allocation, not shards: every change holds the organization's lock anyway. A
  // release updates the row its things were counted in (an insert of a negative count would
  // break the CHECK before the conflict is seen).
  if (n < 0) {
    c.Defer("UPDATE allocations SET used = used + $3 WHERE org_id = $1 AND feature = $2", org_id,
            feature, n);
  } else {
    c.Defer(
        "INSERT INTO allocations(org_id, feature, used) VALUES ($1, $2, $3) "
        "ON CONFLICT (org_id, feature) DO UPDATE SET used = allocations.used + excluded.used",
        org_id, feature, n);
  }
  if (IsAllocation(catalog_, feature)) state.usage[std::string(feature)] += n;
  return Done{};
}

Expected<std::optional<Decision>> PgStore::Decide(const UsageState& state, std::string_view feature,
                                                  int64_t n, Time now) const {
  if (!catalog_.FeatureIndex(feature)) return std::optional<Decision>();
  auto d = Check(catalog_, state.subscription, now, state.usage, feature, n, state.overrides);
  if (!d) return Error::FromStatus(d.status());
  return std::optional<Decision>(std::move(d).value());
}

Expected<std::optional<Decision>> PgStore::Gate(const UsageState& state, std::string_view feature,
                                                int64_t n, Time now) const {
  auto d = Decide(state, feature, n, now);
  if (d && d->has_value() && !(*d)->allowed) return Error::LimitReached(**d);
  return d;
}

ExpectedDone PgStore::CountCall(Conn& c, const std::string& org_id, UsageState& state, Time now) {
  auto gate = Gate(state, kApiCalls, 1, now);
  if (!gate) return gate.error();
  if (!gate->has_value()) return Done{};
  return Count(c, org_id, state, kApiCalls, 1);
}

ExpectedDone PgStore::SaveSubscription(Conn& c, const std::string& org_id, const Subscription& sub,
                                       Time now) {
  auto r = c.Run(
      "UPDATE subscriptions SET plan = $1, start_at = $2, end_at = $3, trial = $4, "
      "cancel_at_period_end = $5, next_plan = $6, updated_at = $7 WHERE org_id = $8",
      sub.plan, sub.start, sub.end, sub.trial, sub.cancel_at_period_end, sub.next_plan, now,
      org_id);
  if (!r) return r.error();
  if (*r == 0) return Error::NotFound("no such organization");
  return Done{};
}

ExpectedDone PgStore::SaveActivation(Conn& c, const std::string& org_id, const Subscription& sub,
                                     std::optional<Time> reset_usage_from, const PlanChange& change,
                                     std::optional<int64_t> payment_id, Time now) {
  if (auto r = SaveSubscription(c, org_id, sub, now); !r) return r;
  if (reset_usage_from) {
    if (auto r = c.Run("DELETE FROM usage_counters WHERE org_id = $1 AND period_start = $2", org_id,
                       *reset_usage_from);
        !r) {
      return r.error();
    }
  }
  auto r = c.Run(
      "INSERT INTO plan_changes(org_id, at, cause, payment_id, from_plan, to_plan, start_at, "
      "end_at, kind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      org_id, change.at, change.cause, payment_id, change.from_plan, change.to_plan, change.start,
      change.end, to_string(change.kind));
  if (!r) return r.error();
  return Done{};
}

template <typename T, typename F>
Expected<T> PgStore::CreateCounted(const std::string& org_id, std::string_view feature, bool live,
                                   Time now, F&& insert) {
  return Tx<T>([&](Conn& c) -> Expected<T> {
    auto state = LoadUsage(c, org_id, now, {kApiCalls, feature}, /*lock=*/live);
    if (!state) return state.error();
    auto call = Gate(*state, kApiCalls, 1, now);
    if (!call) return call.error();
    auto gate = Gate(*state, feature, 1, now);
    if (!gate) return gate.error();
    auto created = insert(c);
    if (!created) return created;
    // This call and the created row, counted in one statement.
    std::vector<std::pair<std::string_view, int64_t>> adds;
    if (call->has_value()) adds.emplace_back(kApiCalls, 1);
    if (gate->has_value()) adds.emplace_back(feature, 1);
    if (auto r = Count(c, org_id, state.value(), adds); !r) return r.error();
    if (live && !(gate->has_value() && IsAllocation(catalog_, feature))) {
      if (auto r = CountLive(c, org_id, state.value(), feature, 1); !r) return r.error();
    }
    return created;
  });
}

template <typename F>
ExpectedDone PgStore::DeleteLive(const std::string& org_id, std::string_view feature,
                                 std::string_view what, Time now, F&& remove) {
  return Tx<Done>([&](Conn& c) -> ExpectedDone {
    // The organization's lock: a delete racing creates leaves the counter equal to the rows.
    auto state = LoadUsage(c, org_id, now, {kApiCalls}, /*lock=*/true);
    if (!state) return state.error();
    if (auto r = CountCall(c, org_id, state.value(), now); !r) return r.error();
    auto removed = remove(c);
    if (!removed) return removed.error();
    if (*removed == 0) return Error::NotFound("no " + std::string(what) + " with this id");
    return CountLive(c, org_id, state.value(), feature, -1);
  });
}

// --- organizations and credentials ---

Expected<Org> PgStore::CreateOrg(const NewOrg& org) {
  return Tx<Org>([&](Conn& c) -> Expected<Org> {
    if (auto r = c.Run("INSERT INTO organizations(id, name, created_at, billing_email) VALUES ($1, "
                       "$2, $3, $4)",
                       org.id, org.name, ToUnixSeconds(org.now), org.billing_email);
        !r) {
      return r.error();
    }
    const Subscription& sub = org.subscription;
    if (auto r = c.Run("INSERT INTO subscriptions(org_id, plan, start_at, end_at, trial, "
                       "cancel_at_period_end, next_plan, updated_at) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                       org.id, sub.plan, sub.start, sub.end, sub.trial, sub.cancel_at_period_end,
                       sub.next_plan, org.now);
        !r) {
      return r.error();
    }
    if (auto r = c.Run(
            "INSERT INTO api_keys(key_hash, org_id, created_at, key_id, prefix) VALUES ($1, $2, "
            "$3, COALESCE(NULLIF($4, ''), 'key_' || substr(md5(random()::text), 1, 20)), "
            "NULLIF($5, ''))",
            org.key_hash, org.id, ToUnixSeconds(org.now), org.key_id, org.key_prefix);
        !r) {
      return r.error();
    }
    return Org{org.id, org.name, org.now};
  });
}

Expected<Org> PgStore::GetOrg(const std::string& org_id) {
  return Read<Org>([&](Conn& c) -> Expected<Org> {
    auto row = c.One("SELECT name, created_at FROM organizations WHERE id = $1", org_id);
    if (!row) return row.error();
    if (!*row) return Error::NotFound("no such organization");
    return Org{org_id, (*row)->Text(0), FromUnixSeconds((*row)->Int(1))};
  });
}

Expected<Credential> PgStore::FindSecretKey(const std::string& key_hash) {
  return Read<Credential>([&](Conn& c) -> Expected<Credential> {
    auto row = c.One(
        "SELECT org_id, key_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", key_hash);
    if (!row) return row.error();
    if (!*row) return Error{ErrorKind::kUnauthorized, "unknown or revoked secret key"};
    return Credential{(*row)->Text(0), std::nullopt, (*row)->Text(1)};
  });
}

Expected<ApiKeyInfo> PgStore::CreateSecretKey(const std::string& org_id, const std::string& key_id,
                                              const std::string& key_hash,
                                              const std::string& prefix, Time now) {
  return Tx<ApiKeyInfo>([&](Conn& c) -> Expected<ApiKeyInfo> {
    auto org = c.One("SELECT 1 FROM organizations WHERE id = $1", org_id);
    if (!org) return org.error();
    if (!*org) return Error::NotFound("no such organization");
    if (auto r = c.Run("INSERT INTO api_keys(key_hash, org_id, created_at, key_id, prefix) "
                       "VALUES ($1, $2, $3, $4, $5)",
                       key_hash, org_id, ToUnixSeconds(now), key_id, prefix);
        !r) {
      return r.error();
    }
    return ApiKeyInfo{key_id, prefix, now, std::nullopt};
  });
}

Expected<Page<ApiKeyInfo>> PgStore::ListSecretKeys(const std::string& org_id,
                                                   const PageRequest& page) {
  return Read<Page<ApiKeyInfo>>([&](Conn& c) -> Expected<Page<ApiKeyInfo>> {
    auto org = c.One("SELECT 1 FROM organizations WHERE id = $1", org_id);
    if (!org) return org.error();
    if (!*org) return Error::NotFound("no such organization");
    return ReadPage<ApiKeyInfo>(c, "key_id, prefix, created_at, revoked_at", "api_keys", org_id,
                                page, ReadKeyInfo);
  });
}

Expected<RevokedKey> PgStore::RevokeKeyById(const std::string& org_id, const std::string& key_id,
                                            Time now) {
  return Tx<RevokedKey>([&](Conn& c) -> Expected<RevokedKey> {
    RevokedKey out{key_id, "", now, {}};
    auto key = c.One(
        "SELECT revoked_at, key_hash FROM api_keys WHERE key_id = $1 AND org_id = $2 FOR UPDATE",
        key_id, org_id);
    if (!key) return key.error();
    if (!*key) return Error::NotFound("no key with this id");
    out.key_hash = (*key)->Text(1);
    if (auto at = (*key)->OptInt(0)) {
      out.revoked_at = FromUnixSeconds(*at);
      return out;
    }
    if (auto r = c.Run("UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2", ToUnixSeconds(now),
                       key_id);
        !r) {
      return r.error();
    }
    // The key's sessions, and those minted before sessions recorded their key.
    auto ended = c.All(
        "DELETE FROM sessions WHERE key_id = $1 OR (key_id IS NULL AND org_id = $2) "
        "RETURNING token_hash",
        key_id, org_id);
    if (!ended) return ended.error();
    out.ended_session_hashes = Hashes(*ended);
    return out;
  });
}

ExpectedDone PgStore::EndSession(const std::string& token_hash) {
  return Tx<Done>([&](Conn& c) -> ExpectedDone {
    auto r = c.Run("DELETE FROM sessions WHERE token_hash = $1", token_hash);
    if (!r) return r.error();
    if (*r == 0) return Error::NotFound("no such session");
    return Done{};
  });
}

Expected<PruneResult> PgStore::Prune(Time now, int64_t batch, int64_t max_batches) {
  PruneResult out;
  // Each batch is its own short transaction, so requests interleave with a long pass.
  auto pass = [&](const char* sql, int64_t bound, int64_t& count) -> ExpectedDone {
    for (int64_t i = 0; i < max_batches; ++i) {
      auto n = Tx<int64_t>([&](Conn& c) { return c.Run(sql, bound, batch); });
      if (!n) return n.error();
      count += *n;
      if (*n < batch) break;
    }
    return Done{};
  };
  if (auto r = pass("DELETE FROM sessions WHERE ctid = ANY(ARRAY("
                    "SELECT ctid FROM sessions WHERE expires_at <= $1 LIMIT $2))",
                    ToUnixSeconds(now), out.sessions);
      !r) {
    return r.error();
  }
  if (auto r = pass("DELETE FROM usage_events WHERE (org_id, idempotency_key) IN "
                    "(SELECT org_id, idempotency_key FROM usage_events "
                    "WHERE created_at <= $1 LIMIT $2)",
                    ToUnixSeconds(now - options_.idempotency_ttl), out.idempotency_keys);
      !r) {
    return r.error();
  }
  if (auto r = pass("DELETE FROM reminders_sent WHERE (org_id, key) IN "
                    "(SELECT org_id, key FROM reminders_sent WHERE period_end < $1 LIMIT $2)",
                    ToUnixSeconds(ReminderKeysPrunedBefore(catalog_, now)), out.reminders);
      !r) {
    return r.error();
  }
  // Old events whose deliveries are all finished, oldest first, with their deliveries and
  // attempts, in one statement (the foreign keys are checked at its end). An event a resend
  // holds is skipped.
  if (auto r = pass("WITH ev AS (SELECT seq FROM webhook_events e WHERE created_at <= $1 AND "
                    "NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq "
                    "AND d.status = 'pending') ORDER BY created_at, seq LIMIT $2 "
                    "FOR UPDATE SKIP LOCKED), "
                    "dl AS (SELECT id FROM webhook_deliveries WHERE event_seq IN "
                    "(SELECT seq FROM ev)), "
                    "gone_attempts AS (DELETE FROM webhook_attempts WHERE delivery_id IN "
                    "(SELECT id FROM dl)), "
                    "gone_deliveries AS (DELETE FROM webhook_deliveries WHERE id IN "
                    "(SELECT id FROM dl)) "
                    "DELETE FROM webhook_events WHERE seq IN (SELECT seq FROM ev)",
                    ToUnixSeconds(now - options_.webhook_retention), out.webhook_events);
      !r) {
    return r.error();
  }
  return out;
}

ExpectedDone PgStore::RevokeSecretKey(const std::string& key_hash, Time now) {
  return Tx<Done>([&](Conn& c) -> ExpectedDone {
    auto r = c.Run("UPDATE api_keys SET revoked_at = $1 WHERE key_hash = $2 AND revoked_at IS NULL",
                   ToUnixSeconds(now), key_hash);
    if (!r) return r.error();
    if (*r == 0) return Error::NotFound("no such live secret key");
    return Done{};
  });
}

Expected<Credential> PgStore::FindSession(const std::string& token_hash, Time now) {
  return Read<Credential>([&](Conn& c) -> Expected<Credential> {
    auto row =
        c.One("SELECT org_id, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
              token_hash, ToUnixSeconds(now));
    if (!row) return row.error();
    if (!*row) return Error{ErrorKind::kUnauthorized, "unknown or expired session token"};
    return Credential{(*row)->Text(0), (*row)->At(1)};
  });
}

// --- organization-scoped calls ---

Expected<std::vector<std::string>> PgStore::CreateSession(const std::string& org_id,
                                                          const std::string& key_id,
                                                          const std::string& token_hash,
                                                          Time expires_at, Time now) {
  using Out = std::vector<std::string>;
  return OrgCall<Out>(org_id, now, [&](Conn& c, UsageState&) -> Expected<Out> {
    if (auto r = c.Run("INSERT INTO sessions(token_hash, org_id, created_at, expires_at, key_id) "
                       "VALUES ($1, $2, $3, $4, $5)",
                       token_hash, org_id, ToUnixSeconds(now), ToUnixSeconds(expires_at), key_id);
        !r) {
      return r.error();
    }
    // Past the cap the oldest sessions of this key end (sessions_key index, newest first).
    auto ended = c.All(
        "DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions "
        "WHERE key_id = $1 ORDER BY created_at DESC, seq DESC OFFSET $2) RETURNING token_hash",
        key_id, options_.sessions_per_key);
    if (!ended) return ended.error();
    return Hashes(*ended);
  });
}

Expected<UsageState> PgStore::ReadUsage(const std::string& org_id, Time now) {
  return OrgCall<UsageState>(
      org_id, now, [](Conn&, UsageState& state) -> Expected<UsageState> { return state; });
}

Expected<Invoice> PgStore::CreateInvoice(const std::string& org_id, const Invoice& invoice,
                                         Time now) {
  return CreateCounted<Invoice>(
      org_id, kInvoices, /*live=*/false, now, [&](Conn& c) -> Expected<Invoice> {
        if (invoice.customer_id) {
          auto row =
              c.One("SELECT 1 FROM customers WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL",
                    *invoice.customer_id, org_id);
          if (!row) return row.error();
          if (!*row) return Error::Validation("customer_id", "no customer with this id");
        }
        c.Defer(
            "INSERT INTO invoices(id, org_id, amount_paisa, customer_id, description, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            invoice.id, org_id, invoice.amount_paisa, invoice.customer_id, invoice.description,
            ToUnixSeconds(now));
        Invoice out = invoice;
        out.created_at = now;
        return out;
      });
}

Expected<Customer> PgStore::CreateCustomer(const std::string& org_id, const Customer& customer,
                                           Time now) {
  return CreateCounted<
      Customer>(org_id, kCustomers, /*live=*/true, now, [&](Conn& c) -> Expected<Customer> {
    c.Defer(
        "INSERT INTO customers(id, org_id, name, email, created_at) VALUES ($1, $2, $3, $4, $5)",
        customer.id, org_id, customer.name, customer.email, ToUnixSeconds(now));
    Customer out = customer;
    out.created_at = now;
    return out;
  });
}

Expected<TeamMember> PgStore::CreateTeamMember(const std::string& org_id, const TeamMember& member,
                                               Time now) {
  return CreateCounted<TeamMember>(
      org_id, kTeamMembers, /*live=*/true, now, [&](Conn& c) -> Expected<TeamMember> {
        const std::string key = AsciiLower(member.email);
        // ON CONFLICT: two instances adding the same e-mail at once (the unique index decides).
        auto r = c.Run(
            "INSERT INTO team_members(id, org_id, email, email_key, name, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, email_key) DO NOTHING",
            member.id, org_id, member.email, key, member.name, ToUnixSeconds(now));
        if (!r) return r.error();
        if (*r == 0) return Error::Conflict("a team member with this e-mail already exists");
        TeamMember out = member;
        out.created_at = now;
        return out;
      });
}

Expected<Page<Invoice>> PgStore::ListInvoices(const std::string& org_id, const PageRequest& page,
                                              Time now) {
  return OrgCall<Page<Invoice>>(org_id, now, [&](Conn& c, UsageState&) {
    return ReadPage<Invoice>(c, "id, amount_paisa, customer_id, description, created_at",
                             "invoices", org_id, page, ReadInvoice);
  });
}

Expected<Page<Customer>> PgStore::ListCustomers(const std::string& org_id, const PageRequest& page,
                                                Time now) {
  return OrgCall<Page<Customer>>(org_id, now, [&](Conn& c, UsageState&) {
    return ReadPage<Customer>(c, "id, name, email, created_at", "customers", org_id, page,
                              ReadCustomer, " AND deleted_at IS NULL");
  });
}

Expected<Page<TeamMember>> PgStore::ListTeamMembers(const std::string& org_id,
                                                    const PageRequest& page, Time now) {
  return OrgCall<Page<TeamMember>>(org_id, now, [&](Conn& c, UsageState&) {
    return ReadPage<TeamMember>(c, "id, email, name, created_at", "team_members", org_id, page,
                                ReadTeamMember);
  });
}

Expected<Invoice> PgStore::GetInvoice(const std::string& org_id, const std::string& id, Time now) {
  return OrgCall<Invoice>(org_id, now, [&](Conn& c, UsageState&) {
    return ReadOne<Invoice>(c,
                            "SELECT id, amount_paisa, customer_id, description, created_at "
                            "FROM invoices WHERE id = $1 AND org_id = $2",
                            org_id, id, "invoice", ReadInvoice);
  });
}

Expected<Customer> PgStore::GetCustomer(const std::string& org_id, const std::string& id,
                                        Time now) {
  return OrgCall<Customer>(org_id, now, [&](Conn& c, UsageState&) {
    return ReadOne<Customer>(c,
                             "SELECT id, name, email, created_at FROM customers "
                             "WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL",
                             org_id, id, "customer", ReadCustomer);
  });
}

Expected<TeamMember> PgStore::GetTeamMember(const std::string& org_id, const std::string& id,
                                            Time now) {
  return OrgCall<TeamMember>(org_id, now, [&](Conn& c, UsageState&) {
    return ReadOne<TeamMember>(c,
                               "SELECT id, email, name, created_at FROM team_members "
                               "WHERE id = $1 AND org_id = $2",
                               org_id, id, "team member", ReadTeamMember);
  });
}

ExpectedDone PgStore::DeleteCustomer(const std::string& org_id, const std::string& id, Time now) {
  // Softly when invoices name the customer (they keep naming it); otherwise the row goes, so
  // creating and deleting customers in a loop cannot grow the table.
  return DeleteLive(org_id, kCustomers, "customer", now, [&](Conn& c) -> Expected<int64_t> {
    auto soft = c.Run(
        "UPDATE customers SET deleted_at = $1 WHERE id = $2 AND org_id = $3 AND deleted_at IS NULL "
        "AND EXISTS (SELECT 1 FROM invoices WHERE org_id = $3 AND customer_id = $2)",
        now, id, org_id);
    if (!soft || *soft > 0) return soft;
    return c.Run("DELETE FROM customers WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL", id,
                 org_id);
  });
}

ExpectedDone PgStore::DeleteTeamMember(const std::string& org_id, const std::string& id, Time now) {
  return DeleteLive(org_id, kTeamMembers, "team member", now, [&](Conn& c) {
    return c.Run("DELETE FROM team_members WHERE id = $1 AND org_id = $2", id, org_id);
  });
}

Expected<MeterResult> PgStore::RecordUsage(const std::string& org_id, const MeterRequest& req,
                                           Time now) {
  auto feature = MeteredFeature(catalog_, req);
  if (!feature) return feature.error();
  const Feature& f = *feature.value();
  return Tx<MeterResult>([&](Conn& c) -> Expected<MeterResult> {
    // An idempotency key is answered once across instances: the organization's lock orders
    // callers with the same key, and the second finds the first one's answer. Switches and
    // values count nothing, so they never need it otherwise.
    auto state =
        f.counted()
            ? LoadUsage(c, org_id, now, {kApiCalls, req.feature}, req.idempotency_key.has_value())
            : LoadUsage(c, org_id, now, {kApiCalls}, req.idempotency_key.has_value());
    if (!state) return state.error();
    if (auto r = CountCall(c, org_id, state.value(), now); !r) return r.error();
    if (req.idempotency_key) {
      // A key older than the TTL is forgotten: the call counts again (and replaces it below).
      auto row = c.One("SELECT " + std::string(kMeterEventColumns) +
                           " FROM usage_events "
                           "WHERE org_id = $1 AND idempotency_key = $2 AND created_at > $3",
                       org_id, *req.idempotency_key, ToUnixSeconds(now - options_.idempotency_ttl));
      if (!row) return row.error();
      if (*row) {
        const Row& r = **row;
        MeterResult first = ReadMeterEventRow(r, f.kind);
        if (auto same = SameRequest(first, req); !same) return same.error();
        return first;
      }
    }
    // A release is always allowed (never below zero): decided for one more only to name the
    // plan and the limit.
    const bool release = req.quantity < 0;
    const int64_t in_use = state.value().usage[req.feature];
    if (release && in_use + req.quantity < 0) {
      return ReleaseTooLarge(req.feature, req.quantity, in_use);
    }
    auto decided = release ? Decide(*state, req.feature, 1, now)
                           : Gate(*state, req.feature, req.quantity, now);
    if (!decided) return decided.error();
    if (!decided->has_value()) return Error::NotFound("no feature in the catalog");
    if (f.counted()) {
      if (auto r = Count(c, org_id, state.value(), req.feature, req.quantity); !r) {
        return r.error();
      }
    }
    MeterResult out = MeterAnswer(f, req, **decided, state.value().usage[req.feature]);
    if (req.idempotency_key) {
      const OverrideCells o = ToOverrideCells(out.override);
      if (auto r = c.Run(
              "INSERT INTO usage_events(org_id, idempotency_key, feature, quantity, plan, used, "
              "limit_wire, over, created_at, override_limit, override_plan, override_until) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
              "ON CONFLICT (org_id, idempotency_key) DO UPDATE SET feature = excluded.feature, "
              "quantity = excluded.quantity, plan = excluded.plan, used = excluded.used, "
              "limit_wire = excluded.limit_wire, over = excluded.over, "
              "created_at = excluded.created_at, override_limit = excluded.override_limit, "
              "override_plan = excluded.override_plan, override_until = excluded.override_until",
              org_id, *req.idempotency_key, out.feature, out.quantity, out.plan, out.used,
              LimitToWire(out.limit), out.over, ToUnixSeconds(now), o.limit, o.plan, o.until);
          !r) {
        return r.error();
      }
    }
    return out;
  });
}

// --- per-organization overrides ---

Expected<std::optional<StoredOverride>> PgStore::LockOverride(Conn& c, const std::string& org_id,
                                                              const std::string& feature) {
  // The organization's lock: a change is ordered with the decisions that read it.
  auto org = c.One("SELECT 1 FROM subscriptions WHERE org_id = $1 FOR NO KEY UPDATE", org_id);
  if (!org) return org.error();
  if (!*org) return Error::NotFound("no such organization");
  auto row = c.One("SELECT " + std::string(kOverrideColumns) +
                       " FROM overrides WHERE org_id = $1 AND feature = $2",
                   org_id, feature);
  if (!row) return row.error();
  if (!*row) return std::optional<StoredOverride>();
  return std::optional<StoredOverride>(ReadStoredOverrideRow(**row));
}

void PgStore::AuditOverride(Conn& c, const std::string& org_id, const std::string& feature,
                            const std::optional<Override>& before,
                            const std::optional<Override>& after, const std::string& reason,
                            Time now) {
  const OverrideCells was = ToOverrideCells(before), is = ToOverrideCells(after);
  // Sent with the COMMIT.
  c.Defer(
      "INSERT INTO override_changes(org_id, feature, at, reason, before_limit, before_plan, "
      "before_until, after_limit, after_plan, after_until) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      org_id, feature, now, reason, was.limit, was.plan, was.until, is.limit, is.plan, is.until);
}

Expected<StoredOverride> PgStore::SetOverride(const std::string& org_id, const Override& o,
                                              const std::string& reason, Time now) {
  return Tx<StoredOverride>([&](Conn& c) -> Expected<StoredOverride> {
    auto before = LockOverride(c, org_id, o.feature);
    if (!before) return before.error();
    if (auto r = c.Run(
            "INSERT INTO overrides(org_id, feature, limit_wire, plan, until_at, reason, "
            "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (org_id, feature) DO "
            "UPDATE SET limit_wire = excluded.limit_wire, plan = excluded.plan, "
            "until_at = excluded.until_at, reason = excluded.reason, "
            "updated_at = excluded.updated_at",
            org_id, o.feature, LimitToWire(o.limit), o.plan, o.until, reason, now);
        !r) {
      return r.error();
    }
    std::optional<Override> was;
    if (*before) was = (*before)->value;
    AuditOverride(c, org_id, o.feature, was, o, reason, now);
    return StoredOverride{o, reason, now};
  });
}

ExpectedDone PgStore::ClearOverride(const std::string& org_id, const std::string& feature,
                                    const std::string& reason, Time now) {
  return Tx<Done>([&](Conn& c) -> ExpectedDone {
    auto before = LockOverride(c, org_id, feature);
    if (!before) return before.error();
    if (!*before) {
      return Error::NotFound("no override of \"" + feature + "\" for this organization");
    }
    c.Defer("DELETE FROM overrides WHERE org_id = $1 AND feature = $2", org_id, feature);
    AuditOverride(c, org_id, feature, (*before)->value, std::nullopt, reason, now);
    return Done{};
  });
}

Expected<OverridesView> PgStore::ListOverrides(const std::string& org_id) {
  // One snapshot for the items and their history.
  return Tx<OverridesView>([&](Conn& c) -> Expected<OverridesView> {
    auto org = c.One("SELECT 1 FROM organizations WHERE id = $1", org_id);
    if (!org) return org.error();
    if (!*org) return Error::NotFound("no such organization");
    OverridesView out;
    auto items = c.All("SELECT " + std::string(kOverrideColumns) +
                           " FROM overrides WHERE org_id = $1 ORDER BY feature",
                       org_id);
    if (!items) return items.error();
    for (const Row& r : *items) out.overrides.push_back(ReadStoredOverrideRow(r));
    auto history = c.All("SELECT " + std::string(kOverrideChangeColumns) +
                             " FROM override_changes WHERE org_id = $1 ORDER BY id DESC LIMIT 100",
                         org_id);
    if (!history) return history.error();
    for (const Row& r : *history) out.history.push_back(ReadOverrideChangeRow(r));
    return out;
  });
}

ExpectedDone PgStore::CheckHealth() {
  return Tx<Done>([](Conn& c) -> ExpectedDone {
    auto r = c.Run(
        "INSERT INTO health(id, checked_at) VALUES (1, now()) "
        "ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at");
    if (!r) return r.error();
    return Done{};
  });
}

// --- the subscription's lifecycle ---

Expected<Subscription> PgStore::GetSubscription(const std::string& org_id, Time now) {
  return OrgCall<Subscription>(org_id, now, [](Conn&, UsageState& state) -> Expected<Subscription> {
    return state.subscription;
  });
}

Expected<Subscription> PgStore::ChangeSubscription(const std::string& org_id, ChangeKind kind,
                                                   const std::string& plan, Time now) {
  return Tx<Subscription>([&](Conn& c) -> Expected<Subscription> {
    // The organization's lock first: a payment settling meanwhile sees the change or not.
    auto state = LoadUsage(c, org_id, now, {kApiCalls}, /*lock=*/true);
    if (!state) return state.error();
    if (auto r = CountCall(c, org_id, state.value(), now); !r) return r.error();
    auto changed = ScheduleChange(catalog_, state->subscription, kind, plan, now);
    if (!changed) return Error::FromStatus(changed.status());
    if (auto r = SaveSubscription(c, org_id, *changed, now); !r) return r.error();
    const webhook::NewEvent e =
        webhook::ChangeEvent(catalog_, state->subscription, *changed, kind, now);
    if (auto r = AppendEvent(c, org_id, e.type, e.data, now); !r) return r.error();
    return std::move(changed).value();
  });
}

Expected<Subscription> PgStore::GrantTrial(const std::string& org_id, const std::string& plan,
                                           int days, Time now) {
  return Tx<Subscription>([&](Conn& c) -> Expected<Subscription> {
    auto before = LockSubscription(c, org_id);
    if (!before) return before.error();
    auto trial = GrantTrialChange(catalog_, *before, plan, days, now);
    if (!trial) return trial.error();
    if (auto r = SaveActivation(c, org_id, trial->subscription, trial->reset_usage_from,
                                trial->change, std::nullopt, now);
        !r) {
      return r.error();
    }
    const webhook::NewEvent e =
        webhook::TrialEvent(catalog_, trial->subscription, trial->change, now);
    if (auto r = AppendEvent(c, org_id, e.type, e.data, now); !r) return r.error();
    return trial->subscription;
  });
}

Expected<std::vector<std::string>> PgStore::ReminderCandidates(Time now,
                                                               const std::string& after_org_id,
                                                               int64_t limit) {
  if (limit <= 0) return std::vector<std::string>();  // PostgreSQL refuses a negative LIMIT
  const ReminderEnds window = ReminderEndsAt(catalog_, now);
  return Read<std::vector<std::string>>([&](Conn& c) -> Expected<std::vector<std::string>> {
    // The conditions repeat the partial index subscriptions_reminders' word for word, so the
    // walk reads that index alone, in org id order, and never a FREE or canceled subscription.
    auto rows = c.All(
        "SELECT org_id FROM subscriptions WHERE end_at IS NOT NULL AND plan <> 'FREE' AND "
        "NOT cancel_at_period_end AND org_id > $1 AND end_at BETWEEN $2 AND $3 "
        "ORDER BY org_id LIMIT $4",
        after_org_id, window.from, window.to, limit);
    if (!rows) return rows.error();
    std::vector<std::string> out;
    out.reserve(rows->size());
    for (const Row& r : *rows) out.push_back(r.Text(0));
    return out;
  });
}

Expected<std::optional<SentReminder>> PgStore::SendDueReminder(const std::string& org_id, Time now,
                                                               const ComposeReminder& compose) {
  using Sent = std::optional<SentReminder>;
  return Tx<Sent>([&](Conn& c) -> Expected<Sent> {
    // The organization's lock, then the subscription and the keys as committed after it: a
    // second instance waits here and then sees this one's key.
    auto sub = LockSubscription(c, org_id);
    if (!sub) return sub.error();
    auto org = c.One("SELECT billing_email FROM organizations WHERE id = $1", org_id);
    if (!org) return org.error();
    if (!*org) return Error::NotFound("no such organization");
    const std::optional<std::string> email = (*org)->OptText(0);
    auto keys = c.All("SELECT key FROM reminders_sent WHERE org_id = $1", org_id);
    if (!keys) return keys.error();
    std::set<std::string, std::less<>> sent;
    for (const Row& r : *keys) sent.insert(r.Text(0));
    std::optional<Reminder> due = DueReminder(catalog_, *sub, now, sent);
    if (!due) return Sent();
    // The primary key decides between senders that got past the lock all the same.
    auto inserted = c.Run(
        "INSERT INTO reminders_sent(org_id, key, kind, period_end, sent_at, emailed) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, key) DO NOTHING",
        org_id, due->key, to_string(due->kind), due->period_end, now, email.has_value());
    if (!inserted) return inserted.error();
    if (*inserted == 0) return Sent();  // another sender was first
    // The event goes with the key, whether or not there is an address to e-mail.
    const webhook::NewEvent event = webhook::ReminderEvent(catalog_, *sub, *due, now);
    if (auto r = AppendEvent(c, org_id, event.type, event.data, now); !r) return r.error();
    if (email) {
      const ReminderMail mail = compose(org_id, *email, *sub, *due);
      // Sent with the COMMIT.
      c.Defer(
          "INSERT INTO outbox(org_id, payment_id, message_id, to_addr, subject, body, created_at, "
          "next_attempt_at) VALUES ($1, NULL, $2, $3, $4, $5, $6, $6) "
          "ON CONFLICT (message_id) DO NOTHING",
          org_id, ReminderMessageId(org_id, due->key), mail.to, mail.subject, mail.body, now);
    }
    return Sent(SentReminder{std::move(due).value(), email.has_value()});
  });
}

Expected<std::string> PgStore::PayLinkSecret(const std::string& candidate) {
  if (candidate.empty()) return Error::Internal("an empty pay-link secret cannot be stored");
  return Tx<std::string>([&](Conn& c) -> Expected<std::string> {
    // The first instance to store one wins; every other reads the winner's.
    if (auto r = c.Run("INSERT INTO server_secrets(name, value) VALUES ('pay_link', $1) "
                       "ON CONFLICT (name) DO NOTHING",
                       candidate);
        !r) {
      return r.error();
    }
    auto row = c.One("SELECT value FROM server_secrets WHERE name = 'pay_link'");
    if (!row) return row.error();
    if (!*row) return Error::Internal("the pay-link secret was not stored");
    return (*row)->Text(0);
  });
}

}  // namespace sima::server

namespace sima::server {

// One statement outside a transaction (LoadUsage without adds never locks): a consistent
// snapshot, nothing counted, nothing written.
Expected<UsageState> PgStore::PeekUsage(const std::string& org_id, Time now) {
  return Read<UsageState>(
      [&](Conn& c) -> Expected<UsageState> { return LoadUsage(c, org_id, now, {}); });
}

namespace {

constexpr std::string_view kChangesChannel = "sima_changes";

// `why` names the server without its password (pg.h).
void LogWatch(std::string_view msg, const std::string& why) {
  std::cerr << Json{{"msg", msg}, {"error", why}}.dump(-1, ' ', false,
                                                       Json::error_handler_t::replace)
            << std::endl;
}

}  // namespace

// NOTIFY is delivered to every listening session of the database, this instance's watcher
// too: the payload names the instance so that one skips it.
ExpectedDone PgStore::AnnounceChange(const std::string& org_id) {
  return Read<Done>([&](Conn& c) -> ExpectedDone {
    auto r = c.Run("SELECT pg_notify($1, $2)", kChangesChannel, instance_id_ + ":" + org_id);
    if (!r) return r.error();
    return Done{};
  });
}

ExpectedDone PgStore::WatchChanges(std::function<void(const std::string&)> on_change) {
  if (watcher_.joinable()) return Error::Internal("the store already has a watcher");
  watcher_stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (watcher_stop_fd_ < 0) return Error::Internal("cannot create the watcher's eventfd");
  watcher_ = std::thread([this, f = std::move(on_change)]() mutable { Watch(std::move(f)); });
  return Done{};
}

void PgStore::StopWatching() {
  if (!watcher_.joinable()) return;
  const uint64_t one = 1;
  (void)!write(watcher_stop_fd_, &one, sizeof(one));
  watcher_.join();
  close(watcher_stop_fd_);
  watcher_stop_fd_ = -1;
}

void PgStore::Watch(std::function<void(const std::string&)> on_change) {
  // Waits up to `ms` for readability of `fd` (-1: none) or the stop; false when stopping.
  auto wait = [this](int fd, int ms) {
    pollfd fds[2] = {{watcher_stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    const int n = poll(fds, fd >= 0 ? 2 : 1, ms);
    return !(n > 0 && (fds[0].revents & POLLIN) != 0);
  };
  std::mt19937 jitter{std::random_device{}()};
  std::chrono::milliseconds backoff{250};
  const std::string ours = instance_id_ + ":";
  for (;;) {
    auto listener = pg::Listener::Open(pool_.info(), std::string(kChangesChannel));
    if (!listener) {
      // The database is away: try again later, 250 ms doubling to 10 s, with jitter so that
      // instances do not all come back at once.
      LogWatch("live usage: cannot listen to other instances, will retry",
               listener.error().message);
      const auto ms =
          backoff.count() / 2 + static_cast<int64_t>(jitter() % (backoff.count() / 2 + 1));
      if (!wait(-1, static_cast<int>(ms))) return;
      backoff = std::min(backoff * 2, std::chrono::milliseconds{10000});
      continue;
    }
    backoff = std::chrono::milliseconds{250};
    watcher_pid_ = (*listener)->backend_pid();
    for (;;) {
      if (!wait((*listener)->socket(), -1)) {
        watcher_pid_ = 0;
        return;
      }
      auto payloads = (*listener)->Drain();
      if (!payloads) {
        LogWatch("live usage: lost the listening connection, reconnecting",
                 payloads.error().message);
        break;
      }
      for (const std::string& p : *payloads) {
        if (p.rfind(ours, 0) == 0) continue;
        const auto colon = p.find(':');
        if (colon == std::string::npos || colon + 1 == p.size()) continue;
        on_change(p.substr(colon + 1));
      }
    }
    watcher_pid_ = 0;
  }
}

}  // namespace sima::server
