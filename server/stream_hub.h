// The embedded event streams of GET /events/{org_id}/ (docs/api.md#live-usage-events).
//
// A stream is an answer that never ends: "retry:", then one "id:/event:/data:" event per change
// of the organization's plan or usage, and a ": ping" comment every SIMA_STREAM_HEARTBEAT
// seconds. Thousands of them sit idle, so none holds a thread:
//
//   worker (handlers_events.cc)  Reserve(org) ─ admission, before the answer's head is written
//                                TakeOverConnection ─ the connection layer writes the head
//   StreamHub thread (epoll)     Adopt(fd, bytes) ─ holds the socket from then on
//   ChangeFeed thread            Publish(event) ─ appends the event to each of the org's streams
//
// Every write is non-blocking: what the socket does not take waits in the stream's buffer and
// goes out on EPOLLOUT. A reader whose unsent bytes pass Options::max_unsent is closed (it
// reconnects and gets the current state), so a slow reader never slows the others. A peer
// that closes is removed at once (EPOLLRDHUP). A stream's client sends nothing: bytes from it
// close the stream.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "error.h"
#include "events.h"

namespace sima::server {

class StreamHub : public EventSink {
 public:
  struct Options {
    size_t max_streams = 4096;           // SIMA_MAX_STREAMS
    size_t max_per_org = 64;             // SIMA_MAX_STREAMS_PER_ORG
    std::chrono::seconds heartbeat{20};  // SIMA_STREAM_HEARTBEAT
    size_t max_unsent = 256 * 1024;      // a reader this far behind is dropped
  };

  // A stream admitted and not yet adopted: counts against the caps until Adopt takes it or it
  // is destroyed (the connection could not become a stream).
  class Slot {
   public:
    Slot(StreamHub& hub, std::string org_id) : hub_(&hub), org_id_(std::move(org_id)) {}
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    const std::string& org_id() const { return org_id_; }

   private:
    friend class StreamHub;
    StreamHub* hub_;
    std::string org_id_;
    bool adopted_ = false;  // the stream holds the count now (guarded by the hub's mutex)
    std::string missed_;    // events published between admission and adoption (hub's mutex)
  };

  explicit StreamHub(Options options);
  ~StreamHub() override;  // Stop()
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // Starts the thread that holds the streams.
  void Start();
  // Closes every stream and stops the thread; later Adopt calls close their socket. Idempotent.
  void Stop();

  // Admission of a new stream of `org_id`: kTooManyStreams (retry_after 30) over the caps.
  Expected<std::shared_ptr<Slot>> Reserve(const std::string& org_id);
  // The socket of an admitted stream (non-blocking) and the bytes to send first.
  void Adopt(std::shared_ptr<Slot> slot, int fd, std::string first_bytes);

  // EventSink: true while `org_id` has a stream here.
  bool Wants(const std::string& org_id) override;
  // Appends the event to each of the org's streams and writes what the sockets take.
  void Publish(const OrgEvent& event) override;

  // Streams held now (admitted ones included), in all and of one organization.
  size_t streams() const;
  size_t streams_of(const std::string& org_id) const;

  // The SSE text of one event.
  static std::string EventText(const OrgEvent& event);

 private:
  struct Stream {
    uint64_t id = 0;
    int fd = -1;
    std::string org_id;
    std::string out;  // unsent bytes
    bool want_out = false;
  };
  void Loop();
  // A slot that was not adopted gives its place back.
  void Release(Slot* slot);
  // The rest: with mu_ held.
  void ReleaseLocked(const std::string& org_id);
  void Forget(Slot* slot);
  // Writes what the socket takes; false: the stream must close (error, too far behind).
  bool Flush(Stream& s);
  void CloseStream(uint64_t id);

  Options options_;
  int epoll_ = -1;
  int wake_ = -1;          // eventfd: Stop
  mutable std::mutex mu_;  // everything below
  bool stopped_ = false;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Stream> streams_;
  std::unordered_map<std::string, std::unordered_set<uint64_t>> by_org_;  // adopted
  std::unordered_multimap<std::string, Slot*> admitted_;                  // not adopted yet
  std::unordered_map<std::string, size_t> counts_;  // admitted + adopted, per org
  size_t total_ = 0;
  std::thread thread_;
};

// Raises the soft limit of open files to the hard limit (each stream is a descriptor). Returns
// the soft limit now in force.
uint64_t RaiseOpenFileLimit();

}  // namespace sima::server
