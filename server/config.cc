#include "config.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "nchan_publisher.h"
#include "pg.h"
#include "sima/text.h"

namespace sima::server {
namespace {

struct Option {
  const char* env;
  const char* help;
  bool secret;
  std::string Config::*text = nullptr;
  int64_t Config::*number = nullptr;
  int64_t min = 0;
  int64_t max = 0;
};

const std::vector<Option>& Options() {
  static const std::vector<Option> options = {
      {"SIMA_LISTEN", "address:port to listen on", false, &Config::listen},
      {"SIMA_DB",
       "SQLite database file (created if missing), or a PostgreSQL database as "
       "postgresql://user:password@host:port/db (several instances may share it)",
       false, &Config::db},
      {"SIMA_DB_POOL", "PostgreSQL connections this instance opens at most", false, nullptr,
       &Config::db_pool, 1, 1000},
      {"SIMA_PUBLIC_URL", "where browsers reach this server (callbacks, redirects)", false,
       &Config::public_url},
      {"SIMA_APP_URL", "where the web app's success/failure pages live", false, &Config::app_url},
      {"SIMA_ADMIN_TOKEN", "admin API token; unset = admin API off", true, &Config::admin_token},
      {"SIMA_CATALOG", "plan catalog JSON file; unset = the built-in catalog", false,
       &Config::catalog},
      {"SIMA_SESSION_TTL", "browser session lifetime in seconds", false, nullptr,
       &Config::session_ttl_seconds, 60, 7 * 24 * 3600},
      {"SIMA_MAX_BODY", "largest accepted request body in bytes", false, nullptr,
       &Config::max_body_bytes, 1024, 16 * 1024 * 1024},
      {"SIMA_THREADS", "requests answered at once (idle connections hold none)", false, nullptr,
       &Config::threads, 2, 4096},
      {"SIMA_ACCESS_LOG", "JSON access log: stderr, off, or a file path", false,
       &Config::access_log},
      {"KHALTI_BASE_URL", "Khalti API base", false, &Config::khalti_base_url},
      {"KHALTI_SECRET_KEY", "Khalti merchant secret key", true, &Config::khalti_secret_key},
      {"KHALTI_TIMEOUT_MS", "how long to wait for Khalti's answer, milliseconds", false, nullptr,
       &Config::khalti_timeout_ms, 100, 120000},
      {"ESEWA_FORM_URL", "eSewa payment form URL", false, &Config::esewa_form_url},
      {"ESEWA_STATUS_URL", "eSewa status check URL", false, &Config::esewa_status_url},
      {"ESEWA_PRODUCT_CODE", "eSewa merchant product code", false, &Config::esewa_product_code},
      {"ESEWA_SECRET_KEY", "eSewa HMAC secret key", true, &Config::esewa_secret_key},
      {"ESEWA_TIMEOUT_MS", "how long to wait for eSewa's status answer, milliseconds", false,
       nullptr, &Config::esewa_timeout_ms, 100, 120000},
      {"SMTP_URL", "SMTP server (smtp://host:port); unset = .eml files in SIMA_MAIL_DIR", true,
       &Config::smtp_url},
      {"MAIL_FROM", "sender of e-mails", false, &Config::mail_from},
      {"SIMA_MAIL_DIR",
       "folder for .eml files when SMTP_URL is unset; unset = mail/ beside "
       "the database",
       false, &Config::mail_dir},
      {"SIMA_OUTBOX_DIR", "another name for SIMA_MAIL_DIR", false, &Config::mail_dir},
      {"SIMA_CORS_ORIGINS", "more browser origins allowed by CORS, comma-separated", false,
       &Config::cors_origins},
      {"SIMA_RECONCILE_INTERVAL_MS", "how often pending payments are looked for, milliseconds",
       false, nullptr, &Config::reconcile_interval_ms, 10, 3600000},
      {"SIMA_OUTBOX_INTERVAL_MS", "how often the e-mail outbox is looked at, milliseconds", false,
       nullptr, &Config::outbox_interval_ms, 10, 3600000},
      {"ESEWA_SESSION_MINUTES",
       "minutes after init before eSewa's NOT_FOUND may fail a payment (the payer may still be "
       "on their way to pay)",
       false, nullptr, &Config::esewa_session_minutes, 10, 7 * 24 * 60},
      {"SIMA_INIT_PER_MINUTE", "payment inits an organization may start per minute", false, nullptr,
       &Config::init_per_minute, 1, 100000},
      {"SIMA_OPEN_PAYMENTS_MAX", "open (PENDING) payments an organization may have at once", false,
       nullptr, &Config::open_payments_max, 1, 100000},
      {"SIMA_IDEMPOTENCY_TTL", "seconds an idempotency key is remembered; later it counts again",
       false, nullptr, &Config::idempotency_ttl_seconds, 60, 366 * 24 * 3600},
      {"SIMA_SESSIONS_PER_KEY", "browser sessions kept per secret key; one more ends the oldest",
       false, nullptr, &Config::sessions_per_key, 1, 1000000},
      {"SIMA_WAL_LIMIT", "bytes the SQLite WAL may reach before the writer truncates it", false,
       nullptr, &Config::wal_limit_bytes, 1024 * 1024, int64_t{1} << 40},
      {"SIMA_READ_TIMEOUT_MS", "longest silence allowed inside a request (head or body), ms", false,
       nullptr, &Config::read_timeout_ms, 100, 600000},
      {"SIMA_KEEPALIVE_TIMEOUT_MS", "how long an idle connection is kept open, milliseconds", false,
       nullptr, &Config::keepalive_timeout_ms, 100, 600000},
      {"SIMA_REQUEST_TIMEOUT_MS", "how long a whole request may take to arrive, milliseconds",
       false, nullptr, &Config::request_timeout_ms, 100, 600000},
      {"SIMA_MAX_HEADER_BYTES", "largest request head (request line and headers) in bytes", false,
       nullptr, &Config::max_header_bytes, 1024, 1048576},
      {"SIMA_TRUSTED_PROXIES",
       "peer addresses (comma-separated) whose X-Real-IP / X-Forwarded-For names the client", false,
       &Config::trusted_proxies},
      {"SIMA_SCHEDULER_INTERVAL",
       "how often renewal reminders and expiries are looked for (pay-link e-mails), seconds", false,
       nullptr, &Config::scheduler_interval_seconds, 1, 3600},
      {"SIMA_DEMO_CLOCK",
       "1 = demos only: POST /demo/clock/ (admin token, from loopback) moves the server's clock "
       "forward; refused unless every gateway URL is loopback (the simulator)",
       false, nullptr, &Config::demo_clock, 0, 1},
      {"SIMA_EVENTS",
       "who holds the browsers' live usage streams: embedded (this server), nchan (nginx, "
       "published to SIMA_NCHAN_PUBLISH_URL) or off",
       false, &Config::events},
      {"SIMA_WEBHOOK_ALLOW_PRIVATE",
       "1 = webhooks may go to loopback and private addresses (demos, tests, an internal "
       "receiver); 0 refuses them",
       false, nullptr, &Config::webhook_allow_private, 0, 1},
      {"SIMA_WEBHOOK_RETRY_HOURS", "hours a webhook delivery is retried before it is given up",
       false, nullptr, &Config::webhook_retry_hours, 1, 720},
      {"SIMA_WEBHOOK_TIMEOUT_MS", "how long one webhook delivery may take, milliseconds", false,
       nullptr, &Config::webhook_timeout_ms, 100, 60000},
      {"SIMA_WEBHOOK_INTERVAL_MS", "how often the webhook outbox is looked at, milliseconds",
       false, nullptr, &Config::webhook_interval_ms, 10, 3600000},
      {"SIMA_WEBHOOK_CONCURRENCY", "webhook deliveries tried at once", false, nullptr,
       &Config::webhook_concurrency, 1, 256},
      {"SIMA_WEBHOOK_RETENTION_DAYS", "days finished webhook events and their log are kept",
       false, nullptr, &Config::webhook_retention_days, 1, 3650},
      {"SIMA_UPGRADE_URL",
       "the page usage-alert e-mails link to for upgrading; unset = SIMA_APP_URL", false,
       &Config::upgrade_url},
      {"KHALTI_REFUND_URL",
       "Khalti refund API base (…/api/merchant-transaction/); unset = KHALTI_BASE_URL with "
       "v2/ replaced by merchant-transaction/",
       false, &Config::khalti_refund_url},
      {"SIMA_NCHAN_PUBLISH_URL",
       "nchan's publisher location on loopback (http://127.0.0.1:PORT/PATH/); each "
       "organization's events are POSTed to it + the organization id",
       false, &Config::nchan_publish_url},
      {"SIMA_MAX_STREAMS", "live usage streams this server holds at once (embedded)", false,
       nullptr, &Config::max_streams, 0, 1000000},
      {"SIMA_MAX_STREAMS_PER_ORG", "live usage streams one organization may hold at once", false,
       nullptr, &Config::max_streams_per_org, 1, 100000},
      {"SIMA_STREAM_HEARTBEAT", "seconds between keep-alive comments on an idle stream", false,
       nullptr, &Config::stream_heartbeat_seconds, 1, 3600},
      {"SIMA_EVENTS_COALESCE_MS",
       "milliseconds an organization's changes are gathered before one event is published", false,
       nullptr, &Config::events_coalesce_ms, 0, 10000},
  };
  return options;
}

// SIMA_SESSION_TTL -> --session-ttl, KHALTI_BASE_URL -> --khalti-base-url.
std::string FlagName(std::string_view env) {
  if (env.substr(0, 5) == "SIMA_") env.remove_prefix(5);
  std::string flag = "--";
  for (char c : env) {
    if (c == '_') {
      flag += '-';
    } else if (c >= 'A' && c <= 'Z') {
      flag += static_cast<char>(c - 'A' + 'a');
    } else {
      flag += c;
    }
  }
  return flag;
}

// A setting given a value it cannot take (validation_error, field "config").
Error Bad(std::string message) { return Error::Validation("config", std::move(message)); }

ExpectedDone Set(Config& config, const Option& option, const std::string& value) {
  if (option.text != nullptr) {
    config.*option.text = value;
    return Done{};
  }
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n < option.min || n > option.max) {
    return Bad(std::string(option.env) + " must be an integer from " + std::to_string(option.min) +
               " to " + std::to_string(option.max));
  }
  config.*option.number = n;
  return Done{};
}

// The content of a secret file, without the trailing newline. A file that cannot be read is an
// I/O failure (unavailable), not a bad value.
ExpectedDone ReadSecretFile(Config& config, const Option& option, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return Error::Unavailable(std::string(option.env) + "_FILE: cannot read \"" + path + "\"");
  }
  config.*option.text = std::string(TrimEnd(text.str(), "\r\n"));
  return Done{};
}

// SIMA_EVENTS names who holds the streams; nchan needs where to publish.
ExpectedDone CheckEvents(const Config& config) {
  if (config.events != "embedded" && config.events != "nchan" && config.events != "off") {
    return Error::Validation(
        "SIMA_EVENTS", "SIMA_EVENTS must be embedded, nchan or off, got \"" + config.events + "\"");
  }
  if (config.events == "nchan") return ValidateNchanUrl(config.nchan_publish_url);
  return Done{};
}

ExpectedDone ParseListen(Config& config) {
  const auto colon = config.listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Bad("SIMA_LISTEN must be host:port, got \"" + config.listen + "\"");
  }
  std::string host = config.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = config.listen.substr(colon + 1);
  int p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || end != port.data() + port.size() || p < 0 || p > 65535) {
    return Bad("SIMA_LISTEN has a bad port: \"" + config.listen + "\"");
  }
  config.host = host;
  config.port = p;
  return Done{};
}

}  // namespace

Expected<LoadedConfig> LoadConfig(const std::vector<std::string>& args, const GetEnv& getenv) {
  LoadedConfig out;
  for (const Option& o : Options()) {
    if (const char* v = getenv(o.env); v != nullptr) {
      if (auto done = Set(out.config, o, v); !done) return done.error();
    }
    if (!o.secret) continue;
    const std::string file_env = std::string(o.env) + "_FILE";
    if (const char* path = getenv(file_env.c_str()); path != nullptr && *path != '\0') {
      if (auto done = ReadSecretFile(out.config, o, path); !done) return done.error();
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      continue;
    }
    const auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const Option* match = nullptr;
    bool from_file = false;
    for (const Option& o : Options()) {
      if (FlagName(o.env) == name) match = &o;
      if (o.secret && FlagName(o.env) + "-file" == name) {
        match = &o;
        from_file = true;
      }
    }
    if (match == nullptr) return Bad("unknown flag \"" + name + "\"; see --help");
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Bad("flag " + name + " needs a value");
    }
    if (from_file) {
      if (auto done = ReadSecretFile(out.config, *match, value); !done) return done.error();
      continue;
    }
    if (match->secret) {
      out.warnings.push_back(name + " puts a secret on the command line, where other users of " +
                             "this machine can read it; use " + std::string(match->env) +
                             "_FILE (" + name + "-file) or the environment instead");
    }
    if (std::string_view(match->env) == "SIMA_DB" && pg::IsUrl(value)) {
      if (auto info = pg::ConnInfo::Parse(value); info && info->has_password()) {
        out.warnings.push_back(name + " puts a database password on the command line, where " +
                               "other users of this machine can read it; use SIMA_DB in the " +
                               "environment instead");
      }
    }
    if (auto done = Set(out.config, *match, value); !done) return done.error();
  }
  if (auto done = ParseListen(out.config); !done) return done.error();
  if (auto done = CheckDemoClock(out.config); !done) return done.error();
  if (auto done = CheckEvents(out.config); !done) return done.error();
  // A PostgreSQL URL libpq cannot read is refused now, naming what is wrong, never the
  // password.
  if (pg::IsUrl(out.config.db)) {
    if (auto info = pg::ConnInfo::Parse(out.config.db); !info) return info.error();
  }
  return out;
}

namespace {

// True for http(s)://localhost, 127.x.x.x or [::1] (any port and path).
bool IsLoopbackUrl(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.find('@') != std::string_view::npos) return false;
  std::string_view host = rest;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') == std::string_view::npos ? 0 : host.find(']') - 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  const std::string h = AsciiLower(host);
  if (h == "localhost" || h == "::1") return true;
  if (h.rfind("127.", 0) != 0) return false;
  return h.find_first_not_of("0123456789.") == std::string::npos;
}

}  // namespace

ExpectedDone CheckDemoClock(const Config& config) {
  if (config.demo_clock == 0) return Done{};
  const std::pair<const char*, const std::string*> urls[] = {
      {"KHALTI_BASE_URL", &config.khalti_base_url},
      {"ESEWA_FORM_URL", &config.esewa_form_url},
      {"ESEWA_STATUS_URL", &config.esewa_status_url}};
  for (const auto& [name, url] : urls) {
    if (!IsLoopbackUrl(*url)) {
      return Error::Validation("SIMA_DEMO_CLOCK",
                               std::string("SIMA_DEMO_CLOCK=1 is for demos on the local gateway "
                                           "simulator only, but ") +
                                   name + " is not a loopback address; unset SIMA_DEMO_CLOCK");
    }
  }
  return Done{};
}

PaymentTiming PaymentTimingOf(const Config& config) {
  PaymentTiming timing;
  timing.esewa_session = std::chrono::minutes{config.esewa_session_minutes};
  return timing;
}

std::string MailDir(const Config& config) {
  if (!config.mail_dir.empty()) return config.mail_dir;
  if (pg::IsUrl(config.db)) return "mail";  // no folder beside a database server
  const auto slash = config.db.rfind('/');
  return slash == std::string::npos ? "mail" : config.db.substr(0, slash + 1) + "mail";
}

std::string HelpText() {
  const Config defaults;
  std::string text =
      "sima-server: plan limits, usage and payments for a SaaS app.\n\n"
      "Usage: sima-server [--flag=value ...]\n"
      "Every setting is an environment variable and a flag; a flag wins.\n\n";
  for (const Option& o : Options()) {
    std::string def;
    if (o.secret) {
      def = (defaults.*o.text).empty() ? "(unset; a secret, never printed)"
                                       : "(built in; a secret, never printed)";
    } else if (o.text != nullptr) {
      def = (defaults.*o.text).empty() ? "(unset)" : defaults.*o.text;
    } else {
      def = std::to_string(defaults.*o.number);
    }
    text += "  " + FlagName(o.env) + "  (" + o.env + ")\n      " + o.help +
            "\n      default: " + def + "\n";
    if (o.secret) {
      text += "  " + FlagName(o.env) + "-file  (" + o.env + "_FILE)\n      a file holding " +
              o.env + " (better than the flag: arguments are visible to other users)\n";
    }
  }
  text += "  --help\n      this text\n";
  return text;
}

}  // namespace sima::server
