// The server on the open internet: request smuggling shapes, oversize and slow requests,
// compressed and non-JSON bodies, Range, pipelining, and what a client sees when storage
// fails. Everything over raw sockets, as an attacker would send it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "server_fixture.h"
#include "sima/text.h"
#include "sqlite.h"

namespace sima::server::testing {
namespace {

using std::chrono::milliseconds;

struct Answer {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  Json json() const { return Json::parse(body, nullptr, false); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One client connection, byte for byte.
class Raw {
 public:
  explicit Raw(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Raw() { ::close(fd_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  bool connected() const { return connected_; }
  bool Send(std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads until `n` complete answers are in, the server closes, or `wait` passes.
  std::vector<Answer> Read(size_t n, milliseconds wait = milliseconds(5000)) {
    std::vector<Answer> out;
    const auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
      while (out.size() < n) {
        auto a = Take();
        if (!a) break;
        out.push_back(std::move(*a));
      }
      if (out.size() >= n || closed_) return out;
      const auto left = until - std::chrono::steady_clock::now();
      if (left <= milliseconds(0)) return out;
      if (!Fill(std::chrono::duration_cast<milliseconds>(left))) return out;
    }
  }
  Answer ReadOne(milliseconds wait = milliseconds(5000)) {
    auto all = Read(1, wait);
    return all.empty() ? Answer{} : all[0];
  }
  // True when the server closed the connection within `wait`.
  bool ClosedWithin(milliseconds wait) {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (!closed_) {
      const auto left = until - std::chrono::steady_clock::now();
      if (left <= milliseconds(0)) return false;
      if (!Fill(std::chrono::duration_cast<milliseconds>(left)) && !closed_) return false;
    }
    return true;
  }

 private:
  bool Fill(milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
    char buf[65536];
    const ssize_t got = ::recv(fd_, buf, sizeof(buf), 0);
    if (got <= 0) {
      closed_ = true;
      return false;
    }
    in_.append(buf, static_cast<size_t>(got));
    return true;
  }
  std::optional<Answer> Take() {
    const auto end = in_.find("\r\n\r\n");
    if (end == std::string::npos) return std::nullopt;
    Answer a;
    std::istringstream head(in_.substr(0, end));
    std::string line;
    std::getline(head, line);
    if (line.size() < 12) return std::nullopt;
    a.status = std::stoi(line.substr(9, 3));
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      a.headers[AsciiLower(line.substr(0, colon))] = line.substr(colon + 2);
    }
    const size_t len =
        std::stoul(a.header("content-length").empty() ? "0" : a.header("content-length"));
    if (in_.size() < end + 4 + len) return std::nullopt;
    a.body = in_.substr(end + 4, len);
    in_.erase(0, end + 4 + len);
    return a;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string in_;
};

class ServerHardening : public ServerTest {
 protected:
  // The access log once it has `n` lines (a line is written just after its answer is sent).
  std::vector<std::string> LogOf(size_t n) {
    for (int i = 0; i < 100 && LogLines().size() < n; ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    return LogLines();
  }
  int64_t Invoices() {
    auto db = sqlite::Db::Open(config_.db, true);
    EXPECT_TRUE(db.ok());
    return *(*db)->QueryInt("SELECT COUNT(*) FROM invoices");
  }
  std::string Auth(const std::string& key) { return "Authorization: Bearer " + key + "\r\n"; }
  // A complete, valid POST /invoices/ as bytes.
  std::string InvoicePost(const std::string& key, const std::string& extra = "") {
    const std::string body = R"({"amount_paisa":100})";
    return "POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + Auth(key) + extra +
           "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  }
  // Sends `bytes` on a new connection: the first answer must be `status` with a JSON error
  // and the connection must close.
  void ExpectRefusedAndClosed(const std::string& bytes, int status, const std::string& code) {
    Raw c(port_);
    ASSERT_TRUE(c.connected());
    c.Send(bytes);
    Answer a = c.ReadOne();
    EXPECT_EQ(a.status, status) << a.body;
    EXPECT_EQ(a.json().value("code", ""), code) << a.body;
    EXPECT_EQ(a.header("connection"), "close");
    EXPECT_TRUE(c.ClosedWithin(milliseconds(3000)));
  }
};

TEST_F(ServerHardening, FramingAmbiguitiesAre400AndCloseTheConnection) {
  const std::string key = NewKey();
  const std::string body = R"({"amount_paisa":100})";
  const std::string head =
      "POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + Auth(key) + "Content-Type: application/json\r\n";
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {"CL+TE", head + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"TE+CL", head + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"},
      {"two equal CLs", head + "Content-Length: 20\r\nContent-Length: 20\r\n\r\n" + body},
      {"two CLs", head + "Content-Length: 20\r\nContent-Length: 0\r\n\r\n" + body},
      {"CL list", head + "Content-Length: 20, 20\r\n\r\n" + body},
      {"CL sign", head + "Content-Length: +20\r\n\r\n" + body},
      {"TE gzip", head + "Transfer-Encoding: gzip\r\n\r\n" + body},
      {"TE gzip, chunked", head + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
      {"TE xchunked", head + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"},
      {"two TEs",
       head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"space before colon", head + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"},
      {"obs-fold", head + "Content-Length: 20\r\nX-A: 1\r\n  folded\r\n\r\n" + body},
      {"bare LF",
       "POST /invoices/ HTTP/1.1\nHost: x\r\n" + Auth(key) + "Content-Length: 20\r\n\r\n" + body},
      {"bare CR", head + "Content-Length: 20\rX: y\r\n\r\n" + body},
      {"chunked on HTTP/1.0", "POST /invoices/ HTTP/1.0\r\n" + Auth(key) +
                                  "Content-Type: application/json\r\nTransfer-Encoding: "
                                  "chunked\r\n\r\n0\r\n\r\n"},
      {"GET with a body (CL.0)",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"},
      {"GET chunked",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"two Hosts", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
      {"HTTP/2 line", "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n"},
      {"absolute target", "GET http://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
  };
  for (const auto& [name, bytes] : shapes) {
    SCOPED_TRACE(name);
    ExpectRefusedAndClosed(bytes, 400, "bad_request");
  }
  EXPECT_EQ(Invoices(), 0);
}

TEST_F(ServerHardening, SmuggledRequestsNeverCreateAnInvoice) {
  const std::string key = NewKey();
  const std::string smuggled = InvoicePost(key);
  const std::string head =
      "POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + Auth(key) + "Content-Type: application/json\r\n";
  const std::vector<std::string> attacks = {
      // CL.TE: a front end using Content-Length passes the whole thing as one request.
      head + "Content-Length: " + std::to_string(5 + smuggled.size()) +
          "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
      // TE.CL.
      head + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n" +
          [&] {
            std::ostringstream hex;
            hex << std::hex << smuggled.size();
            return hex.str();
          }() +
          "\r\n" + smuggled + "\r\n0\r\n\r\n",
      // CL.0: a body on a GET, which this server would otherwise never read.
      "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(smuggled.size()) +
          "\r\n\r\n" + smuggled,
      // Two Content-Lengths.
      head + "Content-Length: 0\r\nContent-Length: " + std::to_string(smuggled.size()) +
          "\r\n\r\n" + smuggled,
      // A body refused before it was read (wrong type): its bytes are not a next request.
      "POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + Auth(key) +
          "Content-Type: text/plain\r\nContent-Length: " + std::to_string(smuggled.size()) +
          "\r\n\r\n" + smuggled,
      // Unauthenticated with a body.
      "POST /invoices/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
          std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled,
      // A malformed chunked body whose tail is a request.
      head + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX" + smuggled,
  };
  for (size_t i = 0; i < attacks.size(); ++i) {
    SCOPED_TRACE(i);
    Raw c(port_);
    c.Send(attacks[i]);
    std::vector<Answer> answers = c.Read(2, milliseconds(1500));
    ASSERT_GE(answers.size(), 1u);
    EXPECT_EQ(answers.size(), 1u);  // never a second answer: nothing was parsed from the body
    EXPECT_GE(answers[0].status, 400);
    EXPECT_TRUE(c.ClosedWithin(milliseconds(3000)));
  }
  EXPECT_EQ(Invoices(), 0);
}

TEST_F(ServerHardening, DeclaredOversizeBodyIs413BeforeAnyBodyByteIsSent) {
  const std::string key = NewKey();
  Raw c(port_);
  c.Send("POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + Auth(key) +
         "Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n");
  // No body byte was sent: the answer can only come from the head.
  Answer a = c.ReadOne(milliseconds(3000));
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(a.json()["code"], "payload_too_large");
  EXPECT_EQ(a.header("connection"), "close");
  EXPECT_TRUE(c.ClosedWithin(milliseconds(4000)));
}

TEST_F(ServerHardening, ExpectContinueGetsTheRefusalInsteadOfContinue) {
  Raw c(port_);
  c.Send(
      "POST /invoices/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Expect: 100-continue\r\nContent-Length: 20\r\n\r\n");
  Answer a = c.ReadOne(milliseconds(3000));
  EXPECT_EQ(a.status, 401);
  EXPECT_TRUE(c.ClosedWithin(milliseconds(4000)));
}

TEST_F(ServerHardening, ChunkedBodyIsCutAtTheLimit) {
  const std::string key = NewKey();
  Raw c(port_);
  c.Send("POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + Auth(key) +
         "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "2000\r\n" + std::string(0x2000, ' ') + "\r\n";
  // 2 MiB of chunks against a 64 KiB limit: the server answers and stops reading.
  for (int i = 0; i < 256; ++i) {
    if (!c.Send(chunk)) break;
  }
  Answer a = c.ReadOne();
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(a.json()["code"], "payload_too_large");
  EXPECT_TRUE(c.ClosedWithin(milliseconds(4000)));
  EXPECT_EQ(Invoices(), 0);
}

TEST_F(ServerHardening, ChunkedBodyWithinTheLimitIsServed) {
  const std::string key = NewKey();
  Raw c(port_);
  c.Send("POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + Auth(key) +
         "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
         "a\r\n{\"amount_p\r\na;ext=1\r\naisa\":100}\r\n0\r\nX-Trailer: y\r\n\r\n");
  Answer a = c.ReadOne();
  EXPECT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Invoices(), 1);
}

TEST_F(ServerHardening, CompressedAndNonJsonBodiesAre415) {
  const std::string key = NewKey();
  const std::string body = R"({"amount_paisa":100})";
  for (const std::string& extra :
       {std::string("Content-Type: application/json\r\nContent-Encoding: gzip\r\n"),
        std::string("Content-Type: application/json\r\nContent-Encoding: deflate\r\n"),
        std::string("Content-Type: application/json\r\nContent-Encoding: br\r\n"),
        std::string("Content-Type: multipart/form-data; boundary=x\r\n"),
        std::string("Content-Type: text/plain\r\n"),
        std::string("Content-Type: application/x-www-form-urlencoded\r\n"),
        std::string("Content-Type: application/json\r\nContent-Type: application/json\r\n")}) {
    SCOPED_TRACE(extra);
    ExpectRefusedAndClosed("POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + Auth(key) + extra +
                               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
                           415, "unsupported_media_type");
  }
  EXPECT_EQ(Invoices(), 0);
}

TEST_F(ServerHardening, RangeIsIgnored) {
  const std::string whole = Get("/billing/plans/").raw;
  std::string ranges = "bytes=0-";
  for (int i = 0; i < 2000; ++i) ranges += ",0-";
  Raw c(port_);
  c.Send("GET /billing/plans/ HTTP/1.1\r\nHost: x\r\nRange: " + ranges + "\r\n\r\n");
  Answer a = c.ReadOne();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.header("content-range"), "");
  EXPECT_EQ(a.json(), CatalogToJson(Catalog::Default()));
}

TEST_F(ServerHardening, HeadOverTheLimitIs431) {
  Raw c(port_);
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100000, 'a') + "\r\n\r\n");
  Answer a = c.ReadOne();
  EXPECT_EQ(a.status, 431);
  EXPECT_EQ(a.json()["code"], "header_too_large");
  EXPECT_TRUE(c.ClosedWithin(milliseconds(4000)));
}

TEST_F(ServerHardening, PipelinedRequestsAreAllAnsweredInOrder) {
  const std::string key = NewKey();
  Raw c(port_);
  c.Send(InvoicePost(key) + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + InvoicePost(key) +
         InvoicePost(key));
  std::vector<Answer> answers = c.Read(4);
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers[0].status, 201);
  EXPECT_EQ(answers[1].status, 200);
  EXPECT_EQ(answers[1].json()["status"], "ok");
  EXPECT_EQ(answers[2].status, 201);
  EXPECT_EQ(answers[3].status, 201);
  EXPECT_EQ(Invoices(), 3);
}

class ServerDeadlines : public ServerHardening {
 protected:
  void SetUp() override {
    config_.threads = 2;
    config_.read_timeout_ms = 400;
    config_.request_timeout_ms = 1000;
    config_.keepalive_timeout_ms = 600;
    StartServer();
  }
};

TEST_F(ServerDeadlines, SlowHeadIs408AtTheRequestDeadline) {
  Raw c(port_);
  c.Send("GET /healthz HTTP/1.1\r\n");
  // A byte every 200 ms keeps within the read timeout but not the request deadline.
  Answer a;
  for (int i = 0; i < 20 && a.status == 0; ++i) {
    c.Send("X");
    auto got = c.Read(1, milliseconds(200));
    if (!got.empty()) a = got[0];
  }
  EXPECT_EQ(a.status, 408);
  EXPECT_EQ(a.json()["code"], "request_timeout");
  EXPECT_TRUE(c.ClosedWithin(milliseconds(2000)));
}

TEST_F(ServerDeadlines, SilentHalfHeadIs408AndIdleConnectionsClose) {
  Raw half(port_);
  half.Send("GET /healthz HTTP/1.1\r\nHo");
  Raw idle(port_);
  EXPECT_EQ(half.ReadOne(milliseconds(3000)).status, 408);
  EXPECT_TRUE(idle.ClosedWithin(milliseconds(3000)));
}

TEST_F(ServerDeadlines, ABodyThatStopsArrivingIs408) {
  const std::string key = NewKey();
  Raw c(port_);
  c.Send("POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + Auth(key) +
         "Content-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"amou");
  Answer a = c.ReadOne(milliseconds(3000));
  EXPECT_EQ(a.status, 408);
  EXPECT_EQ(a.json()["code"], "request_timeout");
  EXPECT_TRUE(c.ClosedWithin(milliseconds(3000)));
  EXPECT_EQ(Invoices(), 0);
}

class ServerTwoWorkers : public ServerHardening {
 protected:
  void SetUp() override {
    config_.threads = 2;
    config_.read_timeout_ms = 30000;
    config_.request_timeout_ms = 30000;
    config_.keepalive_timeout_ms = 30000;
    StartServer();
  }
};

TEST_F(ServerTwoWorkers, IdleAndSlowConnectionsDoNotHoldTheWorkers) {
  // Two workers, fifty connections that send nothing or half a head: an honest request is
  // still answered (httplib alone gave each of them a worker until its timeout).
  std::vector<std::unique_ptr<Raw>> idle;
  for (int i = 0; i < 50; ++i) {
    idle.push_back(std::make_unique<Raw>(port_));
    if (i % 2 == 0) idle.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  }
  Raw c(port_);
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  Answer a = c.ReadOne(milliseconds(5000));  // long before any of them times out (30 s)
  EXPECT_EQ(a.status, 200);
}

TEST_F(ServerHardening, HealthzIs503WhenTheDatabaseFileIsGone) {
  EXPECT_EQ(Get("/healthz").status, 200);
  std::filesystem::rename(config_.db, config_.db + ".moved");
  Response r = Get("/healthz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.code(), "unavailable");
  EXPECT_EQ(r.body["status"], "unavailable");
  std::filesystem::rename(config_.db + ".moved", config_.db);
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(ServerHardening, HealthzIs503WhenTheDatabaseFileIsReadOnly) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes read-only files";
  std::filesystem::permissions(config_.db, std::filesystem::perms::owner_read);
  Response r = Get("/healthz");
  std::filesystem::permissions(
      config_.db, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.code(), "unavailable");
}

TEST_F(ServerHardening, AnInternalErrorShowsARequestIdAndNoInternals) {
  const std::string key = NewKey();
  {
    auto db = sqlite::Db::Open(config_.db);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("DROP TABLE invoices").ok());
  }
  Response r = Post("/invoices/", key, {{"amount_paisa", 100}});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body["error"], "internal error");
  EXPECT_EQ(r.body["code"], "internal_error");
  const std::string id = r.body.value("request_id", "");
  EXPECT_TRUE(id.rfind("req_", 0) == 0) << r.raw;
  EXPECT_EQ(r.headers.find("X-Request-Id")->second, id);
  EXPECT_EQ(r.raw.find("invoices"), std::string::npos) << r.raw;
  EXPECT_EQ(r.raw.find("sqlite"), std::string::npos) << r.raw;
  // The log line with that id says what happened.
  bool found = false;
  for (const std::string& line : LogOf(2)) {
    Json j = Json::parse(line, nullptr, false);
    if (j.value("request_id", "") == id) {
      found = true;
      EXPECT_NE(j.value("error_detail", "").find("invoices"), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(found);
}

TEST(StorageFull, AFullDatabaseIsUnavailableNotInternal) {
  TempDir dir;
  auto db = sqlite::Db::Open(dir.path() + "/full.db");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (x BLOB)").ok());
  ASSERT_TRUE((*db)->Exec("PRAGMA max_page_count = 8").ok());  // the disk, as SQLite sees it
  ExpectedDone last = Done{};
  for (int i = 0; i < 100 && last.ok(); ++i) {
    last = (*db)->Exec("INSERT INTO t VALUES (zeroblob(4000))");
  }
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(HttpStatus(last.error().kind), 503);
  EXPECT_EQ(last.error().message, "storage is full");
}

class ServerCors : public ServerHardening {
 protected:
  void SetUp() override {
    config_.cors_origins = "https://app.example";
    StartServer();
  }
};

TEST_F(ServerCors, EveryAnswerCarriesCorsAndARequestId) {
  const std::string origin = "Origin: https://app.example\r\n";
  const std::vector<std::string> requests = {
      "GET /healthz HTTP/1.1\r\nHost: x\r\n" + origin + "\r\n",                        // ours, 200
      "GET /nope HTTP/1.1\r\nHost: x\r\n" + origin + "\r\n",                           // ours, 404
      "GET /invoices/ HTTP/1.1\r\nHost: x\r\n" + origin + "\r\n",                      // 401
      "GET /healthz HTTP/1.1\r\nHost: x\r\n" + origin + "Content-Length: 1\r\n\r\nx",  // 400
      "GET /%zz HTTP/1.1\r\nHost: x\r\n" + origin + "\r\n",  // httplib's own
      "GET /healthz HTTP/1.1\r\nHost: x\r\n" + origin + "X: " + std::string(20000, 'a') +
          "\r\n\r\n",  // 431
      "OPTIONS /invoices/ HTTP/1.1\r\nHost: x\r\n" + origin +
          "Access-Control-Request-Method: POST\r\n\r\n",  // preflight
  };
  for (const std::string& bytes : requests) {
    SCOPED_TRACE(bytes.substr(0, 40));
    Raw c(port_);
    c.Send(bytes);
    Answer a = c.ReadOne();
    EXPECT_NE(a.status, 0);
    EXPECT_EQ(a.header("access-control-allow-origin"), "https://app.example");
    EXPECT_EQ(a.header("access-control-expose-headers"), "Retry-After, X-Request-Id");
    EXPECT_EQ(a.header("x-request-id").rfind("req_", 0), 0u);
  }
  Raw other(port_);
  other.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n");
  EXPECT_EQ(other.ReadOne().header("access-control-allow-origin"), "");
}

class ServerProxied : public ServerHardening {
 protected:
  void SetUp() override {
    config_.trusted_proxies = "127.0.0.1";
    StartServer();
  }
};

TEST_F(ServerProxied, TheLogNamesTheClientATrustedProxyReports) {
  Send("GET", "/healthz", "", "", "", {{"X-Real-IP", "203.0.113.7"}});
  Send("GET", "/healthz", "", "", "",
       {{"X-Forwarded-For", "198.51.100.1, 203.0.113.9, 127.0.0.1"}});
  Send("GET", "/healthz", "", "");
  std::vector<std::string> remotes;
  for (const std::string& line : LogOf(3)) {
    remotes.push_back(Json::parse(line, nullptr, false).value("remote", ""));
  }
  // Answers are logged just after they are sent, so the order may vary.
  std::sort(remotes.begin(), remotes.end());
  EXPECT_EQ(remotes, (std::vector<std::string>{"127.0.0.1", "203.0.113.7", "203.0.113.9"}));
}

TEST_F(ServerProxied, TheRequestIdATrustedProxySentIsKept) {
  const auto id = [&](const std::string& given) {
    const auto r = Send("GET", "/healthz", "", "", "", {{"X-Request-Id", given}});
    const auto it = r.headers.find("X-Request-Id");
    return it == r.headers.end() ? std::string() : it->second;
  };
  EXPECT_EQ(id("0f9c2d4e8a1b3c5d7e9f"), "0f9c2d4e8a1b3c5d7e9f");
  EXPECT_EQ(id("bad id\"").rfind("req_", 0), 0u);            // not [A-Za-z0-9_-]: a new one
  EXPECT_EQ(id(std::string(65, 'a')).rfind("req_", 0), 0u);  // too long: a new one
}

TEST_F(ServerHardening, AnUntrustedPeerCannotChooseTheRequestId) {
  const auto r = Send("GET", "/healthz", "", "", "", {{"X-Request-Id", "chosen-by-client"}});
  ASSERT_NE(r.headers.find("X-Request-Id"), r.headers.end());
  EXPECT_EQ(r.headers.find("X-Request-Id")->second.rfind("req_", 0), 0u);
}

TEST_F(ServerHardening, AnUntrustedPeerCannotNameItsOwnAddress) {
  NewKey();
  Send("GET", "/healthz", "", "", "", {{"X-Real-IP", "203.0.113.7"}});
  const auto lines = LogOf(2);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(Json::parse(lines.back(), nullptr, false).value("remote", ""), "127.0.0.1");
}

}  // namespace
}  // namespace sima::server::testing
