#include "connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sima/text.h"

namespace sima::server {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct HttpServer::Conn {
  int fd = -1;
  std::string buf;                 // bytes received and not yet consumed
  size_t pos = 0;                  // consumed part of buf (worker side; 0 while parked)
  Clock::time_point first_byte{};  // of the request being received
  Clock::time_point last_byte{};
  Clock::time_point idle_since{};
  bool lingering = false;  // answered and closing: read and drop what the client still sends
  Clock::time_point linger_until{};
  size_t discarded = 0;
  size_t served = 0;
  std::string peer_ip;
  int peer_port = 0;
  std::string local_ip;
  int local_port = 0;
};

namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr auto kLinger = milliseconds(2000);
constexpr size_t kLingerMaxBytes = 64u << 20;
constexpr size_t kMaxChunkLine = 1024;
constexpr size_t kMaxTrailerBytes = 8192;

bool IsTokenChar(char c) {
  if (IsAsciiAlnum(c)) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

HeadCheck Refuse(int status, std::string message) {
  HeadCheck out;
  out.status = status;
  out.message = std::move(message);
  return out;
}

void AddressOf(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
    port = ntohs(a->sin6_port);
  }
  ip = text;
}

// The request line and a few headers of a head that may be malformed, for a refusal.
Refusal LooseFacts(std::string_view head) {
  Refusal r;
  const auto eol = head.find_first_of("\r\n");
  const std::string_view line = head.substr(0, eol);
  const auto sp1 = line.find(' ');
  if (sp1 != std::string_view::npos) {
    r.method = std::string(line.substr(0, std::min<size_t>(sp1, 16)));
    const auto sp2 = line.find(' ', sp1 + 1);
    r.target = std::string(line.substr(sp1 + 1, std::min<size_t>(sp2 - sp1 - 1, 200)));
  }
  size_t at = eol;
  while (at != std::string_view::npos && at < head.size()) {
    at = head.find('\n', at);
    if (at == std::string_view::npos) break;
    ++at;
    const auto end = head.find_first_of("\r\n", at);
    const std::string_view h = head.substr(at, end == std::string_view::npos ? end : end - at);
    const auto colon = h.find(':');
    if (colon != std::string_view::npos) {
      const std::string name = AsciiLower(h.substr(0, colon));
      const std::string value(Trim(h.substr(colon + 1)).substr(0, 512));
      if (name == "origin") r.origin = value;
      if (name == "x-real-ip" || name == "x-forwarded-for") r.forwarded_for = value;
    }
  }
  return r;
}

// One request's context on the worker thread that serves it.
struct Current {
  HttpServer::Conn* conn = nullptr;
  HeadCheck framing;
  Clock::time_point deadline{};
  milliseconds read_timeout{};
  bool close_after = false;
  bool body_done = false;  // the body was read to its end (or there was none)
  bool broken = false;     // a read or write failed: the connection cannot go on
  // TakeOverConnection: the connection becomes a stream after this answer, which httplib
  // writes into `written` instead of the socket (HandOver rewrites and sends it).
  bool takeover = false;
  std::string written;
  std::string first_bytes;
  StreamAdopter adopt;
};
thread_local Current* t_current = nullptr;

// Waits until fd is readable/writable, at most `wait`.
bool PollFor(int fd, short events, milliseconds wait) {
  pollfd p{fd, events, 0};
  const int ms = static_cast<int>(std::max<int64_t>(0, wait.count()));
  for (;;) {
    const int n = ::poll(&p, 1, ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

// Reads more bytes from the socket into conn.buf, waiting at most read_timeout and never
// past the request deadline. False: timed out, closed or failed.
bool ReadMore(Current& cur, bool& timed_out) {
  HttpServer::Conn& c = *cur.conn;
  for (;;) {
    const auto now = Clock::now();
    if (now >= cur.deadline) {
      timed_out = true;
      return false;
    }
    const auto left = std::chrono::duration_cast<milliseconds>(cur.deadline - now);
    if (!PollFor(c.fd, POLLIN, std::min(left, cur.read_timeout) + milliseconds(1))) {
      timed_out = true;
      return false;
    }
    char tmp[kReadChunk];
    const ssize_t n = ::recv(c.fd, tmp, sizeof(tmp), 0);
    if (n > 0) {
      c.buf.append(tmp, static_cast<size_t>(n));
      c.last_byte = Clock::now();
      return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    return false;
  }
}

enum class Got { kOk, kTimedOut, kClosed };

Got Ensure(Current& cur, size_t n) {
  HttpServer::Conn& c = *cur.conn;
  while (c.buf.size() - c.pos < n) {
    bool timed_out = false;
    if (!ReadMore(cur, timed_out)) return timed_out ? Got::kTimedOut : Got::kClosed;
  }
  return Got::kOk;
}

// A CRLF-terminated line of at most `max` bytes (without the CRLF).
Got Line(Current& cur, size_t max, std::string& line, bool& too_long) {
  HttpServer::Conn& c = *cur.conn;
  size_t scanned = c.pos;
  for (;;) {
    const auto crlf = c.buf.find("\r\n", scanned > c.pos ? scanned - 1 : c.pos);
    if (crlf != std::string::npos && crlf - c.pos <= max) {
      line = c.buf.substr(c.pos, crlf - c.pos);
      c.pos = crlf + 2;
      return Got::kOk;
    }
    if (c.buf.size() - c.pos > max + 1) {
      too_long = true;
      return Got::kOk;
    }
    scanned = c.buf.size();
    bool timed_out = false;
    if (!ReadMore(cur, timed_out)) return timed_out ? Got::kTimedOut : Got::kClosed;
  }
}

BodyRead FromGot(Got g) { return g == Got::kTimedOut ? BodyRead::kTimedOut : BodyRead::kMalformed; }

BodyRead ReadChunked(Current& cur, size_t limit, std::string& out) {
  HttpServer::Conn& c = *cur.conn;
  for (;;) {
    std::string line;
    bool too_long = false;
    if (Got g = Line(cur, kMaxChunkLine, line, too_long); g != Got::kOk) return FromGot(g);
    if (too_long) return BodyRead::kMalformed;
    const std::string_view size_text = std::string_view(line).substr(0, line.find(';'));
    if (size_text.empty() || size_text.size() > 16) {
      return size_text.size() > 16 ? BodyRead::kTooLarge : BodyRead::kMalformed;
    }
    uint64_t size = 0;
    for (char ch : size_text) {
      const int d = HexDigitValue(ch);
      if (d < 0) return BodyRead::kMalformed;
      size = size * 16 + static_cast<uint64_t>(d);
    }
    if (size == 0) break;
    if (size > limit - out.size()) return BodyRead::kTooLarge;
    if (Got g = Ensure(cur, size + 2); g != Got::kOk) return FromGot(g);
    if (c.buf.compare(c.pos + size, 2, "\r\n") != 0) return BodyRead::kMalformed;
    out.append(c.buf, c.pos, size);
    c.pos += size + 2;
  }
  // Trailer fields, ignored, up to the blank line.
  size_t trailers = 0;
  for (;;) {
    std::string line;
    bool too_long = false;
    if (Got g = Line(cur, kMaxTrailerBytes, line, too_long); g != Got::kOk) return FromGot(g);
    trailers += line.size() + 2;
    if (too_long || trailers > kMaxTrailerBytes) return BodyRead::kMalformed;
    if (line.empty()) return BodyRead::kOk;
  }
}

// httplib's Stream over a connection: the request head from the buffer (never past it),
// answers to the socket.
class ConnStream final : public httplib::Stream {
 public:
  ConnStream(Current& cur, size_t head_end, milliseconds write_timeout)
      : cur_(cur), c_(*cur.conn), head_end_(head_end), write_timeout_(write_timeout) {}

  bool is_readable() const override { return c_.pos < head_end_; }
  bool is_writable() const override { return PollFor(c_.fd, POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    // Only the head: the body is read by ReadRequestBody once the request is accepted.
    if (c_.pos >= head_end_) return 0;
    const size_t n = std::min(size, head_end_ - c_.pos);
    std::memcpy(ptr, c_.buf.data() + c_.pos, n);
    c_.pos += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (cur_.broken) return -1;
    if (cur_.takeover) {
      cur_.written.append(ptr, size);
      return static_cast<ssize_t>(size);
    }
    size_t sent = 0;
    const auto deadline = Clock::now() + write_timeout_;
    while (sent < size) {
      const ssize_t n = ::send(c_.fd, ptr + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      const auto now = Clock::now();
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && now < deadline &&
          PollFor(c_.fd, POLLOUT, std::chrono::duration_cast<milliseconds>(deadline - now))) {
        continue;
      }
      cur_.broken = true;
      return -1;
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.peer_ip;
    port = c_.peer_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.local_ip;
    port = c_.local_port;
  }
  // httplib answers 500 for a descriptor select() cannot take; this stream never uses select.
  socket_t socket() const override { return c_.fd < FD_SETSIZE ? c_.fd : 0; }

 private:
  Current& cur_;
  HttpServer::Conn& c_;
  size_t head_end_;
  milliseconds write_timeout_;
};

const char* StatusText(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

// Sends a small answer without waiting (the socket's buffer is empty at this point).
void SendNow(int fd, const std::string& bytes) {
  size_t sent = 0;
  for (int tries = 0; sent < bytes.size() && tries < 50; ++tries) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      PollFor(fd, POLLOUT, milliseconds(20));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;
    }
  }
}

}  // namespace

HeadCheck CheckRequestHead(std::string_view head) {
  for (size_t i = 0; i < head.size(); ++i) {
    const char ch = head[i];
    if (ch == '\0') return Refuse(400, "the request head contains a NUL byte");
    if (ch == '\n' && (i == 0 || head[i - 1] != '\r')) {
      return Refuse(400, "the request head has a line ending in a bare LF");
    }
    if (ch == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) {
      return Refuse(400, "the request head has a bare CR");
    }
  }
  HeadCheck out;
  size_t at = head.find("\r\n");
  if (at == std::string_view::npos) return Refuse(400, "the request head is incomplete");
  const std::string_view line = head.substr(0, at);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos || sp1 == 0 || sp2 == sp1 + 1) {
    return Refuse(400, "the request line must be METHOD TARGET HTTP-VERSION");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return Refuse(400, "only HTTP/1.1 and HTTP/1.0 are served");
  }
  if (target.front() != '/') return Refuse(400, "the request target must be a path");
  static constexpr std::string_view kMethods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                                  "PATCH", "DELETE", "OPTIONS"};
  if (std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods)) {
    for (char ch : method) {
      if (!IsTokenChar(ch)) return Refuse(400, "the request method is not a token");
    }
    return Refuse(400, "the method " + std::string(method) + " is not served");
  }
  out.head.append(head.substr(0, at + 2));
  int lengths = 0;
  int encodings = 0;
  int hosts = 0;
  at += 2;
  while (at < head.size()) {
    const auto end = head.find("\r\n", at);
    const std::string_view h = head.substr(at, end - at);
    at = end + 2;
    if (h.empty()) break;  // the blank line ending the head
    if (h.front() == ' ' || h.front() == '\t') {
      return Refuse(400, "obsolete header line folding is not accepted");
    }
    const auto colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Refuse(400, "a header line has no name");
    }
    for (char ch : h.substr(0, colon)) {
      if (!IsTokenChar(ch)) return Refuse(400, "a header name has a character names cannot have");
    }
    const std::string name = AsciiLower(h.substr(0, colon));
    const std::string_view value = Trim(h.substr(colon + 1));
    if (name == "content-length") {
      ++lengths;
      if (value.empty() || value.size() > 15 ||
          !std::all_of(value.begin(), value.end(), IsAsciiDigit)) {
        return Refuse(400, "Content-Length must be a number of bytes");
      }
      out.content_length = std::stoull(std::string(value));
    } else if (name == "transfer-encoding") {
      ++encodings;
      if (AsciiLower(value) != "chunked") {
        return Refuse(400, "the only Transfer-Encoding accepted is chunked");
      }
      out.chunked = true;
    } else if (name == "host") {
      ++hosts;
    } else if (name == "range" || name == "if-range") {
      continue;  // answers are always whole
    }
    out.head.append(h);
    out.head.append("\r\n");
  }
  out.head.append("\r\n");
  if (lengths > 1) return Refuse(400, "more than one Content-Length");
  if (encodings > 1) return Refuse(400, "more than one Transfer-Encoding");
  if (lengths > 0 && encodings > 0) {
    return Refuse(400, "Content-Length and Transfer-Encoding together are ambiguous");
  }
  if (hosts > 1) return Refuse(400, "more than one Host");
  if (out.chunked && version == "HTTP/1.0") {
    return Refuse(400, "HTTP/1.0 has no chunked transfer coding");
  }
  if ((method == "GET" || method == "HEAD" || method == "OPTIONS") && out.has_body()) {
    return Refuse(400, "a " + std::string(method) + " request cannot carry a body");
  }
  return out;
}

BodyRead ReadRequestBody(size_t limit, std::string& out) {
  Current* cur = t_current;
  out.clear();
  if (cur == nullptr) return BodyRead::kMalformed;
  if (cur->body_done) return BodyRead::kOk;
  BodyRead result = BodyRead::kOk;
  if (cur->framing.chunked) {
    result = ReadChunked(*cur, limit, out);
  } else if (cur->framing.content_length > limit) {
    result = BodyRead::kTooLarge;
  } else if (cur->framing.content_length > 0) {
    const auto n = static_cast<size_t>(cur->framing.content_length);
    if (Got g = Ensure(*cur, n); g != Got::kOk) {
      result = FromGot(g);
    } else {
      out.assign(cur->conn->buf, cur->conn->pos, n);
      cur->conn->pos += n;
    }
  }
  if (result == BodyRead::kOk) {
    cur->body_done = true;
  } else {
    cur->close_after = true;
    out.clear();
  }
  return result;
}

void CloseConnectionAfterAnswer() {
  if (t_current != nullptr) t_current->close_after = true;
}

bool ClosingAfterAnswer() {
  return t_current != nullptr && (t_current->close_after || !t_current->body_done);
}

const HeadCheck* CurrentFraming() { return t_current ? &t_current->framing : nullptr; }

bool TakeOverConnection(std::string first_bytes, StreamAdopter adopt) {
  Current* cur = t_current;
  if (cur == nullptr || cur->takeover || !cur->body_done ||
      cur->framing.head.rfind("GET ", 0) != 0) {
    return false;
  }
  // A request pipelined behind this one would never be answered: the stream is the last thing
  // this connection says.
  if (cur->conn->buf.size() > cur->framing.head.size()) return false;
  cur->takeover = true;
  cur->close_after = true;
  cur->first_bytes = std::move(first_bytes);
  cur->adopt = std::move(adopt);
  return true;
}

HttpServer::HttpServer(ConnectionLimits limits) : limits_(limits) {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_;
  ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
  workers_ = std::make_unique<httplib::ThreadPool>(std::max<size_t>(1, limits_.workers));
  // httplib's own pool only hands accepted sockets over: one thread is plenty.
  new_task_queue = [] { return new httplib::ThreadPool(1); };
  set_keep_alive_max_count(limits_.max_requests_per_connection);
  set_keep_alive_timeout(std::max<time_t>(1, limits_.keepalive_timeout.count() / 1000));
  waiter_ = std::thread([this] { WaitLoop(); });
}

HttpServer::~HttpServer() {
  Shutdown();
  ::close(epoll_);
  ::close(wake_);
}

void HttpServer::Shutdown() {
  if (shut_down_.exchange(true)) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  uint64_t one = 1;
  (void)!::write(wake_, &one, sizeof(one));
  if (waiter_.joinable()) waiter_.join();
  workers_->shutdown();  // in-flight and queued requests are answered first
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  auto conn = std::make_unique<Conn>();
  conn->fd = sock;
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    AddressOf(addr, conn->peer_ip, conn->peer_port);
  }
  len = sizeof(addr);
  if (::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    AddressOf(addr, conn->local_ip, conn->local_port);
  }
  int yes = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK);
  conn->idle_since = Clock::now();
  ++open_;
  Park(std::move(conn));
  return true;
}

void HttpServer::Park(std::unique_ptr<Conn> conn) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      incoming_.push_back(std::move(conn));
    }
  }
  if (conn) {  // shutting down
    ::close(conn->fd);
    --open_;
    return;
  }
  uint64_t one = 1;
  (void)!::write(wake_, &one, sizeof(one));
}

void HttpServer::Close(std::unique_ptr<Conn> conn, bool linger) {
  if (linger && !stopping_) {
    // Closing with unread bytes would reset the connection and could destroy the answer
    // before the client reads it: stop sending, then drop what still comes for a while.
    ::shutdown(conn->fd, SHUT_WR);
    conn->lingering = true;
    conn->linger_until = Clock::now() + kLinger;
    conn->buf.clear();
    conn->pos = 0;
    Park(std::move(conn));
    return;
  }
  ::close(conn->fd);
  --open_;
}

void HttpServer::Refuse(Conn& conn, const Refusal& refusal) {
  httplib::Response res;
  res.status = refusal.status;
  if (refusal_) {
    refusal_(refusal, res);
  } else {
    res.set_content(refusal.message, "text/plain");
  }
  std::string out =
      "HTTP/1.1 " + std::to_string(res.status) + " " + StatusText(res.status) + "\r\n";
  for (const auto& [k, v] : res.headers) {
    if (k == "Content-Length" || k == "Connection" || k == "Keep-Alive") continue;
    out += k + ": " + v + "\r\n";
  }
  out += "Content-Length: " + std::to_string(res.body.size()) + "\r\nConnection: close\r\n\r\n";
  out += res.body;
  SendNow(conn.fd, out);
}

void HttpServer::HandOver(std::unique_ptr<Conn> conn, bool answered, std::string& written,
                          std::string first_bytes, StreamAdopter adopt) {
  Conn& c = *conn;
  const size_t head_end = written.find("\r\n\r\n");
  const bool stream = answered && head_end != std::string::npos &&
                      written.rfind("HTTP/1.1 200 ", 0) == 0 && c.pos >= c.buf.size() && !stopping_;
  if (!stream) {
    // Not a stream after all. An answer that is not 200 is a whole answer (an error saying
    // why): it is sent as written. Otherwise the client reconnects.
    if (answered && head_end != std::string::npos && written.rfind("HTTP/1.1 200 ", 0) != 0) {
      SendNow(c.fd, written);
    }
    return Close(std::move(conn), true);
  }
  std::string out;
  out.reserve(head_end + 32 + first_bytes.size());
  size_t at = written.find("\r\n") + 2;
  out.append(written, 0, at);  // the status line
  while (at < head_end + 2) {
    const size_t end = written.find("\r\n", at);
    const std::string_view line(written.data() + at, end - at);
    at = end + 2;
    const std::string name = AsciiLower(line.substr(0, line.find(':')));
    if (name == "content-length" || name == "connection" || name == "keep-alive" ||
        name == "transfer-encoding") {
      continue;
    }
    out.append(line);
    out.append("\r\n");
  }
  out.append("Connection: close\r\n\r\n");
  out.append(first_bytes);
  const int fd = c.fd;
  conn.reset();
  --open_;
  adopt(fd, std::move(out));
}

void HttpServer::Dispatch(std::unique_ptr<Conn> conn) {
  Conn* raw = conn.release();
  workers_->enqueue([this, raw] { Serve(std::unique_ptr<Conn>(raw)); });
}

void HttpServer::WaitLoop() {
  std::vector<epoll_event> events(256);
  auto last_sweep = Clock::now();
  for (;;) {
    const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
    if (stopping_) break;
    const auto now = Clock::now();
    for (int i = 0; i < std::max(n, 0); ++i) {
      const int fd = events[static_cast<size_t>(i)].data.fd;
      if (fd == wake_) {
        uint64_t count = 0;
        (void)!::read(wake_, &count, sizeof(count));
        std::vector<std::unique_ptr<Conn>> arrived;
        {
          std::lock_guard lock(mu_);
          arrived.swap(incoming_);
        }
        for (auto& c : arrived) {
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP;
          ev.data.fd = c->fd;
          if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            ::close(c->fd);
            --open_;
            continue;
          }
          const int cfd = c->fd;
          parked_[cfd] = std::move(c);
        }
        continue;
      }
      auto it = parked_.find(fd);
      if (it == parked_.end()) continue;
      Conn& c = *it->second;
      bool gone = false;
      bool complete = false;
      for (;;) {
        char tmp[kReadChunk];
        size_t room = sizeof(tmp);
        if (!c.lingering) room = std::min(room, limits_.max_header_bytes + 4 - c.buf.size());
        if (room == 0) break;
        const ssize_t got = ::recv(fd, tmp, room, 0);
        if (got > 0) {
          if (c.lingering) {
            c.discarded += static_cast<size_t>(got);
            if (c.discarded > kLingerMaxBytes) gone = true;
            if (gone) break;
            continue;
          }
          if (c.buf.empty()) c.first_byte = now;
          c.last_byte = now;
          const size_t from = c.buf.size() < 3 ? 0 : c.buf.size() - 3;
          c.buf.append(tmp, static_cast<size_t>(got));
          if (c.buf.find("\r\n\r\n", from) != std::string::npos) {
            complete = true;
            break;
          }
          continue;
        }
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        gone = true;  // EOF or error
        break;
      }
      if (gone && !complete) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        --open_;
        parked_.erase(it);
        continue;
      }
      const auto head_end = c.buf.find("\r\n\r\n");
      if (complete && head_end + 4 <= limits_.max_header_bytes + 4) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        auto conn = std::move(it->second);
        parked_.erase(it);
        Dispatch(std::move(conn));
        continue;
      }
      if (!c.lingering && c.buf.size() > limits_.max_header_bytes) {
        Refusal r = LooseFacts(c.buf);
        r.status = 431;
        r.message = "the request head is larger than " + std::to_string(limits_.max_header_bytes) +
                    " bytes";
        r.peer = c.peer_ip;
        Refuse(c, r);
        ::shutdown(fd, SHUT_WR);
        c.lingering = true;
        c.linger_until = now + kLinger;
        c.buf.clear();
      }
    }
    if (now - last_sweep < milliseconds(50)) continue;
    last_sweep = now;
    for (auto it = parked_.begin(); it != parked_.end();) {
      Conn& c = *it->second;
      bool close = false;
      if (c.lingering) {
        close = now >= c.linger_until;
      } else if (c.buf.empty()) {
        close = now - c.idle_since >= limits_.keepalive_timeout;
      } else if (now - c.first_byte >= limits_.request_timeout ||
                 now - c.last_byte >= limits_.read_timeout) {
        Refusal r = LooseFacts(c.buf);
        r.status = 408;
        r.message = "the request head did not arrive in time";
        r.peer = c.peer_ip;
        Refuse(c, r);
        close = true;
      }
      if (close) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        --open_;
        it = parked_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& [fd, c] : parked_) {
    ::close(fd);
    --open_;
  }
  parked_.clear();
  std::lock_guard lock(mu_);
  for (auto& c : incoming_) {
    ::close(c->fd);
    --open_;
  }
  incoming_.clear();
}

void HttpServer::Serve(std::unique_ptr<Conn> conn) {
  bool first = true;
  for (;;) {
    Conn& c = *conn;
    const auto now = Clock::now();
    const size_t head_end = c.buf.find("\r\n\r\n") + 4;
    HeadCheck check = CheckRequestHead(std::string_view(c.buf).substr(0, head_end));
    if (check.status != 0) {
      Refusal r = LooseFacts(std::string_view(c.buf).substr(0, head_end));
      r.status = check.status;
      r.message = check.message;
      r.peer = c.peer_ip;
      Refuse(c, r);
      return Close(std::move(conn), true);
    }
    c.buf.replace(0, head_end, check.head);
    c.pos = 0;
    Current cur;
    cur.conn = &c;
    cur.deadline = (first ? c.first_byte : now) + limits_.request_timeout;
    cur.read_timeout = limits_.read_timeout;
    cur.body_done = !check.has_body();
    cur.framing = std::move(check);
    ConnStream strm(cur, cur.framing.head.size(), limits_.write_timeout);
    const bool last = stopping_ || ++c.served >= limits_.max_requests_per_connection;
    if (last) cur.close_after = true;
    bool closed = false;
    t_current = &cur;
    const bool ok = process_request(strm, last, closed, nullptr);
    t_current = nullptr;
    if (cur.takeover) {
      return HandOver(std::move(conn), ok && !cur.broken, cur.written, std::move(cur.first_bytes),
                      std::move(cur.adopt));
    }
    if (!ok || closed || cur.close_after || !cur.body_done || cur.broken) {
      return Close(std::move(conn), !cur.broken);
    }
    c.buf.erase(0, c.pos);
    c.pos = 0;
    first = false;
    if (c.buf.find("\r\n\r\n") != std::string::npos && stopping_ == false) continue;
    if (c.buf.size() > limits_.max_header_bytes) return Close(std::move(conn), true);
    c.idle_since = Clock::now();
    c.first_byte = c.idle_since;
    c.last_byte = c.idle_since;
    return Park(std::move(conn));
  }
}

}  // namespace sima::server
