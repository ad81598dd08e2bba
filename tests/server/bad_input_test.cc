// Malformed requests of every kind: each gets a 4xx JSON error and changes nothing.
#include <map>

#include "server_fixture.h"
#include "sqlite.h"

namespace sima::server::testing {
namespace {

struct BadCase {
  std::string name;
  std::function<Response()> send;
  int status;        // 0: any 4xx
  std::string code;  // empty: any code
};

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

class ServerBadInput : public ServerTest {
 protected:
  // Every counter of every period, read straight from the file (reading counts nothing).
  std::map<std::string, int64_t> Counters() {
    std::map<std::string, int64_t> out;
    auto db = sqlite::Db::Open(config_.db, true);
    EXPECT_TRUE(db.ok());
    auto q = (*db)->Prepare("SELECT org_id || '/' || feature, used FROM usage_counters");
    EXPECT_TRUE(q.ok());
    while (*(*q)->Step()) out[(*q)->Text(0)] = (*q)->Int(1);
    auto rows = (*db)->QueryInt(
        "SELECT (SELECT COUNT(*) FROM invoices) + (SELECT COUNT(*) FROM customers) + "
        "(SELECT COUNT(*) FROM team_members) + (SELECT COUNT(*) FROM organizations)");
    out["rows"] = *rows;
    return out;
  }
};

TEST_F(ServerBadInput, EveryMalformedRequestIsA4xxJsonErrorAndChangesNothing) {
  const std::string key = NewKey();
  const std::string session = Send("POST", "/sessions/", key, "").body["token"];
  const std::string auth = "Authorization: Bearer " + key + "\r\n";
  auto post = [&](const std::string& path, const std::string& body,
                  const std::string& type = "application/json") {
    return [=, this] { return Send("POST", path, key, body, type); };
  };
  auto raw = [&](const std::string& bytes) { return [=, this] { return SendRaw(bytes); }; };
  const std::string big(1 << 20, 'x');

  const std::vector<BadCase> cases = {
      // Not JSON, or not an object.
      {"truncated json", post("/invoices/", R"({"amount_paisa":)"), 400, "invalid_json"},
      {"plain text", post("/invoices/", "not json"), 400, "invalid_json"},
      {"array body", post("/invoices/", "[]"), 400, "invalid_json"},
      {"string body", post("/invoices/", R"("x")"), 400, "invalid_json"},
      {"null body", post("/invoices/", "null"), 400, "invalid_json"},
      {"number body", post("/invoices/", "123"), 400, "invalid_json"},
      {"empty body", post("/invoices/", ""), 400, "invalid_json"},
      {"trailing garbage", post("/invoices/", R"({"amount_paisa":1} x)"), 400, "invalid_json"},
      {"single quotes", post("/invoices/", R"({'amount_paisa':1})"), 400, "invalid_json"},
      {"comment", post("/invoices/", R"({"amount_paisa":1 /* c */})"), 400, "invalid_json"},
      {"deep nesting", post("/invoices/", Nested(5000)), 400, "invalid_json"},
      {"deep nesting in a field", post("/invoices/", R"({"description":)" + Nested(100) + "}"), 400,
       "invalid_json"},
      {"invalid utf-8", post("/invoices/", "{\"description\":\"\xff\xfe\",\"amount_paisa\":1}"),
       400, "invalid_json"},
      {"overlong utf-8", post("/customers/", "{\"name\":\"\xc0\xaf\",\"email\":\"a@b.np\"}"), 400,
       "invalid_json"},
      {"lone surrogate", post("/customers/", R"({"name":"\ud800","email":"a@b.np"})"), 400,
       "invalid_json"},
      // Wrong types and ranges.
      {"amount as string", post("/invoices/", R"({"amount_paisa":"100"})"), 400,
       "validation_error"},
      {"amount as float", post("/invoices/", R"({"amount_paisa":1.5})"), 400, "validation_error"},
      {"amount negative", post("/invoices/", R"({"amount_paisa":-1})"), 400, "validation_error"},
      {"amount 1e30", post("/invoices/", R"({"amount_paisa":1e30})"), 400, "validation_error"},
      {"amount past uint64", post("/invoices/", R"({"amount_paisa":99999999999999999999999})"), 400,
       "validation_error"},
      {"amount uint64 max", post("/invoices/", R"({"amount_paisa":18446744073709551615})"), 400,
       "validation_error"},
      {"amount int64 min", post("/invoices/", R"({"amount_paisa":-9223372036854775808})"), 400,
       "validation_error"},
      {"amount too big", post("/invoices/", R"({"amount_paisa":1000000000001})"), 400,
       "validation_error"},
      {"amount boolean", post("/invoices/", R"({"amount_paisa":true})"), 400, "validation_error"},
      {"amount null", post("/invoices/", R"({"amount_paisa":null})"), 400, "validation_error"},
      {"amount missing", post("/invoices/", R"({"description":"x"})"), 400, "validation_error"},
      {"unknown field", post("/invoices/", R"({"amount_paisa":1,"amount":1})"), 400,
       "validation_error"},
      {"description as number", post("/invoices/", R"({"amount_paisa":1,"description":5})"), 400,
       "validation_error"},
      {"description too long",
       post("/invoices/", R"({"amount_paisa":1,"description":")" + std::string(1001, 'd') + "\"}"),
       400, "validation_error"},
      {"1 MB string", post("/invoices/", R"({"amount_paisa":1,"description":")" + big + "\"}"), 413,
       "payload_too_large"},
      {"customer id with SQL",
       post("/invoices/", R"({"amount_paisa":1,"customer_id":"cus_' OR '1'='1"})"), 400,
       "validation_error"},
      {"customer name missing", post("/customers/", R"({"email":"a@b.np"})"), 400,
       "validation_error"},
      {"customer name object", post("/customers/", R"({"name":{},"email":"a@b.np"})"), 400,
       "validation_error"},
      {"customer name NUL", post("/customers/", R"({"name":"a\u0000b","email":"a@b.np"})"), 400,
       "validation_error"},
      {"customer email bad", post("/customers/", R"({"name":"A","email":"not-an-email"})"), 400,
       "validation_error"},
      {"email with SQL",
       post("/customers/", R"({"name":"A","email":"a@b.np'; DROP TABLE customers;--"})"), 400,
       "validation_error"},
      {"team email two @", post("/team-members/", R"({"email":"a@b@c.np"})"), 400,
       "validation_error"},
      {"quantity zero", post("/usage/invoices/", R"({"quantity":0})"), 400, "validation_error"},
      {"quantity negative", post("/usage/invoices/", R"({"quantity":-5})"), 400,
       "validation_error"},
      {"quantity huge", post("/usage/invoices/", R"({"quantity":1000001})"), 400,
       "validation_error"},
      {"quantity string", post("/usage/invoices/", R"({"quantity":"1"})"), 400, "validation_error"},
      {"idempotency key too long",
       post("/usage/invoices/", R"({"idempotency_key":")" + std::string(300, 'k') + "\"}"), 400,
       "validation_error"},
      {"idempotency key non-ascii", post("/usage/invoices/", R"({"idempotency_key":"कुञ्जी"})"), 400,
       "validation_error"},
      {"feature with SQL", post("/usage/invoices'--/", R"({"quantity":1})"), 404, "not_found"},
      {"id with SQL", [&, this] { return Get("/invoices/inv_' OR 1=1 --/", key); }, 404,
       "not_found"},
      {"list limit negative", [&, this] { return Get("/invoices/?limit=-1", key); }, 400,
       "validation_error"},
      {"list limit huge", [&, this] { return Get("/invoices/?limit=99999999999999999999", key); },
       400, "validation_error"},
      {"session body not empty", post("/sessions/", R"({"x":1})"), 400, "validation_error"},
      // Media types.
      {"text/plain", post("/invoices/", R"({"amount_paisa":1})", "text/plain"), 415,
       "unsupported_media_type"},
      {"form encoded", post("/invoices/", "amount_paisa=1", "application/x-www-form-urlencoded"),
       415, "unsupported_media_type"},
      {"latin1 charset",
       post("/invoices/", R"({"amount_paisa":1})", "application/json; charset=latin1"), 415,
       "unsupported_media_type"},
      // Credentials.
      {"basic auth",
       [&, this] {
         return Send("GET", "/invoices/", "", "", "", {{"Authorization", "Basic eDp5"}});
       },
       401, "unauthorized"},
      {"empty bearer",
       [&, this] {
         return Send("GET", "/invoices/", "", "", "", {{"Authorization", "Bearer "}});
       },
       401, "unauthorized"},
      {"bearer with SQL", [&, this] { return Get("/invoices/", "sk_' OR 1=1 --"); }, 401,
       "unauthorized"},
      {"session on /sessions", [&, this] { return Send("POST", "/sessions/", session, ""); }, 403,
       "forbidden"},
      {"admin name too long",
       [&, this] {
         return Post("/admin/orgs/", kAdminToken, {{"name", std::string(201, 'n')}});
       },
       400, "validation_error"},
      // Raw HTTP.
      {"two authorization headers",
       raw("GET /invoices/ HTTP/1.1\r\nHost: x\r\n" + auth + auth + "Connection: close\r\n\r\n"),
       401, "unauthorized"},
      {"garbage request line", raw("GARBAGE\r\n\r\n"), 400, ""},
      {"unknown method", raw("BREW /invoices/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
       400, ""},
      {"header without colon",
       raw("GET /invoices/ HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nConnection: close\r\n\r\n"), 0,
       ""},
      {"content-length not a number",
       raw("POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + auth +
           "Content-Type: application/json\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{}"),
       0, ""},
      {"content-length over the limit",
       raw("POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + auth +
           "Content-Type: application/json\r\nContent-Length: 70000\r\nConnection: close\r\n\r\n" +
           std::string(70000, ' ')),
       413, "payload_too_large"},
      {"content-length shorter than body",
       raw("POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + auth +
           "Content-Type: application/json\r\nContent-Length: 5\r\nConnection: "
           "close\r\n\r\n{\"amount_paisa\":1}"),
       400, "invalid_json"},
      {"bad chunked body",
       raw("POST /invoices/ HTTP/1.1\r\nHost: x\r\n" + auth +
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: "
           "close\r\n\r\nzz\r\n"),
       400, ""},
      {"uri too long",
       raw("GET /" + std::string(10000, 'a') + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
       0, ""},
  };
  ASSERT_GE(cases.size(), 40u);

  const auto before = Counters();
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    const auto t0 = std::chrono::steady_clock::now();
    Response r = c.send();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{2}) << c.name;
    if (c.status != 0) {
      EXPECT_EQ(r.status, c.status) << "[" << r.raw.substr(0, 300) << "]";
    } else {
      EXPECT_GE(r.status, 400);
      EXPECT_LT(r.status, 500);
    }
    ASSERT_TRUE(r.body.is_object()) << r.raw.substr(0, 300);
    EXPECT_TRUE(r.body["error"].is_string());
    EXPECT_TRUE(r.body["code"].is_string());
    if (!c.code.empty()) {
      EXPECT_EQ(r.code(), c.code);
    }
  }
  EXPECT_EQ(Counters(), before);
  EXPECT_EQ(Get("/healthz").status, 200);  // and the server is still there
}

}  // namespace
}  // namespace sima::server::testing
