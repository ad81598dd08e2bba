// The SMTP path (mail/mailer.h, libcurl) against a real SMTP server: tests/mail/smtp_sink.py
// (aiosmtpd) writes each message it accepts to a folder, and Python's own e-mail parser
// (tests/mail/read_eml.py) reads it back. Messages arrive whole — headers, RFC 2047 subjects
// and names, UTF-8 bodies, lines starting with ".", long lines — the outbox retries while the
// server is down and delivers once it is up, and AUTH and STARTTLS work as SMTP_STARTTLS says.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "mail/mailer.h"
#include "outbox_sender.h"
#include "server_fixture.h"
#include "sima/json.h"
#include "sqlite_store.h"

namespace sima::server::testing {
namespace {

using namespace std::chrono_literals;

// Debian's interpreter, where python3-aiosmtpd is installed (a python3 earlier on PATH may be
// another one without it).
std::string Python() {
  return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}
std::string MailTool(const char* name) {
  return std::string(SIMA_SOURCE_DIR) + "/tests/mail/" + name;
}

// The output of a shell command.
std::string Shell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// A port nothing listens on now (the kernel's choice, released at once).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// smtp_sink.py as a child process, stopped (SIGTERM) by the destructor.
class Sink {
 public:
  Sink(const std::string& folder, int port, const std::vector<std::string>& extra = {}) {
    int fds[2];
    if (pipe(fds) != 0) return;
    std::vector<std::string> args = {Python(), MailTool("smtp_sink.py"), "--folder", folder,
                                     "--port", std::to_string(port)};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    // "listening <port>" once it accepts connections (EOF: it failed to start).
    std::string line;
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    close(fds[0]);
    if (line.rfind("listening ", 0) == 0) port_ = std::stoi(line.substr(10));
  }
  ~Sink() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

class Smtp : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Shell(Python() + " -c 'import aiosmtpd' 2>&1"), "")
        << "python3-aiosmtpd is missing: scripts/deps installs it";
  }
  // The messages in the sink's folder, in arrival order.
  std::vector<std::string> Received() const {
    std::vector<std::string> out;
    if (!std::filesystem::exists(box_)) return out;
    for (const auto& e : std::filesystem::directory_iterator(box_)) {
      if (e.path().extension() == ".eml") out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // Python's reading of one received message.
  static Json Read(const std::string& eml) {
    const Json j = ParseJson(Shell(Python() + " " + MailTool("read_eml.py") + " '" + eml + "'"));
    EXPECT_TRUE(j.is_object()) << "cannot read " << eml;
    return j;
  }
  // A throwaway self-signed certificate for 127.0.0.1 (cert.pem, key.pem in dir_).
  void MakeCertificate() {
    Shell(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
        "'subjectAltName=IP:127.0.0.1,DNS:localhost' -keyout '" +
        dir_.path() + "/key.pem' -out '" + dir_.path() + "/cert.pem' 2>/dev/null");
    ASSERT_TRUE(std::filesystem::exists(dir_.path() + "/cert.pem"));
  }
  std::string Url(int port, const std::string& userinfo = "") const {
    return "smtp://" + userinfo + "127.0.0.1:" + std::to_string(port);
  }

  TempDir dir_;
  std::string box_ = dir_.path() + "/box";
  const Time at_ = Time{std::chrono::seconds{1767225600}};  // 2026-01-01T00:00:00Z
};

TEST_F(Smtp, AMessageArrivesWholeWithNepaliTextDotsAndLongLines) {
  Sink sink(box_, 0);
  ASSERT_GT(sink.port(), 0);
  const std::string subject =
      "नेपाल टेक has used 80% of its Invoices on Free — बिल र भुक्तानी सूचना, please read";
  const std::string long_line(2500, 'x');
  const std::string body = "नमस्ते नेपाल टेक,\n.a line starting with a dot\n..two dots\n.\n" +
                           long_line + "\nलामो पङ्क्ति " + Repeat("क", 400) + "\n-- sima\n";
  auto mailer = MakeSmtpMailer(Url(sink.port()), {.starttls = "off"});
  const Email email{"usage-org_1-invoices-1767225600-80",
                    "sima बिलिङ <billing@sima.test>",
                    "नेपाल टेक <owner@nepal.test>",
                    subject,
                    body,
                    at_};
  auto sent = mailer->Send(email);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  const auto got = Received();
  ASSERT_EQ(got.size(), 1u);
  const Json m = Read(got[0]);
  EXPECT_EQ(m["subject"], subject);
  EXPECT_EQ(m["from"], "sima बिलिङ <billing@sima.test>");
  EXPECT_EQ(m["to"], "नेपाल टेक <owner@nepal.test>");
  EXPECT_EQ(m["message_id"], "<usage-org_1-invoices-1767225600-80@sima.test>");
  EXPECT_EQ(m["date"], "Thu, 01 Jan 2026 00:00:00 +0000");
  EXPECT_EQ(m["mime_version"], "1.0");
  EXPECT_EQ(m["content_type"], "text/plain");
  EXPECT_EQ(m["charset"], "utf-8");
  EXPECT_EQ(m["transfer_encoding"], "base64");
  std::string crlf;  // the body as sent: CRLF line ends
  for (char c : body) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(m["body"], crlf);
  EXPECT_LE(m["longest_line"].get<int>(), 998);
  EXPECT_EQ(m["defects"], Json::array());
  // The envelope names the bare addresses.
  const Json envelope = ParseJson(Shell("cat '" + box_ + "/0001.json'"));
  EXPECT_EQ(envelope["mail_from"], "billing@sima.test");
  EXPECT_EQ(envelope["rcpt_tos"], Json::array({"owner@nepal.test"}));
}

TEST_F(Smtp, AnAsciiBodyGoesAs7BitAndItsDotsSurvive) {
  Sink sink(box_, 0);
  ASSERT_GT(sink.port(), 0);
  const std::string body = "Hello,\n.\n.hidden unless stuffed\n..\nend\n";
  auto mailer = MakeSmtpMailer(Url(sink.port()), {.starttls = "off"});
  ASSERT_TRUE(mailer->Send({"m1", "billing@sima.test", "a@b.test", "Plain", body, at_}).ok());
  const auto got = Received();
  ASSERT_EQ(got.size(), 1u);
  const Json m = Read(got[0]);
  EXPECT_EQ(m["transfer_encoding"], "7bit");
  EXPECT_EQ(m["subject"], "Plain");
  EXPECT_EQ(m["body"], "Hello,\r\n.\r\n.hidden unless stuffed\r\n..\r\nend\r\n");
}

// The outbox against a server that is down, then up: each failure is counted and retried after
// its backoff, the e-mail arrives once, and is not sent again. The e-mail is a usage alert for
// an organization named in Nepali.
TEST_F(Smtp, TheOutboxRetriesWhileTheServerIsDownAndDeliversOnceItIsUp) {
  auto opened = SqliteStore::Open({dir_.path() + "/store.db"}, Catalog::Default());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  std::unique_ptr<SqliteStore> store = std::move(opened).value();
  Subscription sub{"FREE", at_, std::nullopt};
  const std::string org = "org_nepal";
  ASSERT_TRUE(store->CreateOrg({org, "नेपाल टेक", "hash", sub, at_, "owner@nepal.test"}).ok());
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(
        store->CreateInvoice(org, {"inv_" + std::to_string(i), 100, std::nullopt, "", at_}, at_)
            .ok());
  }
  const int port = FreePort();
  Time now = at_;
  OutboxSender sender(*store, MakeSmtpMailer(Url(port), {.starttls = "off"}),
                      "sima <billing@sima.test>", [&] { return now; });
  EXPECT_EQ(sender.RunOnce(), 0);  // nothing listens
  auto db = sqlite::Db::Open(dir_.path() + "/store.db", true);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ((*db)->QueryInt("SELECT attempts FROM outbox").value(), 1);
  now += 5s;
  EXPECT_EQ(sender.RunOnce(), 0);  // not due again before its backoff
  EXPECT_EQ((*db)->QueryInt("SELECT attempts FROM outbox").value(), 1);
  now += OutboxSender::RetryBackoff(0);
  EXPECT_EQ(sender.RunOnce(), 0);  // due, still down
  EXPECT_EQ((*db)->QueryInt("SELECT attempts FROM outbox").value(), 2);

  Sink sink(box_, port);
  ASSERT_EQ(sink.port(), port);
  now += OutboxSender::RetryBackoff(1);
  EXPECT_EQ(sender.RunOnce(), 1);
  now += 1h;
  EXPECT_EQ(sender.RunOnce(), 0);  // sent: never again
  const auto got = Received();
  ASSERT_EQ(got.size(), 1u);
  const Json m = Read(got[0]);
  EXPECT_EQ(m["subject"], "नेपाल टेक has used 80% of its Invoices on Free");
  EXPECT_EQ(m["to"], "owner@nepal.test");
  EXPECT_NE(m["body"].get<std::string>().find("8/10 (80%)"), std::string::npos) << m["body"];
  EXPECT_EQ(m["message_id"], "<usage-org_nepal-invoices-1767225600-80@sima.test>");
}

TEST_F(Smtp, StartTlsRequiredWithAuthDelivers) {
  MakeCertificate();
  Sink sink(box_, 0,
            {"--user", "sima", "--password", "p@ss:w/rd", "--starttls", dir_.path() + "/cert.pem",
             dir_.path() + "/key.pem", "--require-starttls"});
  ASSERT_GT(sink.port(), 0);
  // The password percent-encoded in the URL, as SMTP_URL (or SMTP_URL_FILE) holds it.
  auto mailer = MakeSmtpMailer(Url(sink.port(), "sima:p%40ss%3Aw%2Frd@"),
                               {.starttls = "required", .ca_file = dir_.path() + "/cert.pem"});
  auto sent = mailer->Send({"m-tls", "billing@sima.test", "a@b.test", "Over TLS", "hi\n", at_});
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  const auto got = Received();
  ASSERT_EQ(got.size(), 1u);
  const Json envelope = ParseJson(Shell("cat '" + box_ + "/0001.json'"));
  EXPECT_EQ(envelope["tls"], true);
  EXPECT_EQ(envelope["authenticated"], true);

  // "try" upgrades too when the server offers it.
  auto tried = MakeSmtpMailer(Url(sink.port(), "sima:p%40ss%3Aw%2Frd@"),
                              {.starttls = "try", .ca_file = dir_.path() + "/cert.pem"});
  EXPECT_TRUE(tried->Send({"m-try", "billing@sima.test", "a@b.test", "Try", "hi\n", at_}).ok());
  EXPECT_EQ(Received().size(), 2u);
}

TEST_F(Smtp, RefusalsAreErrorsTheOutboxRetriesAndNameNoSecret) {
  MakeCertificate();
  Sink sink(box_, 0,
            {"--user", "sima", "--password", "right", "--starttls", dir_.path() + "/cert.pem",
             dir_.path() + "/key.pem", "--require-starttls"});
  ASSERT_GT(sink.port(), 0);
  const Email email{"m-bad", "billing@sima.test", "a@b.test", "No", "no\n", at_};
  // A wrong password.
  auto wrong = MakeSmtpMailer(Url(sink.port(), "sima:wrong-secret@"),
                              {.starttls = "required", .ca_file = dir_.path() + "/cert.pem"});
  auto r = wrong->Send(email);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(r.error().message.find("wrong-secret"), std::string::npos) << r.error().message;
  // STARTTLS off against a server that requires it: refused before any mail.
  auto plain = MakeSmtpMailer(Url(sink.port(), "sima:right@"), {.starttls = "off"});
  EXPECT_FALSE(plain->Send(email).ok());
  // A certificate nobody vouches for (the system's CAs only).
  auto untrusted = MakeSmtpMailer(Url(sink.port(), "sima:right@"), {.starttls = "required"});
  EXPECT_FALSE(untrusted->Send(email).ok());
  EXPECT_EQ(Received().size(), 0u);
}

TEST_F(Smtp, RequiredStartTlsSendsNothingToAServerWithoutIt) {
  Sink sink(box_, 0);  // no STARTTLS offered
  ASSERT_GT(sink.port(), 0);
  auto mailer = MakeSmtpMailer(Url(sink.port()), {.starttls = "required"});
  auto r = mailer->Send({"m-req", "billing@sima.test", "a@b.test", "No", "no\n", at_});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Received().size(), 0u);
  // "try" sends in plain text when it is not offered.
  auto tried = MakeSmtpMailer(Url(sink.port()), {.starttls = "try"});
  EXPECT_TRUE(tried->Send({"m-try", "billing@sima.test", "a@b.test", "Yes", "yes\n", at_}).ok());
  EXPECT_EQ(Received().size(), 1u);
}

}  // namespace
}  // namespace sima::server::testing
