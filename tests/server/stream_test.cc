// GET /events/{org_id}/ and /auth/ over real sockets: the embedded streams of live usage
// (docs/api.md#live-usage-events), held by the StreamHub without a thread each.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "events.h"
#include "server_fixture.h"
#include "stream_hub.h"

namespace sima::server::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// One SSE event as read.
struct Event {
  std::string id;
  std::string type;
  Json data;
};

// A client on a raw socket: sends one request head and reads the answer as it comes.
class StreamClient {
 public:
  StreamClient(int port, const std::string& path, const std::string& token,
               const std::string& extra_headers = "", int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      Close();
      return;
    }
    std::string head = "GET " + path + " HTTP/1.1\r\nHost: sima.test\r\n";
    if (!token.empty()) head += "Authorization: Bearer " + token + "\r\n";
    head += extra_headers + "\r\n";
    Send(head);
  }
  ~StreamClient() { Close(); }
  StreamClient(const StreamClient&) = delete;
  StreamClient& operator=(const StreamClient&) = delete;

  void Send(const std::string& bytes) {
    if (fd_ >= 0) (void)!::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Reads until `done()` or the peer closes or 10 s pass. False if `done()` never held.
  template <typename Pred>
  bool ReadUntil(Pred done, milliseconds limit = milliseconds(10000)) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
      if (fd_ < 0 || closed_) return false;
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[16384];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = true;
        return done();
      }
      raw_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  bool ReadHead() {
    return ReadUntil([&] { return raw_.find("\r\n\r\n") != std::string::npos; });
  }
  int status() const {
    return raw_.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(raw_.substr(9, 3).c_str()) : 0;
  }
  std::string head() const { return raw_.substr(0, raw_.find("\r\n\r\n") + 2); }
  std::string body() const {
    const auto at = raw_.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : raw_.substr(at + 4);
  }
  // The whole answer: reads until the server closes.
  std::string ReadToEnd() {
    ReadUntil([] { return false; });
    return raw_;
  }
  bool closed() const { return closed_; }

  // The events received so far (complete ones).
  std::vector<Event> Events() const {
    std::vector<Event> out;
    const std::string text = body();
    size_t at = 0;
    for (;;) {
      const auto end = text.find("\n\n", at);
      if (end == std::string::npos) break;
      Event e;
      size_t line_at = at;
      while (line_at < end) {
        const auto eol = std::min(text.find('\n', line_at), end);
        const std::string line = text.substr(line_at, eol - line_at);
        line_at = eol + 1;
        if (line.rfind("id: ", 0) == 0) e.id = line.substr(4);
        if (line.rfind("event: ", 0) == 0) e.type = line.substr(7);
        if (line.rfind("data: ", 0) == 0) e.data = Json::parse(line.substr(6), nullptr, false);
      }
      if (!e.type.empty()) out.push_back(std::move(e));
      at = end + 2;
    }
    return out;
  }
  // Complete events so far, without parsing them.
  size_t EventCount() const {
    size_t n = 0;
    const auto start = raw_.find("\r\n\r\n");
    if (start == std::string::npos) return 0;
    for (size_t at = raw_.find("event: usage\n", start); at != std::string::npos;
         at = raw_.find("event: usage\n", at + 1)) {
      if (raw_.find("\n\n", at) == std::string::npos) break;
      ++n;
    }
    return n;
  }
  bool WaitEvents(size_t n, milliseconds limit = milliseconds(10000)) {
    return ReadUntil([&] { return EventCount() >= n; }, limit);
  }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string raw_;
};

std::string Header(const std::string& head, const std::string& name) {
  const std::string key = "\r\n" + name + ": ";
  const auto at = head.find(key);
  if (at == std::string::npos) return {};
  const auto end = head.find("\r\n", at + key.size());
  return head.substr(at + key.size(), end - at - key.size());
}

class StreamTest : public ServerTest {
 protected:
  void SetUp() override {
    config_.events_coalesce_ms = 10;
    StartServer();
  }

  StreamHub& hub() { return *app_->streams(); }
  std::string EventsPath(const Json& org) {
    return "/events/" + org["org_id"].get<std::string>() + "/";
  }
  std::unique_ptr<StreamClient> Open(const Json& org, const std::string& extra = "",
                                     int rcvbuf = 0) {
    return std::make_unique<StreamClient>(port_, EventsPath(org), org["api_key"], extra, rcvbuf);
  }
  // Waits (bounded) until the hub holds `n` streams; the figure is what the test checks.
  size_t StreamsSettledAt(size_t n) {
    for (int i = 0; i < 1000 && hub().streams() != n; ++i) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    return hub().streams();
  }
  void CreateInvoice(const Json& org) {
    ASSERT_EQ(Post("/invoices/", org["api_key"], {{"amount_paisa", 100}}).status, 201);
  }
};

TEST_F(StreamTest, FirstEventIsTheCurrentState) {
  const Json org = CreateOrg();
  CreateInvoice(org);
  auto s = Open(org);
  ASSERT_TRUE(s->WaitEvents(1)) << s->body();
  EXPECT_EQ(s->status(), 200);
  const std::string head = s->head();
  EXPECT_EQ(Header(head, "Content-Type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(Header(head, "Cache-Control"), "no-store");
  EXPECT_EQ(head.find("Cache-Control", head.find("Cache-Control") + 1), std::string::npos);
  EXPECT_EQ(Header(head, "X-Accel-Buffering"), "no");
  EXPECT_EQ(Header(head, "Connection"), "close");
  EXPECT_EQ(Header(head, "Content-Length"), "");  // the body runs until the socket closes
  EXPECT_FALSE(Header(head, "X-Request-Id").empty());
  EXPECT_EQ(s->body().rfind("retry: 3000\n\n", 0), 0u) << s->body();
  const Event first = s->Events()[0];
  EXPECT_EQ(first.type, "usage");
  EXPECT_EQ(first.data["org_id"], org["org_id"]);
  EXPECT_EQ(first.data["version"], first.id);
  EXPECT_FALSE(VersionHash(first.id).empty());
  // The server's second (the test's clock) with the real clock's milliseconds.
  EXPECT_EQ(first.data["as_of"].get<std::string>().substr(0, 20), "2026-01-01T00:00:00.");
  EXPECT_EQ(first.id.substr(0, 10), "1767225600");
  EXPECT_EQ(first.data["usage"]["invoices"]["used"], 1);
  // The same state as GET /billing/usage/ reads (which counts itself as a call).
  const Response usage = Get("/billing/usage/", org["api_key"]);
  EXPECT_EQ(first.data["plan"], usage.body["plan"]);
  EXPECT_EQ(first.data["subscription"], usage.body["subscription"]);
  EXPECT_EQ(first.data["usage"]["invoices"], usage.body["usage"]["invoices"]);
}

TEST_F(StreamTest, AChangeReachesEveryStreamOfTheOrgAndNoOther) {
  const Json a = CreateOrg("A");
  const Json b = CreateOrg("B");
  auto a1 = Open(a);
  auto a2 = Open(a);
  auto b1 = Open(b);
  for (auto* s : {a1.get(), a2.get(), b1.get()}) ASSERT_TRUE(s->WaitEvents(1));
  CreateInvoice(a);
  for (auto* s : {a1.get(), a2.get()}) {
    ASSERT_TRUE(s->WaitEvents(2)) << s->body();
    const Event e = s->Events()[1];
    EXPECT_EQ(e.data["org_id"], a["org_id"]);
    EXPECT_EQ(e.data["usage"]["invoices"]["used"], 1);
    EXPECT_NE(VersionHash(e.id), VersionHash(s->Events()[0].id));
  }
  // B's next event is B's own change: nothing of A came before it.
  CreateInvoice(b);
  ASSERT_TRUE(b1->WaitEvents(2)) << b1->body();
  EXPECT_EQ(b1->Events()[1].data["org_id"], b["org_id"]);
  EXPECT_EQ(b1->Events()[1].data["usage"]["invoices"]["used"], 1);
}

TEST_F(StreamTest, LastEventIdOfTheCurrentStateSkipsTheFirstEvent) {
  const Json org = CreateOrg();
  auto first = Open(org);
  ASSERT_TRUE(first->WaitEvents(1));
  const std::string version = first->Events()[0].id;
  // A client that already holds this state: nothing until it changes.
  auto resumed = Open(org, "Last-Event-ID: " + version + "\r\n");
  // A client holding an older state gets the current one at once.
  auto behind = Open(org, "Last-Event-ID: 1767225500000-0123456789abcdef\r\n");
  ASSERT_TRUE(behind->WaitEvents(1));
  EXPECT_EQ(VersionHash(behind->Events()[0].id), VersionHash(version));  // same state, read later
  ASSERT_TRUE(resumed->ReadHead());
  EXPECT_EQ(resumed->status(), 200);
  CreateInvoice(org);
  ASSERT_TRUE(resumed->WaitEvents(1)) << resumed->body();
  EXPECT_EQ(resumed->body().rfind("retry: 3000\n\nid: ", 0), 0u) << resumed->body();
  EXPECT_EQ(resumed->Events()[0].data["usage"]["invoices"]["used"], 1);
  EXPECT_NE(VersionHash(resumed->Events()[0].id), VersionHash(version));
}

TEST_F(StreamTest, OpeningAStreamCountsNoApiCall) {
  const Json org = CreateOrg();
  const std::string key = org["api_key"];
  const int64_t before = Used(key, "api_calls");
  auto s = Open(org);
  ASSERT_TRUE(s->WaitEvents(1));
  auto auth = Get(EventsPath(org) + "auth/", key);
  EXPECT_EQ(auth.status, 204) << auth.raw;
  EXPECT_EQ(Used(key, "api_calls"), before + 1);  // only the second GET /billing/usage/
}

TEST_F(StreamTest, RefusalsAreJsonErrors) {
  const Json a = CreateOrg("A");
  const Json b = CreateOrg("B");
  const std::string key = a["api_key"];
  // Another organization's stream does not exist for this credential.
  Response r = Get(EventsPath(b), key);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "not_found");
  EXPECT_EQ(Get(EventsPath(b) + "auth/", key).status, 404);
  // No credential, or one in the URL.
  EXPECT_EQ(Get(EventsPath(a)).code(), "unauthorized");
  EXPECT_EQ(Get(EventsPath(a) + "auth/").status, 401);
  r = Get(EventsPath(a) + "?token=" + key);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Get(EventsPath(a) + "?access_token=" + key, key).status, 401);
  EXPECT_EQ(Get(EventsPath(a) + "auth/?token=" + key, key).status, 401);
  // The admin token acts for no organization.
  EXPECT_EQ(Get(EventsPath(a), kAdminToken).status, 403);
  // A session token is a credential of the org too (the browser's).
  Response session = Post("/sessions/", key, Json::object());
  ASSERT_EQ(session.status, 201) << session.raw;
  EXPECT_EQ(Get(EventsPath(a) + "auth/", session.body["token"]).status, 204);
  // A request pipelined behind the stream's could never be answered.
  Response pipelined =
      SendRaw("GET " + EventsPath(a) + " HTTP/1.1\r\nHost: x\r\n" + "Authorization: Bearer " + key +
              "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(pipelined.status, 400) << pipelined.raw;
  // Nothing of a credential reaches the access log.
  for (const std::string& line : LogLines()) {
    EXPECT_EQ(line.find(key), std::string::npos) << line;
    EXPECT_EQ(line.find("token="), std::string::npos) << line;
  }
}

TEST_F(StreamTest, CorsPreflightAllowsTheResumeHeader) {
  const Json org = CreateOrg();
  Response pre = Send("OPTIONS", EventsPath(org), "", "", "", {{"Origin", "http://app.example"}});
  EXPECT_EQ(pre.status, 204);
  const std::string allowed = pre.headers.find("Access-Control-Allow-Headers")->second;
  EXPECT_NE(allowed.find("Authorization"), std::string::npos);
  EXPECT_NE(allowed.find("Last-Event-ID"), std::string::npos);
  auto s = Open(org, "Origin: http://app.example\r\n");
  ASSERT_TRUE(s->WaitEvents(1));
  EXPECT_EQ(Header(s->head(), "Access-Control-Allow-Origin"), "http://app.example");
}

TEST_F(StreamTest, CapsAnswerTooManyStreamsWithRetryAfter) {
  StopServer();
  config_.max_streams = 3;
  config_.max_streams_per_org = 2;
  StartServer();
  const Json a = CreateOrg("A");
  const Json b = CreateOrg("B");
  auto a1 = Open(a);
  auto a2 = Open(a);
  ASSERT_TRUE(a1->WaitEvents(1));
  ASSERT_TRUE(a2->WaitEvents(1));
  auto a3 = Open(a);
  ASSERT_TRUE(a3->ReadUntil([&] { return a3->body().find('}') != std::string::npos; }));
  EXPECT_EQ(a3->status(), 503) << a3->head();
  EXPECT_EQ(Header(a3->head(), "Retry-After"), "30");
  EXPECT_EQ(Header(a3->head(), "Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(Json::parse(a3->body(), nullptr, false)["code"], "too_many_streams") << a3->body();
  auto b1 = Open(b);
  ASSERT_TRUE(b1->WaitEvents(1));
  Response b2 = Get(EventsPath(b), b["api_key"]);  // the server's cap (3) now
  EXPECT_EQ(b2.status, 503);
  EXPECT_EQ(b2.code(), "too_many_streams");
  // A stream that ends gives its place back.
  a1->Close();
  EXPECT_EQ(StreamsSettledAt(2), 2u);
  EXPECT_EQ(hub().streams_of(a["org_id"]), 1u);
  auto b3 = Open(b);
  ASSERT_TRUE(b3->WaitEvents(1));
  EXPECT_EQ(b3->status(), 200);
}

TEST_F(StreamTest, APeerThatClosesIsRemoved) {
  const Json org = CreateOrg();
  auto s = Open(org);
  ASSERT_TRUE(s->WaitEvents(1));
  EXPECT_EQ(hub().streams(), 1u);
  EXPECT_TRUE(hub().Wants(org["org_id"]));
  s->Close();
  EXPECT_EQ(StreamsSettledAt(0), 0u);
  EXPECT_FALSE(hub().Wants(org["org_id"]));
}

TEST_F(StreamTest, BytesFromAStreamsClientCloseIt) {
  const Json org = CreateOrg();
  auto s = Open(org);
  ASSERT_TRUE(s->WaitEvents(1));
  s->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(s->ReadUntil([&] { return s->closed(); }));
  EXPECT_EQ(StreamsSettledAt(0), 0u);
}

TEST_F(StreamTest, ASlowReaderIsDroppedWithoutHoldingUpOthers) {
  const Json org = CreateOrg();
  auto slow = Open(org, "", 4096);  // never reads past its first event
  auto fast = Open(org);
  ASSERT_TRUE(slow->WaitEvents(1));
  ASSERT_TRUE(fast->WaitEvents(1));
  // 64 events of 32 KiB: 2 MiB, far past the kernel's buffers and the hub's 256 KiB bound.
  OrgEvent big{org["org_id"], "1767225600001-0123456789abcdef",
               Json{{"padding", std::string(32 * 1024, 'x')}}.dump()};
  size_t received = 1;
  for (int i = 0; i < 64; ++i) {
    hub().Publish(big);
    // The fast reader keeps up; each publish returns without waiting for the slow one.
    ASSERT_TRUE(fast->WaitEvents(++received)) << i;
  }
  EXPECT_EQ(StreamsSettledAt(1), 1u);  // the slow one is gone
  EXPECT_EQ(slow->ReadToEnd().size() < 2u * 1024 * 1024, true);
  EXPECT_TRUE(slow->closed());
  EXPECT_FALSE(fast->closed());
}

TEST_F(StreamTest, HeartbeatsKeepIdleStreamsAlive) {
  StopServer();
  config_.stream_heartbeat_seconds = 1;
  StartServer();
  const Json org = CreateOrg();
  auto s = Open(org);
  ASSERT_TRUE(s->WaitEvents(1));
  EXPECT_TRUE(s->ReadUntil([&] { return s->body().find("\n\n: ping\n\n") != std::string::npos; }))
      << s->body();
}

TEST_F(StreamTest, ThousandIdleStreamsWhileRequestsAreAnswered) {
  StopServer();
  config_.max_streams = 1100;
  config_.max_streams_per_org = 1000;
  StartServer();
  const Json org = CreateOrg();
  constexpr size_t kStreams = 1000;
  std::vector<std::unique_ptr<StreamClient>> streams;
  streams.reserve(kStreams);
  // Normal requests run beside the streams being opened.
  std::vector<int> statuses;
  std::thread requests([&] {
    for (int i = 0; i < 100; ++i) statuses.push_back(Get("/billing/plans/").status);
  });
  for (size_t i = 0; i < kStreams; ++i) streams.push_back(Open(org));
  for (auto& s : streams) ASSERT_TRUE(s->WaitEvents(1)) << s->body();
  requests.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 100);
  EXPECT_EQ(hub().streams(), kStreams);
  // While all are held: requests are answered, and the streams take no connection slot.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Get("/billing/plans/").status, 200);
  // One change reaches every one of them.
  CreateInvoice(org);
  for (auto& s : streams) ASSERT_TRUE(s->WaitEvents(2)) << s->body();
  streams.clear();
  EXPECT_EQ(StreamsSettledAt(0), 0u);
}

TEST_F(StreamTest, StoppingClosesOpenStreams) {
  const Json org = CreateOrg();
  auto a = Open(org);
  auto b = Open(org);
  ASSERT_TRUE(a->WaitEvents(1));
  ASSERT_TRUE(b->WaitEvents(1));
  StopServer();
  EXPECT_TRUE(a->ReadUntil([&] { return a->closed(); }));
  EXPECT_TRUE(b->ReadUntil([&] { return b->closed(); }));
}

class StreamOffTest : public ServerTest {
 protected:
  void SetUp() override {
    config_.events = "off";
    StartServer();
  }
};

TEST_F(StreamOffTest, EventsRoutesAreNotFound) {
  const Json org = CreateOrg();
  const std::string path = "/events/" + org["org_id"].get<std::string>() + "/";
  Response r = Get(path, org["api_key"]);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "not_found");
  EXPECT_EQ(Get(path + "auth/", org["api_key"]).status, 404);
}

// With nchan, nginx holds the streams: this server only authorizes its subscribers.
class StreamNchanTest : public ServerTest {
 protected:
  void SetUp() override {
    config_.events = "nchan";
    config_.nchan_publish_url = "http://127.0.0.1:9/pub/";
    StartServer();
  }
};

TEST_F(StreamNchanTest, OnlyTheAuthorizationRouteAnswers) {
  const Json a = CreateOrg("A");
  const Json b = CreateOrg("B");
  const std::string key = a["api_key"];
  const std::string path = "/events/" + a["org_id"].get<std::string>() + "/";
  EXPECT_EQ(Get(path, key).status, 404);
  EXPECT_EQ(app_->streams(), nullptr);
  const int64_t before = Used(key, "api_calls");
  Response ok = Get(path + "auth/", key);
  EXPECT_EQ(ok.status, 204) << ok.raw;
  EXPECT_EQ(ok.raw, "");
  EXPECT_EQ(Get("/events/" + b["org_id"].get<std::string>() + "/auth/", key).status, 404);
  EXPECT_EQ(Get(path + "auth/", "sk_" + std::string(48, '0')).status, 401);
  EXPECT_EQ(Used(key, "api_calls"), before + 1);  // the authorizations counted nothing
}

}  // namespace
}  // namespace sima::server::testing
