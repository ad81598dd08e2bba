#include "stream_hub.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace sima::server {

using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t kWakeId = 0;
constexpr uint32_t kIdle = EPOLLIN | EPOLLRDHUP;
constexpr int64_t kRetryAfterSeconds = 30;
// The kernel's send buffer of a stream. Linux grows a socket's up to megabytes on its own; a
// stream needs a few events' worth, and a slow reader must reach Options::max_unsent soon
// rather than park megabytes in the kernel.
constexpr int kSendBuffer = 64 * 1024;

}  // namespace

StreamHub::Slot::~Slot() {
  if (!adopted_) hub_->Release(this);
}

StreamHub::StreamHub(Options options) : options_(options) {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
}

StreamHub::~StreamHub() {
  Stop();
  ::close(epoll_);
  ::close(wake_);
}

void StreamHub::Start() {
  std::lock_guard lock(mu_);
  if (stopped_ || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void StreamHub::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    std::vector<uint64_t> ids;
    ids.reserve(streams_.size());
    for (const auto& [id, s] : streams_) ids.push_back(id);
    for (uint64_t id : ids) CloseStream(id);
  }
  uint64_t one = 1;
  (void)!::write(wake_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
}

Expected<std::shared_ptr<StreamHub::Slot>> StreamHub::Reserve(const std::string& org_id) {
  std::lock_guard lock(mu_);
  if (stopped_) return Error::Unavailable("the server is shutting down");
  size_t& of_org = counts_[org_id];
  if (total_ >= options_.max_streams || of_org >= options_.max_per_org) {
    if (of_org == 0) counts_.erase(org_id);
    Error e{ErrorKind::kTooManyStreams,
            total_ >= options_.max_streams
                ? "this server holds as many event streams as it may; refresh instead, or retry "
                  "later"
                : "this organization has as many event streams open as it may; refresh instead, "
                  "or retry later"};
    e.extra["retry_after"] = kRetryAfterSeconds;
    return e;
  }
  ++of_org;
  ++total_;
  auto slot = std::make_shared<Slot>(*this, org_id);
  admitted_.emplace(org_id, slot.get());
  return slot;
}

void StreamHub::Release(Slot* slot) {
  std::lock_guard lock(mu_);
  Forget(slot);
  ReleaseLocked(slot->org_id_);
}

void StreamHub::ReleaseLocked(const std::string& org_id) {
  auto it = counts_.find(org_id);
  if (it == counts_.end()) return;
  if (--it->second == 0) counts_.erase(it);
  --total_;
}

void StreamHub::Forget(Slot* slot) {
  auto [from, to] = admitted_.equal_range(slot->org_id_);
  for (auto it = from; it != to; ++it) {
    if (it->second == slot) {
      admitted_.erase(it);
      return;
    }
  }
}

void StreamHub::Adopt(std::shared_ptr<Slot> slot, int fd, std::string first_bytes) {
  std::lock_guard lock(mu_);
  Forget(slot.get());
  if (stopped_) {
    ::close(fd);
    ReleaseLocked(slot->org_id_);
    slot->adopted_ = true;  // released here, under the lock
    return;
  }
  const uint64_t id = next_id_++;
  epoll_event ev{};
  ev.events = kIdle;
  ev.data.u64 = id;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ::close(fd);
    ReleaseLocked(slot->org_id_);
    slot->adopted_ = true;
    return;
  }
  slot->adopted_ = true;  // the stream holds the count from now on (CloseStream releases it)
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSendBuffer, sizeof(kSendBuffer));
  Stream& s = streams_[id];
  s.id = id;
  s.fd = fd;
  s.org_id = slot->org_id_;
  s.out = std::move(first_bytes);
  s.out.append(slot->missed_);  // published between admission and now
  by_org_[s.org_id].insert(id);
  if (!Flush(s)) CloseStream(id);
}

bool StreamHub::Wants(const std::string& org_id) {
  std::lock_guard lock(mu_);
  return counts_.contains(org_id);
}

std::string StreamHub::EventText(const OrgEvent& event) {
  std::string text;
  text.reserve(event.version.size() + event.data.size() + 32);
  text.append("id: ").append(event.version).append("\nevent: usage\ndata: ");
  text.append(event.data).append("\n\n");
  return text;
}

void StreamHub::Publish(const OrgEvent& event) {
  const std::string text = EventText(event);
  std::lock_guard lock(mu_);
  auto [from, to] = admitted_.equal_range(event.org_id);
  for (auto it = from; it != to; ++it) it->second->missed_.append(text);
  const auto org = by_org_.find(event.org_id);
  if (org == by_org_.end()) return;
  std::vector<uint64_t> gone;
  for (uint64_t id : org->second) {
    Stream& s = streams_[id];
    s.out.append(text);
    if (!Flush(s)) gone.push_back(id);
  }
  for (uint64_t id : gone) CloseStream(id);
}

size_t StreamHub::streams() const {
  std::lock_guard lock(mu_);
  return total_;
}

size_t StreamHub::streams_of(const std::string& org_id) const {
  std::lock_guard lock(mu_);
  const auto it = counts_.find(org_id);
  return it == counts_.end() ? 0 : it->second;
}

bool StreamHub::Flush(Stream& s) {
  size_t sent = 0;
  while (sent < s.out.size()) {
    const ssize_t n =
        ::send(s.fd, s.out.data() + sent, s.out.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return false;
  }
  s.out.erase(0, sent);
  // The kernel's buffer is full and ours passed the bound: this reader is too far behind.
  if (s.out.size() > options_.max_unsent) return false;
  const bool want_out = !s.out.empty();
  if (want_out != s.want_out) {
    epoll_event ev{};
    ev.events = want_out ? kIdle | EPOLLOUT : kIdle;
    ev.data.u64 = s.id;
    if (::epoll_ctl(epoll_, EPOLL_CTL_MOD, s.fd, &ev) != 0) return false;
    s.want_out = want_out;
  }
  return true;
}

void StreamHub::CloseStream(uint64_t id) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& s = it->second;
  ::epoll_ctl(epoll_, EPOLL_CTL_DEL, s.fd, nullptr);
  ::close(s.fd);
  if (auto org = by_org_.find(s.org_id); org != by_org_.end()) {
    org->second.erase(id);
    if (org->second.empty()) by_org_.erase(org);
  }
  ReleaseLocked(s.org_id);
  streams_.erase(it);
}

void StreamHub::Loop() {
  std::vector<epoll_event> events(256);
  auto next_ping = Clock::now() + options_.heartbeat;
  for (;;) {
    const auto until_ping =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_ping - Clock::now()).count();
    const int wait = static_cast<int>(std::clamp<int64_t>(until_ping + 1, 0, 1000));
    const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), wait);
    std::lock_guard lock(mu_);
    if (stopped_) break;
    for (int i = 0; i < std::max(n, 0); ++i) {
      const epoll_event& ev = events[static_cast<size_t>(i)];
      if (ev.data.u64 == kWakeId) {
        uint64_t count = 0;
        (void)!::read(wake_, &count, sizeof(count));
        continue;
      }
      const auto it = streams_.find(ev.data.u64);
      if (it == streams_.end()) continue;  // closed by Publish meanwhile
      Stream& s = it->second;
      if ((ev.events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0) {
        CloseStream(it->first);
        continue;
      }
      if ((ev.events & EPOLLIN) != 0) {
        // The peer closed (0), failed, or sent bytes: a stream takes no requests.
        char tmp[256];
        const ssize_t got = ::recv(s.fd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (!(got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))) {
          CloseStream(it->first);
          continue;
        }
      }
      if ((ev.events & EPOLLOUT) != 0 && !Flush(s)) CloseStream(it->first);
    }
    const auto now = Clock::now();
    if (now >= next_ping) {
      next_ping = now + options_.heartbeat;
      std::vector<uint64_t> gone;
      for (auto& [id, s] : streams_) {
        s.out.append(": ping\n\n");
        if (!Flush(s)) gone.push_back(id);
      }
      for (uint64_t id : gone) CloseStream(id);
    }
  }
}

uint64_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
  }
  return limit.rlim_cur;
}

}  // namespace sima::server
