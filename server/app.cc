#include "app.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "access_log.h"
#include "connection.h"
#include "gateway/khalti_client.h"
#include "gateway_adapters.h"
#include "handlers.h"
#include "mail/mailer.h"
#include "outbox_sender.h"
#include "reconciler.h"
#include "sima/json.h"
#include "store_factory.h"

namespace sima::server {
namespace {

Expected<Catalog> LoadCatalog(const std::string& path) {
  if (path.empty()) return Catalog::Default();
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error::Validation("SIMA_CATALOG", "cannot read the catalog file \"" + path + "\"");
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

  auto store = OpenStore(config, app->catalog_);
  if (!store) return store.error();
  app->store_ = std::move(store).value();
  app->auth_ = std::make_unique<Authenticator>(*app->store_, app->options_.now);
  if (!SplitGatewayUrl(config.khalti_base_url)) {
    return Error::Validation("KHALTI_BASE_URL", "KHALTI_BASE_URL must be an http(s) URL");
  }
  const std::chrono::milliseconds read_timeout{config.khalti_timeout_ms};
  app->khalti_ = std::make_unique<KhaltiClient>(
      config.khalti_base_url, config.khalti_secret_key,
      GatewayTimeouts{std::min(read_timeout, std::chrono::milliseconds{3000}), read_timeout});
  app->khalti_gateway_ = std::make_unique<KhaltiGateway>(*app->khalti_);
  // Without its secret key eSewa stays off: data signed with an empty key proves nothing.
  if (!config.esewa_secret_key.empty()) {
    if (!SplitGatewayUrl(config.esewa_status_url)) {
      return Error::Validation("ESEWA_STATUS_URL", "ESEWA_STATUS_URL must be an http(s) URL");
    }
    if (!SplitGatewayUrl(config.esewa_form_url)) {
      return Error::Validation("ESEWA_FORM_URL", "ESEWA_FORM_URL must be an http(s) URL");
    }
    app->esewa_gateway_ = std::make_unique<EsewaGateway>(
        EsewaConfig{config.esewa_form_url, config.esewa_status_url, config.esewa_product_code,
                    config.esewa_secret_key},
        GatewayTimeouts{std::min(read_timeout, std::chrono::milliseconds{3000}), read_timeout},
        std::chrono::minutes{config.esewa_session_minutes});
  }
  app->services_ = std::make_unique<Services>(
      Services{*app->store_, app->catalog_, config, *app->auth_, app->options_.now,
               app->khalti_gateway_.get(), app->esewa_gateway_.get()});
  app->reconciler_ = std::make_unique<Reconciler>(
      *app->store_, PaymentGateways{app->khalti_gateway_.get(), app->esewa_gateway_.get()},
      app->options_.now);
  app->outbox_ = std::make_unique<OutboxSender>(
      *app->store_,
      config.smtp_url.empty() ? MakeFolderMailer(MailDir(config)) : MakeSmtpMailer(config.smtp_url),
      config.mail_from, app->options_.now);
  if (app->options_.background) {
    app->reconciler_->Start(std::chrono::milliseconds{config.reconcile_interval_ms});
    app->outbox_->Start(std::chrono::milliseconds{config.outbox_interval_ms});
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
        return Error::Validation("SIMA_ACCESS_LOG", "cannot open \"" + config.access_log + "\"");
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
  App* self = app.get();
  http->set_socket_options([self](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (self->listen_fd_ == -2) self->listen_fd_ = sock;  // the listening socket, in Bind()
  });
  InstallRoutes(*http, *app->services_, ApiRoutes(), app->log_);
  app->http_ = std::move(http);
  return app;
}

App::~App() {
  if (http_ && http_->is_running()) http_->stop();
  if (http_) http_->Shutdown();  // in-flight requests finish before the store closes
  http_.reset();
  // The background threads use the store: they stop before it closes.
  if (pruner_) pruner_->Stop();
  if (reconciler_) reconciler_->Stop();
  if (outbox_) outbox_->Stop();
  reconciler_.reset();
  outbox_.reset();
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
    return Error::Validation("SIMA_LISTEN",
                             "cannot listen on " + config.host + ":" + std::to_string(config.port));
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
}

void App::ReopenLogs() {
  if (log_writer_) log_writer_->Reopen();
}

bool App::running() const { return http_->is_running(); }

}  // namespace sima::server
