#include "nchan_publisher.h"

#include <httplib.h>

#include <iostream>

#include "gateway/gateway_call.h"

namespace sima::server {
namespace {

// A dead nginx fails every publish: one log line per this long, with how many failed.
constexpr auto kLogEvery = std::chrono::seconds{10};

Error BadUrl(const std::string& why) {
  return Error::Validation("SIMA_NCHAN_PUBLISH_URL",
                           "SIMA_NCHAN_PUBLISH_URL must be nchan's publisher location as "
                           "http://host:port/path/ (" +
                               why + ")");
}

}  // namespace

ExpectedDone ValidateNchanUrl(const std::string& url) {
  if (url.empty()) return BadUrl("unset, and SIMA_EVENTS=nchan needs it");
  if (url.rfind("http://", 0) != 0) return BadUrl("not an http:// URL");
  if (url.find_first_of("?#") != std::string::npos) return BadUrl("no query or fragment");
  const auto split = SplitGatewayUrl(url);
  if (!split) return BadUrl("no host");
  if (split->origin.find('@') != std::string::npos) return BadUrl("no credentials in it");
  if (url.back() != '/') return BadUrl("it ends with '/', the organization id follows");
  return Done{};
}

Expected<std::unique_ptr<NchanPublisher>> NchanPublisher::Create(
    const std::string& publish_url, std::chrono::milliseconds timeout) {
  if (auto r = ValidateNchanUrl(publish_url); !r) return r.error();
  const auto split = SplitGatewayUrl(publish_url);
  return std::unique_ptr<NchanPublisher>(new NchanPublisher(split->origin, split->path, timeout));
}

NchanPublisher::NchanPublisher(std::string origin, std::string path,
                               std::chrono::milliseconds timeout)
    : origin_(std::move(origin)),
      path_(std::move(path)),
      client_(std::make_unique<httplib::Client>(origin_)) {
  client_->set_connection_timeout(timeout);
  client_->set_read_timeout(timeout);
  client_->set_write_timeout(timeout);
  client_->set_keep_alive(true);
}

NchanPublisher::~NchanPublisher() = default;

void NchanPublisher::Publish(const OrgEvent& event) {
  std::lock_guard lock(mu_);
  const httplib::Headers headers{{"X-EventSource-Event", "usage"}};
  auto res = client_->Post(path_ + event.org_id, headers, event.data, "application/json");
  // No answer at all is most often a kept-alive connection nginx closed meanwhile
  // (keepalive_timeout, keepalive_requests): once more on a new one. A state sent twice is
  // harmless (clients ignore a state they hold).
  if (!res) res = client_->Post(path_ + event.org_id, headers, event.data, "application/json");
  if (res && res->status >= 200 && res->status < 300) {
    ++published_;
    return;
  }
  ++failed_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_log_ < kLogEvery) return;
  last_log_ = now;
  const std::string why =
      res ? "nchan answered " + std::to_string(res->status) : httplib::to_string(res.error());
  std::cerr << Json{{"msg", "live usage: publishing to nchan failed, dropped"},
                    {"org_id", event.org_id},
                    {"error", why},
                    {"failed_so_far", failed_}}
                   .dump(-1, ' ', false, Json::error_handler_t::replace)
            << std::endl;
}

int64_t NchanPublisher::published() const {
  std::lock_guard lock(mu_);
  return published_;
}

int64_t NchanPublisher::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

}  // namespace sima::server
