// The connection layer under httplib: who reads from the network, when, and how much.
//
// httplib 0.11 gives each connection a pool thread for its whole life, reads header lines
// without a bound, drops pipelined requests and parses an unread body as the next request.
// HttpServer keeps httplib's request parsing and response writing but owns the sockets:
//
// - One waiter thread (epoll) holds every connection that is between requests or still
//   sending its request head. A head must be complete within SIMA_MAX_HEADER_BYTES, with no
//   more than SIMA_READ_TIMEOUT_MS between bytes and SIMA_REQUEST_TIMEOUT_MS in all, else the
//   answer is 431 or 408 and the connection closes. Idle connections close after
//   SIMA_KEEPALIVE_TIMEOUT_MS. None of this holds a worker thread.
// - A complete head goes to a worker (SIMA_THREADS of them). The head is checked first
//   (CheckRequestHead): every framing ambiguity is 400 and the connection closes. `Range` is
//   removed, so answers are always whole.
// - The request's body is read only by ReadRequestBody, called by the HTTP layer after it has
//   decided route, credential, content type and declared size. A request whose body was not
//   read to its end closes the connection: unread bytes are never parsed as a request.
// - Pipelined requests are answered in order, each after the previous answer.
// - A GET can turn its connection into a stream (TakeOverConnection): after the answer's head
//   the socket leaves this layer for an adopter (the StreamHub of stream_hub.h) that holds it
//   without a thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace sima::server {

struct ConnectionLimits {
  size_t workers = 64;                           // SIMA_THREADS: requests answered at once
  size_t max_header_bytes = 16384;               // SIMA_MAX_HEADER_BYTES: request line + headers
  std::chrono::milliseconds read_timeout{5000};  // SIMA_READ_TIMEOUT_MS
  std::chrono::milliseconds keepalive_timeout{5000};  // SIMA_KEEPALIVE_TIMEOUT_MS
  std::chrono::milliseconds request_timeout{15000};   // SIMA_REQUEST_TIMEOUT_MS
  std::chrono::milliseconds write_timeout{10000};
  size_t max_requests_per_connection = 1000;
};

// The verdict on one request head (request line + headers + the blank line).
struct HeadCheck {
  int status = 0;        // 0: acceptable; else the status to refuse with (400, 405)
  std::string message;   // why, for the client
  std::string head;      // the head to parse (Range lines removed)
  bool chunked = false;  // Transfer-Encoding: chunked
  uint64_t content_length = 0;
  bool has_body() const { return chunked || content_length > 0; }
};

// Strict HTTP/1.x framing: CRLF line ends only, no obs-fold, header names are tokens, one
// Content-Length of digits, Transfer-Encoding only "chunked" and never with Content-Length,
// no body on GET/HEAD/OPTIONS, methods this server serves, HTTP/1.0 or 1.1.
HeadCheck CheckRequestHead(std::string_view head);

// An answer the connection layer gives on its own (a bad head, 431, 408), before httplib
// parsed anything. The HTTP layer renders it (JSON error, CORS, request id) and logs it.
struct Refusal {
  int status = 400;
  std::string message;
  std::string method;  // may be empty when the head was unreadable
  std::string target;
  std::string origin;         // the Origin header, when the head could be read
  std::string peer;           // the peer's address
  std::string forwarded_for;  // X-Real-IP / X-Forwarded-For as sent
};
using RefusalRenderer = std::function<void(const Refusal&, httplib::Response&)>;

enum class BodyRead { kOk, kTooLarge, kMalformed, kTimedOut };

// Reads the current request's body as its head framed it (Content-Length or chunked) into
// `out`, refusing once it passes `limit` bytes. Only on a worker thread inside a request;
// elsewhere it reads nothing and says kMalformed.
BodyRead ReadRequestBody(size_t limit, std::string& out);
// The connection closes after the current answer (the answer says Connection: close).
void CloseConnectionAfterAnswer();
bool ClosingAfterAnswer();
// The current request's framing; nullptr outside a request served by HttpServer.
const HeadCheck* CurrentFraming();

// Takes a stream's socket (non-blocking) and the bytes to send on it first: the answer's head,
// then the stream's first bytes. Owns the socket from then on (closes it).
using StreamAdopter = std::function<void(int fd, std::string first_bytes)>;
// On a worker inside a GET without a body: after this request the connection is a stream.
// httplib's answer is not sent as it wrote it: its status line and headers are kept (CORS,
// request id, the handler's headers), Content-Length and Connection are replaced by
// "Connection: close" (the body runs until the socket closes), its body is dropped, and
// `first_bytes` follow the head. Then `adopt` gets the socket. False, and nothing changes,
// when the request cannot become a stream: not a GET served here, or bytes already sent after
// its head (a pipelined request). If it cannot become one once answered (bytes after the head
// arrived meanwhile, the answer is not 200, the server is stopping) the connection closes and
// `adopt` is destroyed without being called (anything it holds is released).
bool TakeOverConnection(std::string first_bytes, StreamAdopter adopt);

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(ConnectionLimits limits);
  ~HttpServer() override;
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void set_refusal_renderer(RefusalRenderer renderer) { refusal_ = std::move(renderer); }
  // After stop(): closes idle connections and lets in-flight requests finish (each answer
  // then says Connection: close). Waits for the workers. Idempotent. Streams handed over
  // (TakeOverConnection) belong to their adopter, which closes them (App::Stop stops the hub).
  void Shutdown();
  // Connections open right now (parked and being served). A connection handed over as a
  // stream (TakeOverConnection) is no longer counted: its adopter counts streams.
  size_t open_connections() const { return open_.load(); }

  struct Conn;

 private:
  bool process_and_close_socket(socket_t sock) override;
  void WaitLoop();
  void Serve(std::unique_ptr<Conn> conn);
  void Park(std::unique_ptr<Conn> conn);
  void Refuse(Conn& conn, const Refusal& refusal);
  void Close(std::unique_ptr<Conn> conn, bool linger);
  void Dispatch(std::unique_ptr<Conn> conn);
  void HandOver(std::unique_ptr<Conn> conn, bool answered, std::string& written,
                std::string first_bytes, StreamAdopter adopt);

  ConnectionLimits limits_;
  RefusalRenderer refusal_;
  int epoll_ = -1;
  int wake_ = -1;  // eventfd
  std::atomic<bool> stopping_{false};
  std::atomic<bool> shut_down_{false};
  std::atomic<size_t> open_{0};
  std::mutex mu_;  // guards incoming_
  std::vector<std::unique_ptr<Conn>> incoming_;
  std::unordered_map<int, std::unique_ptr<Conn>> parked_;  // waiter thread only
  std::unique_ptr<httplib::ThreadPool> workers_;
  std::thread waiter_;
};

}  // namespace sima::server
