#include "events.h"

#include <cstdio>

#include "auth.h"
#include "sima/lifecycle.h"
#include "sima/usage.h"

namespace sima::server {
namespace {

// The server's time in milliseconds: `now` (whole seconds, maybe the demo clock) plus the
// real clock's fraction of a second, so events read within one second still order.
int64_t NowMillis(Time now) {
  const auto real = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  return static_cast<int64_t>(now.time_since_epoch().count()) * 1000 + real % 1000;
}

// "2026-12-02T02:10:00.123Z"
std::string FormatMillis(int64_t ms) {
  std::string text = FormatTime(Time{std::chrono::seconds{ms / 1000}});
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03d", static_cast<int>(ms % 1000));
  text.insert(text.size() - 1, frac);
  return text;
}

}  // namespace

Expected<Json> UsageAnswer(const Catalog& catalog, const std::string& org_id,
                           const UsageState& state, Time now) {
  const std::string_view plan = PlanInForce(catalog, state.subscription, now);
  auto rows = UsageView(catalog, plan, state.usage, state.overrides, now);
  if (!rows) {
    return Error::Internal("the organization's plan is not in the catalog: " +
                           rows.status().ToString());
  }
  Json overrides = Json::array();
  for (const Override& o : state.overrides) overrides.push_back(OverrideToJson(catalog, o));
  Json body = {{"org_id", org_id},
               {"plan", plan},
               {"subscription", SubscriptionToJson(catalog, state.subscription, now)},
               {"period", PeriodToJson(state.period)},
               {"usage", UsageRowsToJson(rows.value())},
               {"overrides", std::move(overrides)}};
  const std::string hash = Sha256Hex(body.dump()).substr(0, 16);
  const int64_t ms = NowMillis(now);
  body["as_of"] = FormatMillis(ms);
  body["version"] = std::to_string(ms) + "-" + hash;
  return body;
}

Expected<OrgEvent> BuildOrgEvent(Store& store, const Catalog& catalog, const std::string& org_id,
                                 Time now) {
  auto state = store.PeekUsage(org_id, now);
  if (!state) return state.error();
  auto body = UsageAnswer(catalog, org_id, state.value(), now);
  if (!body) return body.error();
  OrgEvent event;
  event.org_id = org_id;
  event.version = (*body)["version"].get<std::string>();
  event.data = body->dump();
  return event;
}

std::string_view VersionHash(std::string_view version) {
  const auto dash = version.find('-');
  if (dash == std::string_view::npos || dash == 0 || version.size() - dash - 1 != 16) return {};
  for (char c : version.substr(0, dash)) {
    if (c < '0' || c > '9') return {};
  }
  return version.substr(dash + 1);
}

}  // namespace sima::server

namespace sima::server {

ChangeFeed::ChangeFeed(Store& store, const Catalog& catalog, NowFn now, Options options)
    : store_(store), catalog_(catalog), now_(std::move(now)), options_(options) {}

ChangeFeed::~ChangeFeed() { Stop(); }

void ChangeFeed::AddSink(EventSink* sink) { sinks_.push_back(sink); }

void ChangeFeed::Start() {
  hook_->feed = this;
  (void)store_.WatchChanges([hook = hook_](const std::string& org_id) {
    std::lock_guard lock(hook->mu);
    if (hook->feed != nullptr) hook->feed->ChangedElsewhere(org_id);
  });
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait(lock, [this] { return stop_ || !pending_.empty() || !announce_.empty(); });
      if (stop_) break;
      // Gather what else changes in the window, then publish each organization once.
      cv_.wait_for(lock, options_.coalesce, [this] { return stop_; });
      if (stop_) break;
      lock.unlock();
      Flush();
      lock.lock();
    }
  });
}

void ChangeFeed::Stop() {
  {
    std::lock_guard lock(hook_->mu);
    hook_->feed = nullptr;
  }
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ChangeFeed::Changed(const std::string& org_id) { Mark(org_id, true); }

void ChangeFeed::ChangedElsewhere(const std::string& org_id) { Mark(org_id, false); }

void ChangeFeed::Mark(const std::string& org_id, bool announce) {
  bool fresh = false;
  {
    std::lock_guard lock(mu_);
    if (announce) announce_.insert(org_id);
    fresh = pending_set_.insert(org_id).second;
    if (fresh) pending_.push_back(org_id);
  }
  // Every organization call lands here: only the first change of a window wakes the thread
  // (a later one is published with it, and announced with it from announce_).
  if (fresh) cv_.notify_all();
}

void ChangeFeed::Flush() {
  std::vector<std::string> orgs;
  std::unordered_set<std::string> announce;
  {
    std::lock_guard lock(mu_);
    orgs.swap(pending_);
    pending_set_.clear();
    announce.swap(announce_);
  }
  for (const std::string& org : announce) (void)store_.AnnounceChange(org);
  for (const std::string& org : orgs) PublishOne(org);
}

void ChangeFeed::PublishOne(const std::string& org_id) {
  std::vector<EventSink*> wanting;
  for (EventSink* sink : sinks_) {
    if (sink->Wants(org_id)) wanting.push_back(sink);
  }
  if (wanting.empty()) return;
  auto event = BuildOrgEvent(store_, catalog_, org_id, now_());
  if (!event) return;  // e.g. the database is down: the next change publishes the state again
  for (EventSink* sink : wanting) sink->Publish(event.value());
}

}  // namespace sima::server
