// A webhook receiver for the integration tests: an HTTP server on a loopback port that checks
// every delivery's signature, records it, and answers as the test says (200, 500, or hanging
// past the sender's timeout). Also notes when two tries of one event overlap in time.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "webhook/signature.h"

namespace sima::integration {

class WebhookReceiver {
 public:
  enum class Answer { kOk, kError, kHang };
  struct Delivery {
    std::string id;
    std::string type;
    std::string org_id;
    int64_t sequence = 0;
    server::webhook::Verdict verdict = server::webhook::Verdict::kMalformed;
    bool header_id_matches = false;  // Sima-Event-Id and Sima-Event-Type are the body's
    Answer answer = Answer::kOk;
  };
  // Says how to answer a delivery (default: kOk).
  using Decide = std::function<Answer(const Delivery&)>;

  // Listens on 127.0.0.1:`port` (0: any free port). REQUIRES: the port is free.
  explicit WebhookReceiver(int port = 0);
  ~WebhookReceiver();  // releases hanging requests, stops

  void set_secret(const std::string& secret);
  void set_decide(Decide decide);
  // How long a kHang answer is held (default 20 s): longer than the sender's timeout, and for
  // the overlap count, shorter than the sender's retry after it.
  void set_hang(std::chrono::milliseconds hang);
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks"; }

  std::vector<Delivery> received();
  // Ids of the events answered 2xx.
  std::set<std::string> delivered();
  // How often a try of an event arrived while another try of it was still being answered.
  int overlaps();
  // Every delivery's signature verified against the secret.
  bool all_valid();

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable released_;
  bool stopping_ = false;
  std::string secret_;
  Decide decide_;
  std::chrono::milliseconds hang_{20000};
  std::vector<Delivery> received_;
  std::map<std::string, int> in_flight_;
  int overlaps_ = 0;
};

}  // namespace sima::integration
