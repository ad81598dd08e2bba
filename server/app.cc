#include "app.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "access_log.h"
#include "connection.h"
#include "events.h"
#include "gateway/khalti_refund.h"
#include "gateway_adapters.h"
#include "handlers.h"
#include "mail/mailer.h"
#include "mail/reminder.h"
#include "nchan_publisher.h"
#include "outbox_sender.h"
#include "pay_link.h"
#include "reconciler.h"
#include "scheduler.h"
#include "sima/json.h"
#include "store_factory.h"
#include "stream_hub.h"
#include "webhook/sender.h"

namespace sima::server {
namespace {

Expected<Catalog> LoadCatalog(const std::string& path) {
  if (path.empty()) return Catalog::Default();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Unavailable("cannot read the catalog file \"" + path + "\"");
  std::stringstream text;
  text << in.rdbuf();
  auto catalog = ParseCatalog(text.str());
  if (!catalog) {
    return Error::Validation("SIMA_CATALOG",
                             "bad catalog \"" + path + "\": " + catalog.status().ToString());
  }
  return std::move(catalog).value();
}

}  // namespace

App::App(Options options, Catalog catalog)
    : options_(std::move(options)), catalog_(std::move(catalog)) {}

Expected<std::unique_ptr<App>> App::Create(Options options) {
  Catalog catalog = Catalog::Default();
  if (options.catalog) {
    catalog = *options.catalog;
  } else {
    auto loaded = LoadCatalog(options.config.catalog);
    if (!loaded) return loaded.error();
    catalog = std::move(loaded).value();
  }
  std::unique_ptr<App> app(new App(std::move(options), std::move(catalog)));
  const Config& config = app->options_.config;
  if (auto demo = CheckDemoClock(config); !demo) return demo.error();
  if (config.demo_clock != 0) {
    app->demo_clock_ = std::make_unique<DemoClock>(app->options_.now);
    app->options_.now = app->demo_clock_->AsFn();
  }

  auto store = OpenStore(config, app->catalog_);
  if (!store) return store.error();
  app->store_ = std::move(store).value();
  // One secret for every instance on this database; the candidate is used only if none is stored.
  auto candidate = RandomHex(32);
  if (!candidate) return candidate.error();
  auto secret = app->store_->PayLinkSecret(candidate.value());
  if (!secret) return secret.error();
  app->pay_links_ = std::make_unique<PayLinks>(std::move(secret).value(), config.public_url);
  app->auth_ = std::make_unique<Authenticator>(*app->store_, app->options_.now);
  const PaymentTiming timing = PaymentTimingOf(config);
  auto gateways = OpenGateways(config, timing);
  if (!gateways) return gateways.error();
  App* self = app.get();
  app->services_ = std::make_unique<Services>(Services{
      *app->store_, app->catalog_, config, *app->auth_, app->options_.now, gateways.value(), timing,
      app->pay_links_.get(), app->demo_clock_.get(), [self] { self->scheduler_->RunOnce(); }});
  // Refunds go through Khalti's refund API whenever Khalti payments can be made.
  if (SplitGatewayUrl(config.khalti_base_url) && !config.khalti_secret_key.empty()) {
    auto refund_base = KhaltiRefunds::RefundBase(config);
    if (!refund_base) return refund_base.error();
    app->khalti_refunds_ = std::make_unique<KhaltiRefunds>(
        *refund_base, config.khalti_base_url, config.khalti_secret_key,
        GatewayTimeouts::Reading(std::chrono::milliseconds{config.khalti_timeout_ms}));
    app->services_->khalti_refunds = app->khalti_refunds_.get();
  }
  if (config.events != "off") {
    app->changes_ = std::make_unique<ChangeFeed>(
        *app->store_, app->catalog_, app->options_.now,
        ChangeFeed::Options{std::chrono::milliseconds{config.events_coalesce_ms}});
    app->services_->changes = app->changes_.get();
    if (config.events == "nchan") {
      auto nchan = NchanPublisher::Create(config.nchan_publish_url);
      if (!nchan) return nchan.error();
      app->nchan_ = std::move(nchan).value();
      app->changes_->AddSink(app->nchan_.get());
    }
  }
  if (config.events == "embedded") {
    // Each stream is a descriptor: thousands of them need more than the usual soft limit of
    // 1024 (deploy/systemd/sima-server.service sets LimitNOFILE).
    RaiseOpenFileLimit();
    app->streams_ = std::make_unique<StreamHub>(StreamHub::Options{
        static_cast<size_t>(config.max_streams), static_cast<size_t>(config.max_streams_per_org),
        std::chrono::seconds{config.stream_heartbeat_seconds}});
    app->changes_->AddSink(app->streams_.get());
    app->services_->streams = app->streams_.get();
    app->streams_->Start();
  }
  app->reconciler_ = std::make_unique<Reconciler>(*app->store_, gateways.value(), app->options_.now,
                                                  timing, app->changes_.get());
  app->outbox_ = std::make_unique<OutboxSender>(
      *app->store_,
      config.smtp_url.empty()
          ? MakeFolderMailer(MailDir(config))
          : MakeSmtpMailer(config.smtp_url, {config.smtp_starttls, config.smtp_ca_file}),
      config.mail_from, app->options_.now);
  app->webhooks_ = std::make_unique<webhook::Sender>(
      *app->store_, webhook::SenderOptions::From(config), app->options_.now);
  app->services_->poke_webhooks = [self] { self->webhooks_->Poke(); };
  app->scheduler_ =
      std::make_unique<Scheduler>(*app->store_, ReminderComposer(app->catalog_, *app->pay_links_),
                                  app->options_.now, [self] { self->outbox_->Poke(); });
  if (app->options_.background) {
    if (app->changes_) app->changes_->Start();
    app->reconciler_->Start(std::chrono::milliseconds{config.reconcile_interval_ms});
    app->outbox_->Start(std::chrono::milliseconds{config.outbox_interval_ms});
    app->webhooks_->Start(std::chrono::milliseconds{config.webhook_interval_ms});
    app->scheduler_->Start(std::chrono::seconds{config.scheduler_interval_seconds});
    app->pruner_ = std::make_unique<Periodic>();
    app->pruner_->Start(kPruneInterval, [app = app.get()] { (void)app->PruneOnce(); });
  }

  app->log_ = app->options_.access_log;
  if (!app->log_ && config.access_log != "off") {
    FILE* f = stderr;
    const bool to_file = config.access_log != "stderr" && !config.access_log.empty();
    if (to_file) {
      f = std::fopen(config.access_log.c_str(), "a");
      if (f == nullptr) {
        return Error::Unavailable("cannot open the access log \"" + config.access_log + "\"");
      }
    }
    auto writer = std::make_shared<AccessLogWriter>(f, to_file, to_file ? config.access_log : "");
    app->log_writer_ = writer;
    app->log_ = [writer](std::string_view line) { writer->Write(line); };
  }

  ConnectionLimits limits;
  // Each worker answers one request at a time; idle and half-sent connections wait in the
  // connection layer without one.
  limits.workers = static_cast<size_t>(config.threads);
  limits.max_header_bytes = static_cast<size_t>(config.max_header_bytes);
  limits.read_timeout = std::chrono::milliseconds{config.read_timeout_ms};
  limits.keepalive_timeout = std::chrono::milliseconds{config.keepalive_timeout_ms};
  limits.request_timeout = std::chrono::milliseconds{config.request_timeout_ms};
  auto http = std::make_unique<HttpServer>(limits);
  http->set_socket_options([self](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (self->listen_fd_ == -2) self->listen_fd_ = sock;  // the listening socket, in Bind()
  });
  std::vector<Route> routes = ApiRoutes();
  if (!app->demo_clock_) {  // without SIMA_DEMO_CLOCK=1 the demo routes do not exist
    std::erase_if(routes, [](const Route& r) { return r.pattern.rfind("/demo/", 0) == 0; });
  }
  InstallRoutes(*http, *app->services_, std::move(routes), app->log_);
  app->http_ = std::move(http);
  return app;
}

App::~App() {
  if (http_ && http_->is_running()) http_->stop();
  if (http_) http_->Shutdown();  // in-flight requests finish before the store closes
  http_.reset();
  // The background threads use the store: they stop before it closes.
  if (changes_) changes_->Stop();
  if (streams_) streams_->Stop();  // after the feed: nothing publishes to it any more
  if (pruner_) pruner_->Stop();
  if (scheduler_) scheduler_->Stop();
  if (reconciler_) reconciler_->Stop();
  if (outbox_) outbox_->Stop();
  if (webhooks_) webhooks_->Stop();
  scheduler_.reset();
  reconciler_.reset();
  outbox_.reset();
  webhooks_.reset();
  log_ = nullptr;
  log_writer_.reset();  // writes what is still buffered
  auth_.reset();
  store_.reset();  // checkpoints and closes the database
}

Expected<int> App::Bind() {
  const Config& config = options_.config;
  listen_fd_ = -2;
  int port = config.port;
  if (port == 0) {
    port = http_->bind_to_any_port(config.host);
    if (port < 0) port = 0;
  } else if (!http_->bind_to_port(config.host, port)) {
    port = 0;
  }
  const int fd = listen_fd_;
  listen_fd_ = -1;
  if (port == 0) {
    return Error::Unavailable("cannot listen on " + config.host + ":" +
                              std::to_string(config.port));
  }
  // httplib listens with a backlog of 5: a burst of new connections would wait on SYN
  // retries. Listening again on the bound socket raises the backlog.
  int accepting = 0;
  socklen_t len = sizeof(accepting);
  if (fd >= 0 && ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting) {
    ::listen(fd, 1024);
  }
  return port;
}

Expected<PruneResult> App::PruneOnce() {
  return store_->Prune(options_.now(), kPruneBatch, kPruneMaxBatches);
}

bool App::Listen() { return http_->listen_after_bind(); }

void App::Stop() {
  http_->stop();
  http_->Shutdown();
  // The streams end with the server (clients reconnect to another instance or later).
  if (streams_) streams_->Stop();
}

void App::ReopenLogs() {
  if (log_writer_) log_writer_->Reopen();
}

bool App::running() const { return http_->is_running(); }

}  // namespace sima::server
