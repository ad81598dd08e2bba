// The whole sima-server in one object: configuration, catalog, store, authenticator and the
// HTTP server. main.cc runs one; tests run one in-process on a free port.
//
//   auto app = App::Create({config});           // opens the DB, applies migrations
//   auto port = (*app)->Bind();                 // config.port 0 = any free port
//   std::thread t([&] { (*app)->Listen(); });   // serves until Stop()
//   ...
//   (*app)->Stop(); t.join();                   // in-flight requests finish first
//
// Create() also starts five background threads (Options::background): the reconciler
// (pending payments), the e-mail outbox sender, the webhook sender (webhook/sender.h, every
// SIMA_WEBHOOK_INTERVAL_MS), the scheduler (renewal reminders, every SIMA_SCHEDULER_INTERVAL)
// and the pruning job (PruneOnce). The destructor stops them before
// closing the DB. With SIMA_DEMO_CLOCK=1 the server's clock is Options::now plus the demo
// clock's offset (POST /demo/clock/).
#pragma once

#include <atomic>
#include <memory>

#include "auth.h"
#include "clock.h"
#include "config.h"
#include "http.h"
#include "periodic.h"
#include "sima/catalog.h"
#include "store.h"

namespace sima::server {

class AccessLogWriter;
class ChangeFeed;
class HttpServer;
class NchanPublisher;
class OutboxSender;
class PayLinks;
class Reconciler;
class Scheduler;
class StreamHub;
namespace webhook {
class Sender;
}

class App {
 public:
  struct Options {
    Config config;
    NowFn now = SystemNow;
    // Where access-log lines go; unset = as config.access_log says.
    LogSink access_log = nullptr;
    // The catalog; unset = config.catalog's file, or the built-in one.
    std::optional<Catalog> catalog = std::nullopt;
    // Run the reconciler, the outbox and webhook senders and the rest of the background
    // threads (tests may drive them by hand).
    bool background = true;
  };

  // Loads the catalog, opens the store, reads the pay-link secret (Store::PayLinkSecret).
  // Errors: a bad catalog file, an unusable database, SIMA_DEMO_CLOCK=1 with a gateway URL
  // that is not loopback (CheckDemoClock).
  static Expected<std::unique_ptr<App>> Create(Options options);
  ~App();  // stops serving if needed, then closes the database

  // Binds config.host:config.port (port 0: a free port). Returns the bound port.
  Expected<int> Bind();
  // Serves until Stop(). REQUIRES: Bind() succeeded. Returns false if serving failed.
  bool Listen();
  // Stops accepting, lets in-flight requests finish; Listen() then returns. Thread-safe.
  void Stop();
  bool running() const;
  // Reopens the access log file (after logrotate renamed it). Thread-safe.
  void ReopenLogs();

  const Config& config() const { return options_.config; }
  const Catalog& catalog() const { return catalog_; }
  Store& store() { return *store_; }
  Authenticator& auth() { return *auth_; }
  Reconciler& reconciler() { return *reconciler_; }
  OutboxSender& outbox() { return *outbox_; }
  webhook::Sender& webhooks() { return *webhooks_; }
  Scheduler& scheduler() { return *scheduler_; }
  // Live usage events (events.h); nullptr when SIMA_EVENTS=off.
  ChangeFeed* changes() { return changes_.get(); }
  // The embedded event streams (stream_hub.h); nullptr unless SIMA_EVENTS=embedded.
  StreamHub* streams() { return streams_.get(); }
  const PayLinks& pay_links() const { return *pay_links_; }
  // The server's clock (with the demo clock's offset when SIMA_DEMO_CLOCK=1).
  Time Now() const { return options_.now(); }

  // The pruning job (every kPruneInterval in the background): expired sessions and
  // idempotency keys past SIMA_IDEMPOTENCY_TTL, kPruneBatch rows per transaction, at most
  // kPruneMaxBatches transactions per pass (a backlog is worked off over several passes).
  static constexpr std::chrono::milliseconds kPruneInterval{60000};
  static constexpr int64_t kPruneBatch = 1000;
  static constexpr int64_t kPruneMaxBatches = 100;
  Expected<PruneResult> PruneOnce();

 private:
  App(Options options, Catalog catalog);
  Options options_;
  Catalog catalog_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<OutboxSender> outbox_;
  std::unique_ptr<webhook::Sender> webhooks_;
  std::unique_ptr<Periodic> pruner_;
  std::unique_ptr<DemoClock> demo_clock_;
  std::unique_ptr<PayLinks> pay_links_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<StreamHub> streams_;     // declared before the feed: outlives it
  std::unique_ptr<NchanPublisher> nchan_;  // SIMA_EVENTS=nchan: the feed's sink
  std::unique_ptr<ChangeFeed> changes_;
  std::unique_ptr<class KhaltiRefunds> khalti_refunds_;  // Services.khalti_refunds
  std::unique_ptr<Services> services_;
  std::unique_ptr<HttpServer> http_;
  LogSink log_;
  std::shared_ptr<AccessLogWriter> log_writer_;
  int listen_fd_ = -1;
};

}  // namespace sima::server
