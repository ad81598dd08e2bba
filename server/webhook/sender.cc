#include "webhook/sender.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <random>

#include "sima/json.h"
#include "webhook/address_guard.h"
#include "webhook/endpoint_url.h"
#include "webhook/event.h"
#include "webhook/signature.h"

namespace sima::server::webhook {
namespace {

// The delivery log keeps this much of an answer; reading stops (the try ends) past kMaxAnswer,
// so a receiver streaming without end cannot hold a slot or memory.
constexpr size_t kKeptAnswer = 1024;
constexpr size_t kMaxAnswer = 64 * 1024;
constexpr long kMaxConnectMs = 5000;

class StoreQueue final : public DeliveryQueue {
 public:
  explicit StoreQueue(Store& store) : store_(store) {}
  Expected<std::vector<DueDelivery>> Claim(Time now, Time lease_until, int64_t limit) override {
    return store_.ClaimDueDeliveries(now, lease_until, limit);
  }
  ExpectedDone Complete(int64_t delivery_id, const std::string& lease, const DeliveryResult& result,
                        Time now) override {
    return store_.CompleteDelivery(delivery_id, lease, result, now);
  }

 private:
  Store& store_;
};

// One try in flight: what libcurl reads from and writes to while it runs.
struct Transfer {
  DueDelivery due;
  std::string body;
  curl_slist* headers = nullptr;
  std::string answer;  // the first kKeptAnswer bytes
  size_t answer_bytes = 0;
  bool allow_private = false;
  std::optional<std::string> blocked;  // the address the guard refused, and why
  char error[CURL_ERROR_SIZE] = {};
  Time at{};
  std::chrono::steady_clock::time_point started;
  ~Transfer() { curl_slist_free_all(headers); }
};

size_t KeepAnswer(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  t->answer_bytes += n;
  if (t->answer.size() < kKeptAnswer) {
    t->answer.append(data, std::min(n, kKeptAnswer - t->answer.size()));
  }
  return t->answer_bytes > kMaxAnswer ? 0 : n;  // 0 ends the try (CURLE_WRITE_ERROR)
}

// libcurl calls this with each address its resolver found, just before connecting: the one
// place that sees the address actually used, so a rebinding DNS answer cannot slip past.
curl_socket_t OpenCheckedSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  if (auto why = BlockedAddressReason(&address->addr, t->allow_private)) {
    if (!t->blocked) t->blocked = std::move(why);
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

std::string ErrorOf(const Transfer& t, CURLcode rc, long status) {
  if (t.blocked) {
    return "blocked address: " + *t.blocked +
           " (webhooks go only to public addresses unless SIMA_WEBHOOK_ALLOW_PRIVATE=1)";
  }
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && status != 0)) {
    if (status >= 300 && status < 400) {
      return "HTTP " + std::to_string(status) + " (redirects are not followed)";
    }
    return "HTTP " + std::to_string(status);
  }
  // curl's message names the host at most, never the path or query (which may hold a token).
  return t.error[0] != '\0' ? std::string(t.error) : std::string(curl_easy_strerror(rc));
}

}  // namespace

SenderOptions SenderOptions::From(const Config& config) {
  SenderOptions o;
  o.allow_private = config.webhook_allow_private != 0;
  o.timeout = std::chrono::milliseconds{config.webhook_timeout_ms};
  o.concurrency = config.webhook_concurrency;
  o.retry_for = std::chrono::hours{config.webhook_retry_hours};
  return o;
}

struct Sender::Transfers {
  CURLM* multi = nullptr;
  std::map<CURL*, std::unique_ptr<Transfer>> in_flight;
  std::mt19937_64 random{std::random_device{}()};

  Transfers() {
    static const bool once = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
    (void)once;
    multi = curl_multi_init();
  }
  ~Transfers() {
    Abandon();
    curl_multi_cleanup(multi);
  }
  void Abandon() {
    for (auto& [curl, transfer] : in_flight) {
      curl_multi_remove_handle(multi, curl);
      curl_easy_cleanup(curl);
    }
    in_flight.clear();
  }
  double Jitter() { return std::uniform_real_distribution<double>(-1.0, 1.0)(random); }
};

Sender::Sender(Store& store, SenderOptions options, NowFn now)
    : owned_queue_(std::make_unique<StoreQueue>(store)),
      queue_(*owned_queue_),
      options_(options),
      now_(std::move(now)),
      transfers_(std::make_unique<Transfers>()) {}

Sender::Sender(DeliveryQueue& queue, SenderOptions options, NowFn now)
    : queue_(queue),
      options_(options),
      now_(std::move(now)),
      transfers_(std::make_unique<Transfers>()) {}

Sender::~Sender() { Stop(); }

void Sender::Start(std::chrono::milliseconds interval) {
  stopping_ = false;
  worker_.Start(interval, [this] { RunOnce(); });
}

void Sender::Stop() {
  stopping_ = true;
  worker_.Stop();
}

std::chrono::seconds Sender::LeaseFor() const {
  return std::chrono::ceil<std::chrono::seconds>(2 * options_.timeout) + std::chrono::seconds{5};
}

std::chrono::seconds Sender::RetryDelay(int64_t tries, std::chrono::seconds base, double jitter) {
  return server::RetryDelay(tries, base, jitter);
}

std::optional<Time> Sender::RetryAt(const DueDelivery& due, Time after,
                                    const SenderOptions& options, double jitter) {
  const Time deadline = due.event.created_at + options.retry_for;
  if (after >= deadline) return std::nullopt;
  return std::min(after + RetryDelay(due.delivery.attempts + 1, options.retry_base, jitter),
                  deadline);
}

int Sender::RunOnce() {
  Transfers& x = *transfers_;
  int delivered = 0;

  // Records a finished try and says so in the log when it failed.
  const auto record = [&](const DueDelivery& due, DeliveryAttempt attempt, bool ok) {
    const Time after = now_();
    DeliveryResult result;
    result.delivered = ok;
    if (!ok) result.retry_at = RetryAt(due, after, options_, x.Jitter());
    result.attempt = std::move(attempt);
    if (!ok) {
      // Never the body, the URL or a signature: the ids say where to look in the log.
      std::cerr << Json{{"msg", result.retry_at ? "webhooks: delivery failed, will retry"
                                                : "webhooks: delivery failed, given up"},
                        {"delivery_id", due.delivery.id},
                        {"endpoint_id", due.delivery.endpoint_id},
                        {"event_id", due.event.id},
                        {"try", due.delivery.attempts + 1},
                        {"status", result.attempt.status_code ? Json(*result.attempt.status_code)
                                                              : Json(nullptr)},
                        {"error", result.attempt.error},
                        {"retry_at",
                         result.retry_at ? Json(FormatTime(*result.retry_at)) : Json(nullptr)}}
                       .dump(-1, ' ', false, Json::error_handler_t::replace)
                << std::endl;
    }
    const ExpectedDone done = queue_.Complete(due.delivery.id, due.lease, result, after);
    if (!done) {
      // kConflict: the lease ran out and another sender has it; it records its own try.
      std::cerr << Json{{"msg", "webhooks: a try was not recorded"},
                        {"delivery_id", due.delivery.id},
                        {"endpoint_id", due.delivery.endpoint_id},
                        {"error", done.error().ToString()}}
                       .dump(-1, ' ', false, Json::error_handler_t::replace)
                << std::endl;
      return;
    }
    if (ok) ++delivered;
  };

  const auto begin = [&](DueDelivery due) {
    auto t = std::make_unique<Transfer>();
    t->at = now_();
    t->started = std::chrono::steady_clock::now();
    t->allow_private = options_.allow_private;
    if (auto url = ParseEndpointUrl(due.url); !url) {
      record(due, DeliveryAttempt{due.delivery.id, t->at, std::nullopt, 0, "", url.error().message},
             false);
      return;
    }
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
      record(
          due,
          DeliveryAttempt{due.delivery.id, t->at, std::nullopt, 0, "", "libcurl could not start"},
          false);
      return;
    }
    t->due = std::move(due);
    t->body = EventBody(t->due.event);
    std::vector<std::string> secrets{t->due.secret};
    if (t->due.previous_secret) secrets.push_back(*t->due.previous_secret);
    // Signed now, not when the event was written: a receiver's tolerance is about this try.
    const std::string lines[] = {
        "Content-Type: application/json",
        "User-Agent: sima-webhooks/1",
        "Sima-Event-Id: " + t->due.event.id,
        "Sima-Event-Type: " + t->due.event.type,
        std::string(kSignatureHeader) + ": " + SignatureHeader(secrets, t->at, t->body),
        "Expect:",  // no 100-continue round trip for a body over 1 KiB
    };
    for (const std::string& line : lines) t->headers = curl_slist_append(t->headers, line.c_str());
    curl_easy_setopt(curl, CURLOPT_URL, t->due.url.c_str());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, t->body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, KeepAnswer);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, OpenCheckedSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, t.get());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    // No proxy, whatever http_proxy/HTTPS_PROXY the server's environment has: a proxy would
    // connect for us, past the address guard.
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    const long timeout_ms = static_cast<long>(options_.timeout.count());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, kMaxConnectMs));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_multi_add_handle(x.multi, curl);
    x.in_flight.emplace(curl, std::move(t));
  };

  // Takes the tries libcurl finished; how many.
  const auto reap = [&] {
    int finished = 0;
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(x.multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* curl = msg->easy_handle;
      const CURLcode rc = msg->data.result;
      auto node = x.in_flight.extract(curl);
      curl_multi_remove_handle(x.multi, curl);
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_cleanup(curl);
      if (node.empty()) continue;
      Transfer& t = *node.mapped();
      // An answer cut off at kMaxAnswer still counts: the receiver's status is in.
      const bool answered = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && status != 0);
      const bool ok = answered && status >= 200 && status < 300;
      DeliveryAttempt attempt;
      attempt.delivery_id = t.due.delivery.id;
      attempt.at = t.at;
      if (answered) attempt.status_code = static_cast<int>(status);
      attempt.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - t.started)
                                .count();
      attempt.response_body = std::move(t.answer);
      if (!ok) attempt.error = ErrorOf(t, rc, answered ? status : 0);
      record(t.due, std::move(attempt), ok);
      ++finished;
    }
    return finished;
  };

  bool more = true;  // the last claim may have left due deliveries behind
  while (!stopping_) {
    const auto free = options_.concurrency - static_cast<int64_t>(x.in_flight.size());
    if (more && free > 0) {
      const Time now = now_();
      auto claimed = queue_.Claim(now, now + LeaseFor(), free);
      more = claimed && static_cast<int64_t>(claimed->size()) == free;
      if (claimed) {
        for (DueDelivery& due : claimed.value()) begin(std::move(due));
      }
    }
    if (x.in_flight.empty()) {
      if (more) continue;
      break;
    }
    int running = 0;
    curl_multi_perform(x.multi, &running);
    // A finished try may have let its organization's next event become due.
    if (reap() > 0) {
      more = true;
      continue;
    }
    curl_multi_poll(x.multi, nullptr, 0, 100, nullptr);
  }
  if (stopping_) x.Abandon();
  return delivered;
}

}  // namespace sima::server::webhook
