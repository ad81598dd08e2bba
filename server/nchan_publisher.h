// Live usage through nginx (SIMA_EVENTS=nchan): nginx's nchan module holds the browsers'
// streams of GET /events/{org_id}/ (deploy/nginx/sima-events.conf), and this sink hands it
// each event: POST {SIMA_NCHAN_PUBLISH_URL}{org_id} with the event's JSON as the body and
// X-EventSource-Event: usage. nchan keeps the newest message of each channel for the next
// subscriber and assigns its own event ids.
//
// Publishing runs on the feed's thread, one short request at a time on a kept-alive
// connection to loopback: connecting and answering are each bounded by `timeout` (1 s), so
// an nginx that is away delays the feed by at most that much per event. A failed publish is
// logged (organization and reason; the body holds nothing secret but is not logged either)
// and dropped: the organization's next change publishes its whole state again.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "error.h"
#include "events.h"

namespace httplib {
class Client;
}

namespace sima::server {

class NchanPublisher final : public EventSink {
 public:
  // `publish_url`: http://host:port/path/ (validated by ValidateNchanUrl).
  static Expected<std::unique_ptr<NchanPublisher>> Create(
      const std::string& publish_url, std::chrono::milliseconds timeout = std::chrono::seconds{1});
  ~NchanPublisher() override;

  bool Wants(const std::string&) override { return true; }  // nchan has the subscribers
  void Publish(const OrgEvent& event) override;

  // Events handed to nchan (2xx) and dropped (no answer or an error status), for tests and logs.
  int64_t published() const;
  int64_t failed() const;

 private:
  NchanPublisher(std::string origin, std::string path, std::chrono::milliseconds timeout);
  const std::string origin_;
  const std::string path_;  // ends with '/'
  mutable std::mutex mu_;   // one request at a time on the connection
  std::unique_ptr<httplib::Client> client_;
  int64_t published_ = 0;
  int64_t failed_ = 0;
  std::chrono::steady_clock::time_point last_log_{};
};

// kValidation (field SIMA_NCHAN_PUBLISH_URL) unless `url` is http://host[:port]/path/ without
// credentials, a query or a fragment.
ExpectedDone ValidateNchanUrl(const std::string& url);

}  // namespace sima::server
