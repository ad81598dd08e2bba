#include "webhook_receiver.h"

#include "clock.h"
#include "sima/json.h"

namespace sima::integration {

WebhookReceiver::WebhookReceiver(int port) {
  server_.Post("/hooks", [this](const httplib::Request& req, httplib::Response& res) {
    Delivery d;
    const Json body = ParseJson(req.body);
    if (body.is_object()) {
      d.id = body.value("id", "");
      d.type = body.value("type", "");
      d.org_id = body.value("org_id", "");
      d.sequence = body.value("sequence", int64_t{0});
    }
    d.header_id_matches = req.get_header_value("Sima-Event-Id") == d.id &&
                          req.get_header_value("Sima-Event-Type") == d.type &&
                          req.get_header_value("Content-Type") == "application/json";
    std::unique_lock lock(mu_);
    d.verdict = server::webhook::VerifySignature(req.get_header_value("Sima-Signature"), req.body,
                                                 {secret_}, server::SystemNow());
    d.answer = decide_ ? decide_(d) : Answer::kOk;
    received_.push_back(d);
    if (in_flight_[d.id]++ > 0) ++overlaps_;
    if (d.answer == Answer::kHang) {
      released_.wait_for(lock, hang_, [this] { return stopping_; });
    }
    --in_flight_[d.id];
    res.status = d.answer == Answer::kError ? 500 : 200;
    res.set_content(d.answer == Answer::kError ? "not now" : "ok", "text/plain");
  });
  server_.new_task_queue = [] { return new httplib::ThreadPool(32); };
  port_ = port == 0 ? server_.bind_to_any_port("127.0.0.1")
                    : (server_.bind_to_port("127.0.0.1", port) ? port : -1);
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::yield();
}

WebhookReceiver::~WebhookReceiver() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  released_.notify_all();
  server_.stop();
  thread_.join();
}

void WebhookReceiver::set_secret(const std::string& secret) {
  std::lock_guard lock(mu_);
  secret_ = secret;
}

void WebhookReceiver::set_decide(Decide decide) {
  std::lock_guard lock(mu_);
  decide_ = std::move(decide);
}

void WebhookReceiver::set_hang(std::chrono::milliseconds hang) {
  std::lock_guard lock(mu_);
  hang_ = hang;
}

std::vector<WebhookReceiver::Delivery> WebhookReceiver::received() {
  std::lock_guard lock(mu_);
  return received_;
}

std::set<std::string> WebhookReceiver::delivered() {
  std::lock_guard lock(mu_);
  std::set<std::string> ids;
  for (const Delivery& d : received_) {
    if (d.answer == Answer::kOk) ids.insert(d.id);
  }
  return ids;
}

int WebhookReceiver::overlaps() {
  std::lock_guard lock(mu_);
  return overlaps_;
}

bool WebhookReceiver::all_valid() {
  std::lock_guard lock(mu_);
  for (const Delivery& d : received_) {
    if (d.verdict != server::webhook::Verdict::kValid || !d.header_id_matches) return false;
  }
  return true;
}

}  // namespace sima::integration
