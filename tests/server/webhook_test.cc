// The webhook signature, the address guard and the sender against a real HTTP receiver on a
// free port (a queue in memory stands in for the store's outbox; the stores' own outbox is
// tested by the store contract, the whole path by tests/integration/webhooks_test.cc).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "clock.h"
#include "webhook/address_guard.h"
#include "webhook/event.h"
#include "webhook/sender.h"
#include "webhook/signature.h"

namespace sima::server::webhook {
namespace {

const Time kT = FromUnixSeconds(1764650000);
constexpr const char* kSecret = "whsec_0123456789abcdefghijABCDEFGHIJ";
constexpr const char* kOldSecret = "whsec_ZYXWVUTSRQPONMLKJIHGFEDCBA987654";

// --- signature ---

TEST(WebhookSignature, IsTheHexHmacOfTimestampDotBody) {
  // The same as: printf '1764650000.{"a":1}' | openssl dgst -sha256 -hmac "$secret"
  EXPECT_EQ(SignatureHeader({"whsec_test"}, FromUnixSeconds(1700000000), R"({"a":1})"),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
}

TEST(WebhookSignature, VerifiesWhatItSigns) {
  const std::string body = R"({"id":"evt_1","type":"payment.succeeded"})";
  const std::string header = SignatureHeader({kSecret}, kT, body);
  EXPECT_EQ(VerifySignature(header, body, {kSecret}, kT), Verdict::kValid);
  EXPECT_EQ(VerifySignature(header, body, {kSecret}, kT + std::chrono::seconds{300}),
            Verdict::kValid);
  EXPECT_EQ(VerifySignature(header, body, {kSecret}, kT - std::chrono::seconds{300}),
            Verdict::kValid);
}

TEST(WebhookSignature, RefusesAChangedBodyAnotherSecretOrAReplay) {
  const std::string body = R"({"amount":1000})";
  const std::string header = SignatureHeader({kSecret}, kT, body);
  EXPECT_EQ(VerifySignature(header, R"({"amount":9000})", {kSecret}, kT), Verdict::kNoMatch);
  EXPECT_EQ(VerifySignature(header, body, {kOldSecret}, kT), Verdict::kNoMatch);
  EXPECT_EQ(VerifySignature(header, body, {kSecret}, kT + std::chrono::seconds{301}),
            Verdict::kOutsideWindow);
  EXPECT_EQ(VerifySignature(header, body, {kSecret}, kT + std::chrono::seconds{3600},
                            std::chrono::seconds{7200}),
            Verdict::kValid);
  // A new timestamp on an old signature is a different message.
  std::string moved = header;
  moved.replace(2, 10, std::to_string(ToUnixSeconds(kT) + 1));
  EXPECT_EQ(VerifySignature(moved, body, {kSecret}, kT), Verdict::kNoMatch);
}

TEST(WebhookSignature, MalformedHeadersAreNamedSo) {
  for (const char* bad : {"", "v1=abc", "t=,v1=abc", "t=12x,v1=abc", "t=1764650000",
                          "t=1764650000,v0=abc", "garbage"}) {
    EXPECT_EQ(VerifySignature(bad, "{}", {kSecret}, kT), Verdict::kMalformed) << bad;
  }
  std::string many = "t=1764650000";
  for (int i = 0; i < 20; ++i) many += ",v1=00";
  EXPECT_EQ(VerifySignature(many, "{}", {kSecret}, kT), Verdict::kMalformed);
}

TEST(WebhookSignature, DuringARotationEitherSecretVerifies) {
  const std::string body = "{}";
  const std::string header = SignatureHeader({kSecret, kOldSecret}, kT, body);
  EXPECT_EQ(std::count(header.begin(), header.end(), ','), 2);
  EXPECT_EQ(VerifySignature(header, body, {kSecret}, kT), Verdict::kValid);
  EXPECT_EQ(VerifySignature(header, body, {kOldSecret}, kT), Verdict::kValid);
  EXPECT_EQ(VerifySignature(header, body, {"whsec_other"}, kT), Verdict::kNoMatch);
  // Unknown schemes beside v1 are skipped, spaces after commas too.
  EXPECT_EQ(VerifySignature("v2=zz, " + header, body, {kSecret}, kT), Verdict::kValid);
}

// --- address guard ---

std::optional<std::string> Blocked(const std::string& text, bool allow_private = false) {
  sockaddr_in6 v6{};
  sockaddr_in v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return BlockedAddressReason(reinterpret_cast<sockaddr*>(&v4), allow_private);
  }
  EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr), 1) << text;
  v6.sin6_family = AF_INET6;
  return BlockedAddressReason(reinterpret_cast<sockaddr*>(&v6), allow_private);
}

TEST(WebhookAddressGuard, RefusesNonPublicAddressesOfEitherFamily) {
  for (const char* address :
       {"127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "::", "::1", "fc00::1", "fe80::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe"}) {
    EXPECT_TRUE(Blocked(address)) << address;
    EXPECT_FALSE(Blocked(address, /*allow_private=*/true)) << address;
  }
  EXPECT_EQ(*Blocked("127.0.0.1"), "127.0.0.1 is a loopback, private or link-local address");
  EXPECT_EQ(*Blocked("::ffff:169.254.169.254"),
            "::ffff:169.254.169.254 is a loopback, private or link-local address");
  sockaddr unix_socket{};
  unix_socket.sa_family = AF_UNIX;
  EXPECT_TRUE(BlockedAddressReason(&unix_socket, true));
}

TEST(WebhookAddressGuard, AllowsPublicAddresses) {
  for (const char* address : {"1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1",
                              "2606:4700:4700::1111", "::ffff:8.8.8.8"}) {
    EXPECT_FALSE(Blocked(address)) << address << ": " << Blocked(address).value_or("");
  }
}

// --- the sender ---

TEST(WebhookSender, RetriesDoubleFromTheBaseUpToAnHourWithTwentyPercentJitter) {
  using std::chrono::seconds;
  EXPECT_EQ(Sender::RetryDelay(1, seconds{10}, 0), seconds{10});
  EXPECT_EQ(Sender::RetryDelay(2, seconds{10}, 0), seconds{20});
  EXPECT_EQ(Sender::RetryDelay(3, seconds{10}, 0), seconds{40});
  EXPECT_EQ(Sender::RetryDelay(9, seconds{10}, 0), seconds{2560});
  EXPECT_EQ(Sender::RetryDelay(10, seconds{10}, 0), seconds{3600});
  EXPECT_EQ(Sender::RetryDelay(500, seconds{10}, 0), seconds{3600});
  EXPECT_EQ(Sender::RetryDelay(1, seconds{10}, 1), seconds{12});
  EXPECT_EQ(Sender::RetryDelay(1, seconds{10}, -1), seconds{8});
  EXPECT_EQ(Sender::RetryDelay(10, seconds{10}, 1), seconds{4320});
  EXPECT_EQ(Sender::RetryDelay(1, seconds{1}, -1), seconds{1});  // never less than a second
}

TEST(WebhookSender, RetriesUntilTheEventIsOlderThanTheRetryWindowThenGivesUp) {
  SenderOptions options;
  options.retry_for = std::chrono::hours{24};
  DueDelivery due;
  due.event.created_at = kT;
  due.delivery.attempts = 0;
  EXPECT_EQ(Sender::RetryAt(due, kT, options, 0), kT + std::chrono::seconds{10});
  due.delivery.attempts = 30;
  const Time late = kT + std::chrono::hours{23} + std::chrono::minutes{59};
  // The last retry is at the window's end, not an hour past it.
  EXPECT_EQ(Sender::RetryAt(due, late, options, 0), kT + std::chrono::hours{24});
  EXPECT_EQ(Sender::RetryAt(due, kT + std::chrono::hours{24}, options, 0), std::nullopt);
}

// The outbox in memory, with the store's claim contract: due, not leased, and only the oldest
// pending delivery per endpoint and organization.
class MemoryQueue final : public DeliveryQueue {
 public:
  struct Row {
    DueDelivery due;
    Time next{};
    std::optional<Time> leased_until;
    std::vector<DeliveryResult> tries;
  };
  void Add(const std::string& org, int64_t seq, const std::string& url,
           std::optional<std::string> previous_secret = std::nullopt) {
    std::lock_guard lock(mu_);
    Row row;
    row.due.delivery.id = static_cast<int64_t>(rows_.size()) + 1;
    row.due.delivery.endpoint_id = "we_test";
    row.due.delivery.org_id = org;
    row.due.delivery.event_seq = seq;
    row.due.event = {
        seq,        NewEventId(), org, "payment.succeeded", R"({"n":)" + std::to_string(seq) + "}",
        SystemNow()};
    row.due.delivery.event_id = row.due.event.id;
    row.due.url = url;
    row.due.secret = kSecret;
    row.due.previous_secret = std::move(previous_secret);
    rows_.push_back(std::move(row));
  }
  Expected<std::vector<DueDelivery>> Claim(Time now, Time lease_until, int64_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<DueDelivery> out;
    std::set<std::string> held;  // orgs whose oldest pending delivery is taken or not due
    for (Row& row : rows_) {
      if (static_cast<int64_t>(out.size()) == limit) break;
      const auto status = row.due.delivery.status;
      if (status != DeliveryStatus::kPending) continue;
      const std::string& org = row.due.delivery.org_id;
      if (!held.insert(org).second) continue;
      if (row.next > now || (row.leased_until && *row.leased_until > now)) continue;
      row.leased_until = lease_until;
      row.due.lease = "lease-" + std::to_string(++leases_);
      out.push_back(row.due);
    }
    return out;
  }
  ExpectedDone Complete(int64_t id, const std::string& lease, const DeliveryResult& result,
                        Time) override {
    std::lock_guard lock(mu_);
    Row& row = rows_.at(static_cast<size_t>(id - 1));
    if (row.due.lease != lease) return Error::Conflict("lease lost");
    row.tries.push_back(result);
    ++row.due.delivery.attempts;
    row.leased_until.reset();
    if (result.delivered) {
      row.due.delivery.status = DeliveryStatus::kDelivered;
    } else if (result.retry_at) {
      row.next = *result.retry_at;
    } else {
      row.due.delivery.status = DeliveryStatus::kFailed;
    }
    return Done{};
  }
  Row row(size_t i) {
    std::lock_guard lock(mu_);
    return rows_.at(i);
  }

 private:
  std::mutex mu_;
  std::vector<Row> rows_;
  int64_t leases_ = 0;
};

// A receiver on a free loopback port that checks every signature.
class Receiver {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  explicit Receiver(Handler handler) : handler_(std::move(handler)) {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
        verdicts_.push_back(VerifySignature(req.get_header_value("Sima-Signature"), req.body,
                                            {kSecret}, SystemNow()));
      }
      handler_(req, res);
    });
    server_.Get(".*", [this](const httplib::Request&, httplib::Response& res) {
      ++gets_;
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path = "/hooks") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<httplib::Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<Verdict> verdicts() {
    std::lock_guard lock(mu_);
    return verdicts_;
  }
  int gets() const { return gets_; }

 private:
  Handler handler_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<httplib::Request> requests_;
  std::vector<Verdict> verdicts_;
  std::atomic<int> gets_{0};
};

SenderOptions Local() {
  SenderOptions o;
  o.allow_private = true;
  o.timeout = std::chrono::milliseconds{1000};
  o.concurrency = 4;
  return o;
}

TEST(WebhookSender, PostsTheSignedBodyWithItsHeadersAndDeliversOn2xx) {
  Receiver receiver([](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  MemoryQueue queue;
  queue.Add("org_a", 1, receiver.url());
  Sender sender(queue, Local(), SystemNow);
  EXPECT_EQ(sender.RunOnce(), 1);
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1U);
  const auto row = queue.row(0);
  EXPECT_EQ(requests[0].body, EventBody(row.due.event));
  EXPECT_EQ(requests[0].get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(requests[0].get_header_value("Sima-Event-Id"), row.due.event.id);
  EXPECT_EQ(requests[0].get_header_value("Sima-Event-Type"), "payment.succeeded");
  EXPECT_EQ(requests[0].get_header_value("User-Agent"), "sima-webhooks/1");
  EXPECT_EQ(receiver.verdicts(), std::vector<Verdict>{Verdict::kValid});
  ASSERT_EQ(row.tries.size(), 1U);
  EXPECT_TRUE(row.tries[0].delivered);
  EXPECT_EQ(row.tries[0].attempt.status_code, 204);
  EXPECT_EQ(row.tries[0].attempt.error, "");
  EXPECT_EQ(row.due.delivery.status, DeliveryStatus::kDelivered);
}

TEST(WebhookSender, DuringARotationSignsWithBothSecrets) {
  Receiver receiver([](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  MemoryQueue queue;
  queue.Add("org_a", 1, receiver.url(), kOldSecret);
  Sender sender(queue, Local(), SystemNow);
  EXPECT_EQ(sender.RunOnce(), 1);
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1U);
  const std::string header = requests[0].get_header_value("Sima-Signature");
  EXPECT_EQ(VerifySignature(header, requests[0].body, {kOldSecret}, SystemNow()), Verdict::kValid);
  EXPECT_EQ(VerifySignature(header, requests[0].body, {kSecret}, SystemNow()), Verdict::kValid);
}

TEST(WebhookSender, An500IsRetriedLaterAndItsAnswerKeptToOneKiB) {
  Receiver receiver([](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content(std::string(5000, 'x'), "text/plain");
  });
  MemoryQueue queue;
  queue.Add("org_a", 1, receiver.url());
  Sender sender(queue, Local(), SystemNow);
  const Time before = SystemNow();
  EXPECT_EQ(sender.RunOnce(), 0);
  const auto row = queue.row(0);
  ASSERT_EQ(row.tries.size(), 1U);
  EXPECT_FALSE(row.tries[0].delivered);
  EXPECT_EQ(row.tries[0].attempt.status_code, 500);
  EXPECT_EQ(row.tries[0].attempt.error, "HTTP 500");
  EXPECT_EQ(row.tries[0].attempt.response_body, std::string(1024, 'x'));
  ASSERT_TRUE(row.tries[0].retry_at);
  EXPECT_GE(*row.tries[0].retry_at, before + std::chrono::seconds{8});
  EXPECT_EQ(row.due.delivery.status, DeliveryStatus::kPending);
  // Not due yet: another pass tries nothing.
  EXPECT_EQ(sender.RunOnce(), 0);
  EXPECT_EQ(receiver.requests().size(), 1U);
}

TEST(WebhookSender, ARedirectIsAFailureAndIsNotFollowed) {
  Receiver receiver([](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "/elsewhere");
  });
  MemoryQueue queue;
  queue.Add("org_a", 1, receiver.url());
  Sender sender(queue, Local(), SystemNow);
  EXPECT_EQ(sender.RunOnce(), 0);
  const auto row = queue.row(0);
  ASSERT_EQ(row.tries.size(), 1U);
  EXPECT_EQ(row.tries[0].attempt.status_code, 302);
  EXPECT_EQ(row.tries[0].attempt.error, "HTTP 302 (redirects are not followed)");
  EXPECT_EQ(receiver.requests().size(), 1U);
  EXPECT_EQ(receiver.gets(), 0);
}

TEST(WebhookSender, AReceiverThatHangsTimesOutAndIsRetried) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  Receiver receiver([&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds{5}, [&] { return release; });
    res.status = 200;
  });
  MemoryQueue queue;
  queue.Add("org_a", 1, receiver.url());
  SenderOptions options = Local();
  options.timeout = std::chrono::milliseconds{300};
  Sender sender(queue, options, SystemNow);
  EXPECT_EQ(sender.RunOnce(), 0);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  const auto row = queue.row(0);
  ASSERT_EQ(row.tries.size(), 1U);
  EXPECT_EQ(row.tries[0].attempt.status_code, std::nullopt);
  EXPECT_NE(row.tries[0].attempt.error.find("timed out"), std::string::npos)
      << row.tries[0].attempt.error;
  EXPECT_TRUE(row.tries[0].retry_at);
}

TEST(WebhookSender, ARefusedConnectionIsRetried) {
  int port = 0;
  {
    Receiver gone([](const httplib::Request&, httplib::Response&) {});
    port = std::stoi(gone.url().substr(std::string("http://127.0.0.1:").size()));
  }
  MemoryQueue queue;
  queue.Add("org_a", 1, "http://127.0.0.1:" + std::to_string(port) + "/hooks");
  Sender sender(queue, Local(), SystemNow);
  EXPECT_EQ(sender.RunOnce(), 0);
  const auto row = queue.row(0);
  ASSERT_EQ(row.tries.size(), 1U);
  EXPECT_EQ(row.tries[0].attempt.status_code, std::nullopt);
  EXPECT_FALSE(row.tries[0].attempt.error.empty());
  EXPECT_TRUE(row.tries[0].retry_at);
}

TEST(WebhookSender, APrivateAddressIsNeverConnectedToUnlessAllowed) {
  Receiver receiver([](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  MemoryQueue queue;
  queue.Add("org_a", 1, receiver.url());
  queue.Add("org_b", 1, "http://localhost:" + receiver.url().substr(17));
  SenderOptions options = Local();
  options.allow_private = false;
  Sender sender(queue, options, SystemNow);
  EXPECT_EQ(sender.RunOnce(), 0);
  EXPECT_TRUE(receiver.requests().empty());
  for (size_t i : {0U, 1U}) {
    const auto row = queue.row(i);
    ASSERT_EQ(row.tries.size(), 1U);
    EXPECT_EQ(row.tries[0].attempt.status_code, std::nullopt);
    const std::string& error = row.tries[0].attempt.error;
    EXPECT_EQ(error.rfind("blocked address: ", 0), 0U) << error;
    EXPECT_NE(error.find(" is a loopback, private or link-local address"), std::string::npos)
        << error;
    EXPECT_TRUE(row.tries[0].retry_at);  // the setting may yet be changed
  }
}

TEST(WebhookSender, KeepsUpToConcurrencyTriesInFlightAndAnOrganizationsInOrder) {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int most = 0;
  Receiver receiver([&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock(mu);
    most = std::max(most, ++in_flight);
    cv.notify_all();
    // Held until four are in at once (or a while passed): shows they overlap.
    cv.wait_for(lock, std::chrono::milliseconds{500}, [&] { return in_flight >= 4; });
    --in_flight;
    res.status = 200;
  });
  MemoryQueue queue;
  for (int seq = 1; seq <= 3; ++seq) {
    for (const char* org : {"org_a", "org_b", "org_c", "org_d", "org_e", "org_f"}) {
      queue.Add(org, seq, receiver.url());
    }
  }
  Sender sender(queue, Local(), SystemNow);
  EXPECT_EQ(sender.RunOnce(), 18);
  EXPECT_EQ(most, 4);
  // Each organization's events arrived in sequence order.
  std::map<std::string, std::vector<int64_t>> seen;
  for (const auto& req : receiver.requests()) {
    const Json body = ParseJson(req.body);
    seen[body["org_id"].get<std::string>()].push_back(body["sequence"].get<int64_t>());
  }
  ASSERT_EQ(seen.size(), 6U);
  for (const auto& [org, seqs] : seen) EXPECT_EQ(seqs, (std::vector<int64_t>{1, 2, 3})) << org;
}

}  // namespace
}  // namespace sima::server::webhook
