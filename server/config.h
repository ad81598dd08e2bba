// sima-server's configuration: environment variables, each also a command-line flag
// (--listen=ADDR or --listen ADDR); a flag wins over the variable. See docs/api.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "error.h"
#include "sima/payment_timing.h"

namespace sima::server {

struct Config {
  std::string listen = "127.0.0.1:8080";  // SIMA_LISTEN
  std::string host = "127.0.0.1";         // parsed from listen
  int port = 8080;
  std::string db = "sima.db";  // SIMA_DB: a SQLite file, or a postgresql:// URL
  int64_t db_pool = 16;        // SIMA_DB_POOL: PostgreSQL connections per instance
  std::string public_url = "http://127.0.0.1:8080";   // SIMA_PUBLIC_URL
  std::string app_url = "http://127.0.0.1:8080/app";  // SIMA_APP_URL
  std::string admin_token;                            // SIMA_ADMIN_TOKEN; empty = admin API off
  std::string catalog;                                // SIMA_CATALOG; empty = built in
  int64_t session_ttl_seconds = 3600;                 // SIMA_SESSION_TTL
  int64_t max_body_bytes = 65536;                     // SIMA_MAX_BODY
  int64_t threads = 64;                               // SIMA_THREADS (requests answered at once)
  std::string access_log = "stderr";                  // SIMA_ACCESS_LOG: stderr, off or a file
  std::string khalti_base_url = "http://127.0.0.1:9090/api/v2/";
  std::string khalti_secret_key;
  int64_t khalti_timeout_ms = 10000;  // KHALTI_TIMEOUT_MS: read timeout of Khalti's calls
  std::string esewa_form_url = "http://127.0.0.1:9090/api/epay/main/v2/form";
  std::string esewa_status_url = "http://127.0.0.1:9090/api/epay/transaction/status/";
  std::string esewa_product_code = "EPAYTEST";
  std::string esewa_secret_key;
  int64_t esewa_timeout_ms = 10000;  // ESEWA_TIMEOUT_MS: read timeout of the status check
  std::string smtp_url;              // empty = write .eml files to mail_dir
  std::string mail_from = "sima <billing@sima.local>";
  std::string mail_dir;                  // SIMA_MAIL_DIR (alias SIMA_OUTBOX_DIR);
                                         // empty = "mail" beside the database
  std::string cors_origins;              // SIMA_CORS_ORIGINS: extra, comma-separated
  int64_t reconcile_interval_ms = 5000;  // SIMA_RECONCILE_INTERVAL_MS
  int64_t outbox_interval_ms = 1000;     // SIMA_OUTBOX_INTERVAL_MS
  int64_t esewa_session_minutes = 60;    // ESEWA_SESSION_MINUTES: NOT_FOUND fails only after this
  int64_t init_per_minute = 10;          // SIMA_INIT_PER_MINUTE: payment inits per org per minute
  int64_t open_payments_max = 5;         // SIMA_OPEN_PAYMENTS_MAX: open PENDING payments per org
  int64_t idempotency_ttl_seconds = 86400;     // SIMA_IDEMPOTENCY_TTL
  int64_t sessions_per_key = 1000;             // SIMA_SESSIONS_PER_KEY
  int64_t wal_limit_bytes = 64 * 1024 * 1024;  // SIMA_WAL_LIMIT
  int64_t read_timeout_ms = 5000;       // SIMA_READ_TIMEOUT_MS: longest silence within a request
  int64_t keepalive_timeout_ms = 5000;  // SIMA_KEEPALIVE_TIMEOUT_MS: idle connection lifetime
  int64_t request_timeout_ms = 15000;   // SIMA_REQUEST_TIMEOUT_MS: a whole request's arrival
  int64_t max_header_bytes = 16384;     // SIMA_MAX_HEADER_BYTES: request line + headers
  std::string trusted_proxies;          // SIMA_TRUSTED_PROXIES: peers whose X-Real-IP counts
  int64_t scheduler_interval_seconds = 60;  // SIMA_SCHEDULER_INTERVAL: reminder passes
  int64_t demo_clock = 0;  // SIMA_DEMO_CLOCK: 1 = POST /demo/clock/ moves the server's clock
  // Live usage (docs/api.md#live-usage-events): who holds the browsers' event streams.
  std::string events = "embedded";        // SIMA_EVENTS: embedded, nchan or off
  std::string nchan_publish_url;          // SIMA_NCHAN_PUBLISH_URL: nchan's publisher location
  int64_t max_streams = 4096;             // SIMA_MAX_STREAMS: embedded streams open at once
  int64_t max_streams_per_org = 64;       // SIMA_MAX_STREAMS_PER_ORG
  int64_t stream_heartbeat_seconds = 20;  // SIMA_STREAM_HEARTBEAT: comment line interval
  int64_t events_coalesce_ms = 100;       // SIMA_EVENTS_COALESCE_MS: changes merged per org
  // Webhooks (docs/webhooks.md).
  int64_t webhook_allow_private = 0;     // SIMA_WEBHOOK_ALLOW_PRIVATE: 1 = loopback/private ok
  int64_t webhook_retry_hours = 24;      // SIMA_WEBHOOK_RETRY_HOURS: retried for this long
  int64_t webhook_timeout_ms = 10000;    // SIMA_WEBHOOK_TIMEOUT_MS: one try's whole time
  int64_t webhook_interval_ms = 1000;    // SIMA_WEBHOOK_INTERVAL_MS: outbox looked at
  int64_t webhook_concurrency = 8;       // SIMA_WEBHOOK_CONCURRENCY: tries at once
  int64_t webhook_retention_days = 30;   // SIMA_WEBHOOK_RETENTION_DAYS: finished events kept
  // Usage alerts: the upgrade link in their e-mails (the integrator's pricing page).
  std::string upgrade_url;               // SIMA_UPGRADE_URL; empty = SIMA_APP_URL
  // Refunds: Khalti's refund API base, e.g. https://khalti.com/api/merchant-transaction/;
  // empty = KHALTI_BASE_URL with its last "v2/" replaced by "merchant-transaction/".
  std::string khalti_refund_url;         // KHALTI_REFUND_URL
};

// SIMA_DEMO_CLOCK=1 is refused (kValidation naming SIMA_DEMO_CLOCK) unless KHALTI_BASE_URL,
// ESEWA_FORM_URL and ESEWA_STATUS_URL are loopback URLs (the simulator): a clock that can be
// moved must never meet real money. LoadConfig and App::Create both check it.
ExpectedDone CheckDemoClock(const Config& config);

// The payment timing policy with the configured values filled in (ESEWA_SESSION_MINUTES);
// everything else keeps sima::PaymentTiming's defaults.
PaymentTiming PaymentTimingOf(const Config& config);

// The folder .eml files go to: mail_dir, or "mail" beside the database file.
std::string MailDir(const Config& config);

// Reads a variable; nullptr when unset. Tests pass a map instead of the real environment.
using GetEnv = std::function<const char*(const char*)>;

struct LoadedConfig {
  Config config;
  bool help = false;                  // --help / -h was given: print HelpText() and exit
  std::vector<std::string> warnings;  // for stderr (a secret given as a flag); never secrets
};

// Builds the configuration from `getenv` then the flags in argv[1..]. Errors
// (kValidation naming the variable): an unknown flag, a flag without its value, a bad number,
// a bad listen address, an unreadable secret file. Every secret X can also come from a file:
// X_FILE / --x-file (the file's content without its trailing newline); a secret given as a
// flag is warned about (other users can read a process's arguments).
Expected<LoadedConfig> LoadConfig(const std::vector<std::string>& args, const GetEnv& getenv);

// The --help text: every variable with its flag and default. Secrets show only "(secret)".
std::string HelpText();

}  // namespace sima::server
