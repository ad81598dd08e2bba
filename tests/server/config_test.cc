#include "config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

namespace sima::server {
namespace {

GetEnv Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(ServerConfig, DefaultsMatchTheSpec) {
  auto c = LoadConfig({}, Env({}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->config.listen, "127.0.0.1:8080");
  EXPECT_EQ(c->config.host, "127.0.0.1");
  EXPECT_EQ(c->config.port, 8080);
  EXPECT_EQ(c->config.db, "sima.db");
  EXPECT_EQ(c->config.max_body_bytes, 65536);
  EXPECT_EQ(c->config.session_ttl_seconds, 3600);
  EXPECT_TRUE(c->config.admin_token.empty());
}

TEST(ServerConfig, PaymentAndMailSettings) {
  auto d = LoadConfig({}, Env({}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->config.mail_from, "sima <billing@sima.local>");
  EXPECT_EQ(MailDir(d->config), "mail");
  EXPECT_EQ(d->config.reconcile_interval_ms, 5000);
  Config beside;
  beside.db = "/var/lib/sima/sima.db";
  EXPECT_EQ(MailDir(beside), "/var/lib/sima/mail");
  auto c = LoadConfig({"--reconcile-interval-ms=200"},
                      Env({{"SIMA_OUTBOX_DIR", "/tmp/out"},
                           {"SIMA_CORS_ORIGINS", "http://a.test,http://b.test"},
                           {"KHALTI_TIMEOUT_MS", "1500"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(MailDir(c->config), "/tmp/out");
  EXPECT_EQ(c->config.cors_origins, "http://a.test,http://b.test");
  EXPECT_EQ(c->config.khalti_timeout_ms, 1500);
  EXPECT_EQ(c->config.reconcile_interval_ms, 200);
  EXPECT_FALSE(LoadConfig({"--reconcile-interval-ms=0"}, Env({})).ok());
}

TEST(ServerConfig, FlagsWinOverEnvironment) {
  auto c = LoadConfig(
      {"--listen=0.0.0.0:9000", "--db", "x.db", "--khalti-secret-key=k"},
      Env({{"SIMA_LISTEN", "1.2.3.4:1"}, {"SIMA_ADMIN_TOKEN", "t"}, {"SIMA_SESSION_TTL", "120"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.port, 9000);
  EXPECT_EQ(c->config.db, "x.db");
  EXPECT_EQ(c->config.admin_token, "t");
  EXPECT_EQ(c->config.khalti_secret_key, "k");
  EXPECT_EQ(c->config.session_ttl_seconds, 120);
}

TEST(ServerConfig, RefusesBadValues) {
  EXPECT_FALSE(LoadConfig({"--bogus=1"}, Env({})).ok());
  EXPECT_FALSE(LoadConfig({"--db"}, Env({})).ok());
  EXPECT_FALSE(LoadConfig({}, Env({{"SIMA_LISTEN", "nope"}})).ok());
  EXPECT_FALSE(LoadConfig({}, Env({{"SIMA_LISTEN", "h:99999"}})).ok());
  EXPECT_FALSE(LoadConfig({}, Env({{"SIMA_MAX_BODY", "12x"}})).ok());
  EXPECT_FALSE(LoadConfig({}, Env({{"SIMA_THREADS", "0"}})).ok());
  // A session window too short to reach eSewa in would fail payers who are on their way.
  EXPECT_FALSE(LoadConfig({}, Env({{"ESEWA_SESSION_MINUTES", "5"}})).ok());
  EXPECT_FALSE(LoadConfig({}, Env({{"SIMA_OPEN_PAYMENTS_MAX", "0"}})).ok());
}

TEST(ServerConfig, PaymentTimingAndLimits) {
  auto d = LoadConfig({}, Env({}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->config.esewa_session_minutes, 60);
  EXPECT_EQ(d->config.init_per_minute, 10);
  EXPECT_EQ(d->config.open_payments_max, 5);
  auto c = LoadConfig({"--open-payments-max=7"},
                      Env({{"ESEWA_SESSION_MINUTES", "90"}, {"SIMA_INIT_PER_MINUTE", "3"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.esewa_session_minutes, 90);
  EXPECT_EQ(c->config.init_per_minute, 3);
  EXPECT_EQ(c->config.open_payments_max, 7);
  // The configured ones fill the timing policy; the rest keep sima::PaymentTiming's defaults.
  EXPECT_EQ(PaymentTimingOf(c->config).esewa_session, std::chrono::minutes{90});
  EXPECT_EQ(PaymentTimingOf(c->config).retry_after, PaymentTiming{}.retry_after);
}

TEST(ServerConfig, EachGatewayHasItsOwnTimeout) {
  auto d = LoadConfig({}, Env({}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->config.khalti_timeout_ms, 10000);
  EXPECT_EQ(d->config.esewa_timeout_ms, 10000);
  auto c = LoadConfig({"--esewa-timeout-ms=700"}, Env({{"KHALTI_TIMEOUT_MS", "30000"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.khalti_timeout_ms, 30000);
  EXPECT_EQ(c->config.esewa_timeout_ms, 700);
  auto e = LoadConfig({}, Env({{"ESEWA_TIMEOUT_MS", "2500"}}));
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->config.esewa_timeout_ms, 2500);
  EXPECT_EQ(e->config.khalti_timeout_ms, 10000);
  EXPECT_FALSE(LoadConfig({}, Env({{"ESEWA_TIMEOUT_MS", "0"}})).ok());
}

TEST(ServerConfig, HelpListsEveryVariableAndNoSecret) {
  auto c = LoadConfig({"--help"}, Env({}));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->help);
  const std::string help = HelpText();
  for (const char* v :
       {"SIMA_LISTEN", "SIMA_DB", "SIMA_PUBLIC_URL", "SIMA_APP_URL", "SIMA_ADMIN_TOKEN",
        "SIMA_CATALOG", "KHALTI_BASE_URL", "KHALTI_SECRET_KEY", "ESEWA_FORM_URL",
        "ESEWA_STATUS_URL", "ESEWA_PRODUCT_CODE", "ESEWA_SECRET_KEY", "ESEWA_TIMEOUT_MS",
        "KHALTI_TIMEOUT_MS", "SMTP_URL", "MAIL_FROM", "--listen", "127.0.0.1:8080"}) {
    EXPECT_NE(help.find(v), std::string::npos) << v;
  }
  EXPECT_NE(help.find("a secret, never printed"), std::string::npos);
}

TEST(ServerConfig, SecretsComeFromFilesAndFlagsAreWarnedAbout) {
  const std::string path = ::testing::TempDir() + "/sima-config-secret";
  {
    std::ofstream f(path);
    f << "from-a-file\r\n";
  }
  auto c = LoadConfig({"--esewa-secret-key-file", path}, Env({{"SIMA_ADMIN_TOKEN_FILE", path}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.admin_token, "from-a-file");
  EXPECT_EQ(c->config.esewa_secret_key, "from-a-file");
  EXPECT_TRUE(c->warnings.empty());

  auto flag = LoadConfig({"--admin-token=shown-to-ps"}, Env({}));
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->config.admin_token, "shown-to-ps");
  ASSERT_EQ(flag->warnings.size(), 1u);
  EXPECT_NE(flag->warnings[0].find("--admin-token-file"), std::string::npos);
  EXPECT_EQ(flag->warnings[0].find("shown-to-ps"), std::string::npos);

  auto missing = LoadConfig({"--admin-token-file=/nonexistent/token"}, Env({}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("SIMA_ADMIN_TOKEN_FILE"), std::string::npos);
  EXPECT_EQ(missing.error().kind, ErrorKind::kUnavailable);  // a file it cannot read, not a value
  EXPECT_NE(HelpText().find("--admin-token-file"), std::string::npos);
  std::remove(path.c_str());
}

TEST(ServerConfig, ConnectionSettings) {
  auto c = LoadConfig({"--read-timeout-ms=700", "--max-header-bytes=4096"},
                      Env({{"SIMA_KEEPALIVE_TIMEOUT_MS", "800"},
                           {"SIMA_REQUEST_TIMEOUT_MS", "900"},
                           {"SIMA_TRUSTED_PROXIES", "127.0.0.1, ::1"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->config.read_timeout_ms, 700);
  EXPECT_EQ(c->config.keepalive_timeout_ms, 800);
  EXPECT_EQ(c->config.request_timeout_ms, 900);
  EXPECT_EQ(c->config.max_header_bytes, 4096);
  EXPECT_EQ(c->config.trusted_proxies, "127.0.0.1, ::1");
  const Config defaults;
  EXPECT_EQ(defaults.read_timeout_ms, 5000);
  EXPECT_EQ(defaults.keepalive_timeout_ms, 5000);
  EXPECT_EQ(defaults.request_timeout_ms, 15000);
  EXPECT_EQ(defaults.max_header_bytes, 16384);
  EXPECT_FALSE(LoadConfig({"--max-header-bytes=10"}, Env({})).ok());
}

TEST(ServerConfig, APostgresUrlSelectsPostgresAndItsPoolSize) {
  auto c =
      LoadConfig({"--db-pool=4"}, Env({{"SIMA_DB", "postgresql://sima:pw@db.local:5433/sima"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.db, "postgresql://sima:pw@db.local:5433/sima");
  EXPECT_EQ(c->config.db_pool, 4);
  EXPECT_TRUE(c->warnings.empty());
  EXPECT_EQ(LoadConfig({}, Env({}))->config.db_pool, 16);
  EXPECT_FALSE(LoadConfig({"--db-pool=0"}, Env({})).ok());
  // No mail folder "beside" a database server: mail/ in the working folder.
  EXPECT_EQ(MailDir(c->config), "mail");
}

TEST(ServerConfig, ABadPostgresUrlIsRefusedWithoutItsPassword) {
  for (const char* url :
       {"postgresql://sima:s3cret-pw@db.local:port/sima", "postgres://sima:s3cret-pw@[::1/sima",
        "postgresql://sima:s3cret-pw@db.local/sima?bogus=s3cret-pw"}) {
    auto c = LoadConfig({}, Env({{"SIMA_DB", url}}));
    ASSERT_FALSE(c.ok()) << url;
    EXPECT_EQ(c.error().kind, ErrorKind::kValidation);
    EXPECT_NE(c.error().message.find("SIMA_DB"), std::string::npos) << c.error().message;
    EXPECT_EQ(c.error().message.find("s3cret"), std::string::npos) << c.error().message;
  }
}

TEST(ServerConfig, ADatabasePasswordOnTheCommandLineIsWarnedAboutNeverShown) {
  auto c = LoadConfig({"--db=postgresql://sima:s3cret-pw@db.local/sima"}, Env({}));
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_NE(c->warnings[0].find("password"), std::string::npos);
  EXPECT_EQ(c->warnings[0].find("s3cret"), std::string::npos);
  EXPECT_NE(HelpText().find("SIMA_DB_POOL"), std::string::npos);
}

TEST(ServerConfig, SchedulerIntervalAndDemoClock) {
  auto d = LoadConfig({}, Env({}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->config.scheduler_interval_seconds, 60);
  EXPECT_EQ(d->config.demo_clock, 0);
  auto c = LoadConfig({"--scheduler-interval=5"}, Env({{"SIMA_DEMO_CLOCK", "1"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;  // the default gateway URLs are the simulator's
  EXPECT_EQ(c->config.scheduler_interval_seconds, 5);
  EXPECT_EQ(c->config.demo_clock, 1);
  EXPECT_FALSE(LoadConfig({"--scheduler-interval=0"}, Env({})).ok());
  EXPECT_FALSE(LoadConfig({"--scheduler-interval=3601"}, Env({})).ok());
  EXPECT_TRUE(LoadConfig({"--demo-clock=1", "--khalti-base-url=http://localhost:9/api/v2/",
                          "--esewa-status-url=http://[::1]:9/s"},
                         Env({}))
                  .ok());
  for (const char* url : {"https://khalti.com/api/v2/", "http://127.0.0.1.evil.test/",
                          "http://user@127.0.0.1/", "http://10.0.0.1:9090/"}) {
    auto refused = LoadConfig({"--demo-clock=1"}, Env({{"KHALTI_BASE_URL", url}}));
    ASSERT_FALSE(refused.ok()) << url;
    EXPECT_EQ(refused.error().extra["field"], "SIMA_DEMO_CLOCK");
  }
  EXPECT_FALSE(
      LoadConfig({"--demo-clock=1", "--esewa-form-url=https://rc-epay.esewa.com.np/x"}, Env({}))
          .ok());
  EXPECT_NE(HelpText().find("SIMA_SCHEDULER_INTERVAL"), std::string::npos);
  EXPECT_NE(HelpText().find("--demo-clock"), std::string::npos);
}

TEST(ServerConfig, LiveUsageEventsAreEmbeddedNchanWithAPublishUrlOrOff) {
  auto d = LoadConfig({}, Env({}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->config.events, "embedded");
  EXPECT_TRUE(LoadConfig({"--events=off"}, Env({})).ok());
  auto nchan = LoadConfig({"--events=nchan"},
                          Env({{"SIMA_NCHAN_PUBLISH_URL", "http://127.0.0.1:8089/pub/"}}));
  ASSERT_TRUE(nchan.ok()) << nchan.error().message;
  EXPECT_EQ(nchan->config.nchan_publish_url, "http://127.0.0.1:8089/pub/");

  auto unknown = LoadConfig({}, Env({{"SIMA_EVENTS", "sse"}}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().extra["field"], "SIMA_EVENTS");
  EXPECT_NE(unknown.error().message.find("embedded, nchan or off"), std::string::npos);
  // nchan without a publisher location, or with one nchan cannot be, is refused at startup.
  for (const char* url :
       {"", "https://127.0.0.1/pub/", "127.0.0.1:8089/pub/", "http://127.0.0.1:8089/pub",
        "http://u:p@127.0.0.1/pub/", "http://127.0.0.1/pub/?x=1"}) {
    auto refused = LoadConfig({"--events=nchan"}, Env({{"SIMA_NCHAN_PUBLISH_URL", url}}));
    ASSERT_FALSE(refused.ok()) << url;
    EXPECT_EQ(refused.error().extra["field"], "SIMA_NCHAN_PUBLISH_URL") << url;
    EXPECT_EQ(refused.error().message.find("u:p"), std::string::npos);
  }
}

}  // namespace
}  // namespace sima::server

namespace sima::server {
namespace {

TEST(ServerConfig, SmtpStartTlsIsTryRequiredOrOff) {
  auto fallback = LoadConfig({}, Env({}));
  ASSERT_TRUE(fallback.ok()) << fallback.error().message;
  EXPECT_EQ(fallback->config.smtp_starttls, "try");
  EXPECT_EQ(fallback->config.smtp_ca_file, "");
  auto required = LoadConfig(
      {}, Env({{"SMTP_STARTTLS", "required"}, {"SMTP_CA_FILE", "/etc/sima/relay-ca.pem"}}));
  ASSERT_TRUE(required.ok()) << required.error().message;
  EXPECT_EQ(required->config.smtp_starttls, "required");
  EXPECT_EQ(required->config.smtp_ca_file, "/etc/sima/relay-ca.pem");
  auto unknown = LoadConfig({}, Env({{"SMTP_STARTTLS", "yes"}}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().extra["field"], "SMTP_STARTTLS");
  EXPECT_NE(unknown.error().message.find("try, required or off"), std::string::npos);
  EXPECT_NE(HelpText().find("SMTP_STARTTLS"), std::string::npos);
}

}  // namespace
}  // namespace sima::server
