// Live usage: what changes an organization's plan or usage is pushed to its open browsers
// (docs/api.md#live-usage-events).
//
//   a request, a payment outcome, an admin change ──► ChangeFeed::Changed(org)
//        (and PostgreSQL NOTIFY from another instance ──► ChangeFeed::ChangedElsewhere(org))
//   ChangeFeed: gathers each organization's changes for SIMA_EVENTS_COALESCE_MS, reads the
//        state once (Store::PeekUsage: no API call counted, no write), builds one OrgEvent and
//        hands it to every EventSink that wants it:
//   StreamHub (stream_hub.h): the embedded streams of GET /events/{org_id}/, held by one epoll
//        thread, no worker each;  NchanPublisher: POSTs it to nginx's nchan, which holds them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "clock.h"
#include "error.h"
#include "sima/catalog.h"
#include "sima/json.h"
#include "store.h"

namespace sima::server {

// One organization's state as pushed: the GET /billing/usage/ answer with "as_of" and
// "version" (UsageAnswer).
struct OrgEvent {
  std::string org_id;
  std::string version;  // the SSE id: "<as_of in ms>-<16 hex of the state>"
  std::string data;     // the JSON text, one line
};

// The body of GET /billing/usage/ for `state` read at `now`: org_id, plan, subscription, period,
// usage, overrides, as_of (RFC 3339 with milliseconds) and version. One piece for the handler
// and the events. The version's hash covers everything but as_of, so two reads of the same
// state differ only in their time part.
Expected<Json> UsageAnswer(const Catalog& catalog, const std::string& org_id,
                           const UsageState& state, Time now);

// The event of `org_id` now: Store::PeekUsage + UsageAnswer. NotFound for an unknown org.
Expected<OrgEvent> BuildOrgEvent(Store& store, const Catalog& catalog, const std::string& org_id,
                                 Time now);

// The hash part of a version ("" when `version` is not one of ours): equal hashes, equal states.
std::string_view VersionHash(std::string_view version);

// Where built events go.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Whether an event of `org_id` has a reader here (the hub: an open stream on this instance;
  // nchan: always). The feed reads nothing for an organization no sink wants.
  virtual bool Wants(const std::string& org_id) = 0;
  // Delivers `event`. Never blocks on a slow reader.
  virtual void Publish(const OrgEvent& event) = 0;
};

// Gathers changes and publishes one event per organization and window (see the top).
class ChangeFeed {
 public:
  struct Options {
    std::chrono::milliseconds coalesce{100};  // SIMA_EVENTS_COALESCE_MS
  };
  ChangeFeed(Store& store, const Catalog& catalog, NowFn now, Options options);
  ~ChangeFeed();  // Stop()
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // REQUIRES: before Start(). `sink` outlives the feed.
  void AddSink(EventSink* sink);
  // Starts the publishing thread and the store's watch of other instances' changes
  // (Store::WatchChanges). Without Start, changes wait for Flush() (tests).
  void Start();
  void Stop();

  // `org_id` changed on this instance (after its commit): published within the window, and
  // announced to the other instances on the database (Store::AnnounceChange).
  void Changed(const std::string& org_id);
  // `org_id` changed on another instance: published here, not announced again.
  void ChangedElsewhere(const std::string& org_id);
  // Builds and publishes every pending organization now, on the caller's thread.
  void Flush();

 private:
  void Mark(const std::string& org_id, bool announce);
  void PublishOne(const std::string& org_id);

  Store& store_;
  const Catalog& catalog_;
  NowFn now_;
  Options options_;
  std::vector<EventSink*> sinks_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> pending_;  // in arrival order
  std::unordered_set<std::string> pending_set_;
  std::unordered_set<std::string> announce_;  // to tell other instances, once per window
  bool stop_ = false;
  std::thread thread_;
  // What the store's watcher calls: the store (and its watcher thread) outlives the feed, so
  // Stop() unhooks the feed under this lock and later notices are dropped.
  struct Hook {
    std::mutex mu;
    ChangeFeed* feed = nullptr;
  };
  std::shared_ptr<Hook> hook_ = std::make_shared<Hook>();
};

}  // namespace sima::server
