// The store: everything sima-server keeps, behind a narrow interface of business operations.
// Handlers ask it "create this invoice if the plan allows it", never for SQL, so a PostgreSQL
// backend can be added beside SqliteStore without touching handlers or sdk/.
//
// Contract shared by every implementation:
//  - Each method is one transaction: it happens completely or not at all.
//  - Limit decisions are made with sdk/ (sima::Check on the subscription and the current
//    period's counters) inside the same transaction that creates and counts, so concurrent
//    calls can never push a hard-limited feature past its limit.
//  - Usage counters belong to (org, feature, period start); the period is
//    sima::CurrentPeriod(subscription, catalog.period_days(), now), so a new period starts
//    with zero counts without any job running (lazy rollover). Activating a plan starts a
//    new period, which resets usage the same way.
//  - Every method taking an org_id is an authenticated call of that organization: when it
//    succeeds it also counts one "api_calls" in the same transaction. Failures change nothing.
//  - Objects of another organization are kNotFound, exactly like missing ones.
//  - Errors: kNotFound, kConflict, kValidation (with "field"), kLimitReached (the limit body),
//    kUnavailable / kInternal for storage failures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "error.h"
#include "sima/decision.h"
#include "sima/subscription.h"
#include "sima/time.h"

namespace sima::server {

// Feature keys of the catalog the server itself meters. A catalog without one of them
// leaves that resource unmetered.
inline constexpr std::string_view kInvoices = "invoices";
inline constexpr std::string_view kCustomers = "customers";
inline constexpr std::string_view kTeamMembers = "team_members";
inline constexpr std::string_view kApiCalls = "api_calls";

struct Org {
  std::string id;  // "org_..."
  std::string name;
  Time created_at{};
};

struct NewOrg {
  std::string id;
  std::string name;
  std::string key_hash;       // SHA-256 hex of the secret key; the key itself is never stored
  Subscription subscription;  // FREE from now, or an admin-granted plan
  Time now{};
};

// What a credential resolves to.
struct Credential {
  std::string org_id;
  std::optional<Time> expires_at;  // sessions only
};

struct Invoice {
  std::string id;  // "inv_..."
  int64_t amount_paisa = 0;
  std::optional<std::string> customer_id;  // a customer of the same organization
  std::string description;
  Time created_at{};
};

struct Customer {
  std::string id;  // "cus_..."
  std::string name;
  std::string email;
  Time created_at{};
};

struct TeamMember {
  std::string id;  // "tm_..."
  std::string email;
  std::string name;
  Time created_at{};
};

// The organization's plan and counts, for the usage view.
struct UsageState {
  Subscription subscription;
  Period period;
  Usage usage;
};

// POST /usage/{feature}/.
struct MeterRequest {
  std::string feature;
  int64_t quantity = 1;
  std::optional<std::string> idempotency_key;
};

// The answer to a metering call; `replayed` when an earlier call with the same idempotency
// key is answered again (and nothing was counted).
struct MeterResult {
  std::string feature;
  int64_t quantity = 0;
  std::string plan;
  int64_t used = 0;  // after the call
  Limit limit = Limit::Unlimited();
  bool over = false;
  bool replayed = false;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- organizations and credentials (admin) ---
  // Creates the organization, its subscription and its first secret key.
  virtual Expected<Org> CreateOrg(const NewOrg& org) = 0;
  // The organization a live secret key (by hash) belongs to; kUnauthorized when none.
  virtual Expected<Credential> FindSecretKey(const std::string& key_hash) = 0;
  // Revokes a secret key; kNotFound when no such live key.
  virtual ExpectedDone RevokeSecretKey(const std::string& key_hash, Time now) = 0;
  // A session (by hash) that has not expired at `now`; kUnauthorized otherwise.
  virtual Expected<Credential> FindSession(const std::string& token_hash, Time now) = 0;

  // --- organization-scoped calls (each counts one api call on success) ---
  virtual ExpectedDone CreateSession(const std::string& org_id, const std::string& token_hash,
                                     Time expires_at, Time now) = 0;
  // Counts this call, then reads the subscription and the current period's counts.
  virtual Expected<UsageState> ReadUsage(const std::string& org_id, Time now) = 0;

  // Create-if-allowed: kLimitReached when the plan's hard limit would be exceeded;
  // kValidation ("customer_id") for an unknown customer; kConflict for a team member whose
  // e-mail (compared without ASCII case) is already on the team.
  virtual Expected<Invoice> CreateInvoice(const std::string& org_id, const Invoice& invoice,
                                          Time now) = 0;
  virtual Expected<Customer> CreateCustomer(const std::string& org_id, const Customer& customer,
                                            Time now) = 0;
  virtual Expected<TeamMember> CreateTeamMember(const std::string& org_id,
                                                const TeamMember& member, Time now) = 0;

  // Newest first, at most `limit`.
  virtual Expected<std::vector<Invoice>> ListInvoices(const std::string& org_id, int64_t limit,
                                                      Time now) = 0;
  virtual Expected<std::vector<Customer>> ListCustomers(const std::string& org_id, int64_t limit,
                                                        Time now) = 0;
  virtual Expected<std::vector<TeamMember>> ListTeamMembers(const std::string& org_id,
                                                            int64_t limit, Time now) = 0;
  virtual Expected<Invoice> GetInvoice(const std::string& org_id, const std::string& id,
                                       Time now) = 0;
  virtual Expected<Customer> GetCustomer(const std::string& org_id, const std::string& id,
                                         Time now) = 0;
  virtual Expected<TeamMember> GetTeamMember(const std::string& org_id, const std::string& id,
                                             Time now) = 0;

  // Meters `quantity` of a catalog feature. A repeated idempotency key returns the first
  // answer and counts nothing; kConflict if it was used with another feature or quantity.
  // Refusals (kLimitReached) are not remembered: a retry after an upgrade may succeed.
  // kNotFound for a feature the catalog does not have.
  virtual Expected<MeterResult> RecordUsage(const std::string& org_id, const MeterRequest& req,
                                            Time now) = 0;
};

}  // namespace sima::server
