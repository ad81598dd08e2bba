// GET /events/{org_id}/ and GET /events/{org_id}/auth/ (docs/api.md#live-usage-events).
//
// Both authenticate with the Authorization header only (Access::kOrgEvents): no API call is
// counted, nothing is announced to the live feed, and a credential in the URL is refused, since
// URLs end up in logs and browser history.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "connection.h"
#include "events.h"
#include "handlers.h"
#include "stream_hub.h"

namespace sima::server {
namespace {

// Query parameters that would carry a credential (EventSource cannot send headers, so
// clients are tempted to put one there).
constexpr const char* kCredentialParams[] = {"token",  "access_token", "api_key",       "key",
                                             "apikey", "auth",         "authorization", "session"};

Expected<Done> CheckCredentialPlace(const Call& call) {
  for (const char* name : kCredentialParams) {
    if (call.query.contains(name)) {
      return Error{ErrorKind::kUnauthorized,
                   std::string("a credential is accepted only in the Authorization header, "
                               "never in the URL (\"") +
                       name + "\")"};
    }
  }
  return Done{};
}

// `{org_id}` must be the credential's organization; another one is not found (its existence
// is nobody else's business).
Expected<Done> CheckOrg(const Call& call) {
  if (call.params.empty() || call.params[0] != call.org_id()) {
    return Error::NotFound("no such organization");
  }
  return Done{};
}

// At most one republish per organization every 10 s: the thousands of subscribers that
// reconnect after an nginx restart need one, not one each (each reaches all the others).
bool RepublishDue(const std::string& org_id, Time now) {
  static std::mutex mu;
  static std::unordered_map<std::string, Time> last;
  std::lock_guard lock(mu);
  Time& at = last[org_id];
  if (at != Time{} && now - at < std::chrono::seconds{10}) return false;
  at = now;
  return true;
}

}  // namespace

Expected<Reply> EventsHandler(const Services& s, const Call& call) {
  // With SIMA_EVENTS=nchan nginx serves this path; with off nothing does.
  if (s.streams == nullptr) return Error::NotFound("no such route");
  if (auto ok = CheckCredentialPlace(call); !ok) return ok.error();
  if (auto ok = CheckOrg(call); !ok) return ok.error();
  const std::string& org = call.org_id();
  // Admission first: a change from here on reaches this stream (as the first event, or as one
  // the hub keeps for it until it is adopted).
  auto slot = s.streams->Reserve(org);
  if (!slot) return slot.error();
  auto event = BuildOrgEvent(s.store, s.catalog, org, call.now);
  if (!event) return event.error();
  std::string first = "retry: 3000\n\n";
  // A client resuming with the version it holds gets nothing until the state changes.
  const std::string_view held = VersionHash(call.last_event_id);
  if (held.empty() || held != VersionHash(event->version)) {
    first += StreamHub::EventText(event.value());
  }
  StreamHub* hub = s.streams;
  std::shared_ptr<StreamHub::Slot> admitted = std::move(slot).value();
  const bool taken = TakeOverConnection(
      std::move(first),
      [hub, admitted](int fd, std::string bytes) { hub->Adopt(admitted, fd, std::move(bytes)); });
  if (!taken) {
    return Error{ErrorKind::kBadRequest,
                 "the event stream is served to a GET with no request pipelined behind it"};
  }
  Reply reply{200, Json()};
  // Cache-Control: no-store is on every answer already (http.cc).
  reply.headers = {{"Content-Type", "text/event-stream; charset=utf-8"},
                   // nginx in front must pass each event on at once, not buffer the answer.
                   {"X-Accel-Buffering", "no"}};
  reply.stream = true;
  return reply;
}

Expected<Reply> EventsAuthHandler(const Services& s, const Call& call) {
  if (s.changes == nullptr) return Error::NotFound("no such route");  // SIMA_EVENTS=off
  if (auto ok = CheckCredentialPlace(call); !ok) return ok.error();
  if (auto ok = CheckOrg(call); !ok) return ok.error();
  // nchan gives a new subscriber the channel's stored message, and after nginx restarted there
  // is none until the organization changes: an authorized subscriber has the current state
  // published again (a client ignores a state it holds).
  if (s.streams == nullptr && RepublishDue(call.org_id(), call.now)) {
    s.changes->ChangedElsewhere(call.org_id());
  }
  return Reply{204, Json()};
}

}  // namespace sima::server
