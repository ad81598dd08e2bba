// docs/openapi.json and the server's route table list the same routes, both ways, so the
// published contract cannot silently drift from what the server answers.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "handlers.h"
#include "sima/json.h"

namespace sima::server {
namespace {

// "/invoices/:id" and "/invoices/{id}/" both become "/invoices/{}": the same route whatever
// its parameters are called, with or without the trailing slash the server ignores.
std::string Shape(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == ':' && (i == 0 || path[i - 1] == '/')) {
      out += "{}";
      while (i < path.size() && path[i] != '/') ++i;
    } else if (path[i] == '{') {
      out += "{}";
      while (i < path.size() && path[i] != '}') ++i;
      ++i;
    } else {
      out += path[i++];
    }
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

Json ReadOpenApi() {
  std::ifstream in(SIMA_OPENAPI_JSON);
  std::stringstream text;
  text << in.rdbuf();
  return Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
}

// "METHOD shape" -> the route as written (for the messages).
using Routes = std::map<std::string, std::string>;

Routes ServerRoutes() {
  Routes out;
  for (const Route& r : ApiRoutes())
    out[r.method + " " + Shape(r.pattern)] = r.method + " " + r.pattern;
  return out;
}

Routes DocumentedRoutes(const Json& doc) {
  static const std::set<std::string> kMethods = {"get",     "put",  "post",  "delete",
                                                 "options", "head", "patch", "trace"};
  Routes out;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      if (kMethods.count(method) == 0) continue;  // "parameters", "summary"...
      out[Upper(method) + " " + Shape(path)] = Upper(method) + " " + path;
    }
  }
  return out;
}

std::string Missing(const Routes& from, const Routes& in) {
  std::string list;
  for (const auto& [shape, written] : from) {
    if (in.count(shape) == 0) list += "\n  " + written;
  }
  return list;
}

class ApiDocs : public ::testing::Test {
 protected:
  void SetUp() override {
    doc_ = ReadOpenApi();
    ASSERT_TRUE(doc_.is_object() && doc_.contains("paths"))
        << SIMA_OPENAPI_JSON << " is not an OpenAPI document";
  }
  Json doc_;
};

TEST_F(ApiDocs, EveryServedRouteIsInTheOpenApiDocument) {
  const std::string missing = Missing(ServerRoutes(), DocumentedRoutes(doc_));
  EXPECT_TRUE(missing.empty()) << "served but missing from docs/openapi.json:" << missing;
}

TEST_F(ApiDocs, EveryDocumentedRouteIsServed) {
  const std::string missing = Missing(DocumentedRoutes(doc_), ServerRoutes());
  EXPECT_TRUE(missing.empty()) << "in docs/openapi.json but not in ApiRoutes():" << missing;
}

TEST_F(ApiDocs, DocumentedPathsEndWithTheirSlashAsClientsShouldWriteThem) {
  std::string wrong;
  for (const auto& [path, item] : doc_.at("paths").items()) {
    if (path != "/healthz" && path.back() != '/') wrong += "\n  " + path;
  }
  EXPECT_TRUE(wrong.empty()) << "paths written without their trailing '/':" << wrong;
}

// Pages for people (pay links) answer HTML, errors included; the document says so for each.
TEST_F(ApiDocs, PageRoutesAreDocumentedAsHtmlOnly) {
  std::string wrong;
  int pages = 0;
  for (const Route& r : ApiRoutes()) {
    if (!r.page) continue;
    ++pages;
    for (const auto& [path, item] : doc_.at("paths").items()) {
      if (Shape(path) != Shape(r.pattern)) continue;
      std::string method = r.method;
      for (char& c : method) c = static_cast<char>(c - 'A' + 'a');
      for (const auto& [status, answer] : item.at(method).at("responses").items()) {
        if (!answer.contains("content") || !answer["content"].contains("text/html") ||
            answer["content"].contains("application/json")) {
          wrong += "\n  " + r.method + " " + path + " " + status;
        }
      }
    }
  }
  EXPECT_EQ(pages, 2);
  EXPECT_TRUE(wrong.empty()) << "page answers not documented as text/html only:" << wrong;
}

TEST(ApiDocsShape, ParametersAndTrailingSlashesDoNotMatter) {
  EXPECT_EQ(Shape("/invoices/:id"), Shape("/invoices/{id}/"));
  EXPECT_EQ(Shape("/admin/orgs/:org/keys/:key"), Shape("/admin/orgs/{org_id}/keys/{key_id}/"));
  EXPECT_EQ(Shape("/healthz"), Shape("/healthz/"));
  EXPECT_NE(Shape("/invoices/:id"), Shape("/invoices/"));
  EXPECT_NE(Shape("/sessions/current"), Shape("/sessions/:id"));
}

}  // namespace
}  // namespace sima::server
