#include "server_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>

namespace sima::server::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sima-server-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Config ServerTest::DefaultConfig() {
  Config c;
  c.host = "127.0.0.1";
  c.port = 0;
  c.db = dir_.path() + "/sima.db";
  c.admin_token = kAdminToken;
  c.threads = 64;
  c.app_url = "http://app.example";
  return c;
}

void ServerTest::StartServer() {
  App::Options options;
  options.config = config_;
  options.now = clock_.AsFn();
  options.background = background_;
  options.access_log = [this](std::string_view line) {
    std::lock_guard lock(log_mu_);
    log_.emplace_back(line);
  };
  auto app = App::Create(options);
  ASSERT_TRUE(app.ok()) << app.error().message;
  app_ = std::move(app).value();
  auto port = app_->Bind();
  ASSERT_TRUE(port.ok()) << port.error().message;
  port_ = *port;
  thread_ = std::thread([this] { app_->Listen(); });
  for (int i = 0; i < 500 && !app_->running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(app_->running());
}

void ServerTest::StopServer() {
  if (!app_) return;
  app_->Stop();
  if (thread_.joinable()) thread_.join();
  app_.reset();
}

Response ServerTest::Send(const std::string& method, const std::string& path,
                          const std::string& token, const std::string& body,
                          const std::string& content_type, const httplib::Headers& headers) {
  httplib::Client cli("127.0.0.1", port_);
  cli.set_read_timeout(30);
  httplib::Headers h = headers;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  httplib::Result res = [&] {
    if (method == "GET") return cli.Get(path, h);
    if (method == "DELETE") return cli.Delete(path, h, body, content_type);
    if (method == "PUT") return cli.Put(path, h, body, content_type);
    if (method == "PATCH") return cli.Patch(path, h, body, content_type);
    if (method == "OPTIONS") return cli.Options(path, h);
    return cli.Post(path, h, body, content_type);
  }();
  Response out;
  if (!res) return out;
  out.status = res->status;
  out.headers = res->headers;
  out.raw = res->body;
  out.body = Json::parse(res->body, nullptr, false);
  return out;
}

Response ServerTest::SendRaw(const std::string& bytes) {
  Response out;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    out.raw = "connect failed: " + std::to_string(errno);
    ::close(fd);
    return out;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  // No shutdown(SHUT_WR): httplib 0.11 takes a half-closed client for gone and never answers.
  // Read until the whole answer is in (the server may keep the connection open).
  std::string answer;
  char buf[4096];
  for (;;) {
    const auto head = answer.find("\r\n\r\n");
    if (head != std::string::npos) {
      const auto cl = answer.find("Content-Length: ");
      if (cl != std::string::npos && cl < head) {
        const size_t len = std::strtoul(answer.c_str() + cl + 16, nullptr, 10);
        if (answer.size() >= head + 4 + len) break;
      }
    }
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && answer.empty()) answer = "recv failed: " + std::to_string(errno);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  out.raw = answer;
  if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.size() < 12) return out;
  out.status = std::atoi(answer.substr(9, 3).c_str());
  const auto split = answer.find("\r\n\r\n");
  if (split != std::string::npos) out.body = Json::parse(answer.substr(split + 4), nullptr, false);
  return out;
}

Json ServerTest::CreateOrg(const std::string& name, const std::string& plan) {
  Json body = {{"name", name}};
  if (!plan.empty()) body["plan"] = plan;
  Response r = Post("/admin/orgs/", kAdminToken, body);
  EXPECT_EQ(r.status, 201) << r.raw;
  return r.body;
}

int64_t ServerTest::Used(const std::string& token, const std::string& feature) {
  Response r = Get("/billing/usage/", token);
  EXPECT_EQ(r.status, 200) << r.raw;
  return r.body["usage"][feature]["used"].get<int64_t>();
}

std::vector<std::string> ServerTest::LogLines() {
  std::lock_guard lock(log_mu_);
  return log_;
}

}  // namespace sima::server::testing
