// eSewa ePay v2 browser side: the form endpoint POST /api/epay/main/v2/form
// (spec §3.2, §3.3) and the hosted payment page /esewa/pay/.
#include <algorithm>
#include <array>
#include <sstream>

#include "context.h"
#include "esewa_flow.h"
#include "html.h"
#include "responses.h"
#include "sima/esewa_signature.h"
#include "sima/money.h"
#include "sima/text.h"
#include "url.h"

namespace sima::simulator {
namespace {

constexpr std::array<const char*, 11> kFields = {"amount",
                                                 "tax_amount",
                                                 "total_amount",
                                                 "transaction_uuid",
                                                 "product_code",
                                                 "product_service_charge",
                                                 "product_delivery_charge",
                                                 "success_url",
                                                 "failure_url",
                                                 "signed_field_names",
                                                 "signature"};

bool IsUuidText(const std::string& s) {
  for (char c : s) {
    if (!IsAsciiAlnum(c) && c != '-') return false;
  }
  return !s.empty();
}

void SendErrorPage(httplib::Response& res, const std::string& message,
                   const std::string& detail = "") {
  std::string b =
      "<p class=\"error\" role=\"alert\"><strong>" + HtmlEscape(message) + "</strong></p>";
  if (!detail.empty()) b += "<p>" + HtmlEscape(detail) + "</p>";
  b += "<p class=\"note\">The merchant sent an invalid payment request. Go back to the "
       "merchant's site and try again.</p>";
  SendHtml(res, 400, RenderPage(Brand::kEsewa, "Payment request rejected", b));
}

std::string Summary(const EsewaPayment& p) {
  auto field = [&p](const char* name) {
    return p.form.contains(name) ? p.form[name].get<std::string>() : std::string();
  };
  return "<dl><dt>Merchant</dt><dd><code>" + HtmlEscape(p.product_code) +
         "</code></dd><dt>Transaction</dt><dd><code>" + HtmlEscape(p.transaction_uuid) +
         "</code></dd><dt>Amount</dt><dd>Rs. " + HtmlEscape(field("amount")) +
         "</dd><dt>Tax</dt><dd>Rs. " + HtmlEscape(field("tax_amount")) +
         "</dd><dt>Service charge</dt><dd>Rs. " + HtmlEscape(field("product_service_charge")) +
         "</dd><dt>Delivery charge</dt><dd>Rs. " + HtmlEscape(field("product_delivery_charge")) +
         "</dd><dt>Total</dt><dd class=\"amount\">Rs. " +
         FormatRupees(p.total_paisa, kRupeesForPeople) + "</dd></dl>\n";
}

std::string PaymentPage(const Simulator::Impl& sim, const EsewaPayment& p, const std::string& error,
                        const std::string& esewa_id) {
  std::string b = Summary(p);
  if (!error.empty()) b += "<p class=\"error\" role=\"alert\">" + HtmlEscape(error) + "</p>\n";
  b += "<p class=\"hint\">Sandbox: use <code>9806800001</code> / <code>Nepal@123</code> / "
       "<code>123456</code> (eSewa ID / password / token). Any ID from 9806800001 to 9806800005 "
       "works.</p>\n";
  b += "<form method=\"post\" action=\"" + HtmlEscape(sim.public_url) + "/esewa/pay/\">\n";
  b += "<input type=\"hidden\" name=\"transaction_uuid\" value=\"" +
       HtmlEscape(p.transaction_uuid) + "\">\n";
  b += "<label for=\"esewa_id\">eSewa ID (mobile number or email)</label>\n"
       "<input id=\"esewa_id\" name=\"esewa_id\" autocomplete=\"off\" required value=\"" +
       HtmlEscape(esewa_id) + "\">\n";
  b += "<label for=\"password\">Password</label>\n"
       "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"off\" "
       "required>\n";
  b += "<label for=\"token\">Token (OTP)</label>\n"
       "<input id=\"token\" name=\"token\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
       "maxlength=\"6\" required>\n";
  b += "<div class=\"actions\"><button class=\"primary\" type=\"submit\" name=\"action\" "
       "value=\"pay\">Pay Rs. " +
       FormatRupees(p.total_paisa, kRupeesForPeople) +
       "</button><button class=\"secondary\" type=\"submit\" name=\"action\" value=\"cancel\" "
       "formnovalidate>Cancel</button></div>\n</form>\n";
  return RenderPage(Brand::kEsewa, "Pay with eSewa", b);
}

void SendFinal(httplib::Response& res, const EsewaPayment& p) {
  const bool expired = p.status == "NOT_FOUND";
  SendHtml(
      res, expired ? 410 : 409,
      RenderPage(Brand::kEsewa, expired ? "Session expired" : "Payment already processed",
                 Summary(p) + (expired ? std::string("<p class=\"error\" role=\"alert\">This "
                                                     "payment session has expired. Please start "
                                                     "again from the merchant's site.</p>")
                                       : "<p class=\"ok\">This payment is already <strong>" +
                                             HtmlEscape(p.status) +
                                             "</strong>. You may close this window.</p>")));
}

void Finish(httplib::Response& res, const EsewaPayment& p, const EsewaOutcome& outcome) {
  if (outcome.redirect_url) return res.set_redirect(*outcome.redirect_url, 302);
  const bool paid = p.status == "COMPLETE";
  SendHtml(res, 200,
           RenderPage(Brand::kEsewa, paid ? "Payment received" : "Payment canceled",
                      Summary(p) + "<p class=\"ok\" role=\"status\">" +
                          (paid ? "Payment received." : "Payment canceled.") +
                          " You may close this window.</p>"));
}

void SubmitForm(Simulator::Impl& sim, const httplib::Request& req, httplib::Response& res) {
  std::vector<std::string> missing;
  for (const char* f : kFields) {
    if (req.get_param_value(f).empty()) missing.push_back(f);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return SendErrorPage(res, "Required fields are missing or empty",
                         "Every field is required and must not be empty (use 0 for unused "
                         "charges). Missing: " +
                             list + ".");
  }
  auto field = [&req](const char* name) { return req.get_param_value(name); };
  if (field("product_code") != sim.options.esewa_product_code) {
    return SendErrorPage(res, "Invalid product code",
                         "product_code \"" + field("product_code") + "\" is not a merchant here.");
  }
  const auto names = crypto::SplitSignedFieldNames(field("signed_field_names"));
  for (const char* must : {"total_amount", "transaction_uuid", "product_code"}) {
    if (std::find(names.begin(), names.end(), must) == names.end()) {
      return SendErrorPage(res, "ES104 Invalid payload signature",
                           "signed_field_names must list total_amount,transaction_uuid,"
                           "product_code.");
    }
  }
  const auto message = crypto::EsewaSigningMessage(
      names, [&req](std::string_view name) -> std::optional<std::string> {
        if (!req.has_param(std::string(name).c_str())) return std::nullopt;
        return req.get_param_value(std::string(name).c_str());
      });
  if (!message) {
    return SendErrorPage(res, "ES104 Invalid payload signature",
                         "signed_field_names names a field that was not posted.");
  }
  if (!crypto::EsewaVerify(sim.options.esewa_secret_key, *message, field("signature"))) {
    return SendErrorPage(res, "ES104 Invalid payload signature");
  }
  int64_t parts = 0;
  for (const char* name :
       {"amount", "tax_amount", "product_service_charge", "product_delivery_charge"}) {
    auto value = ParseRupees(field(name));
    if (!value) {
      return SendErrorPage(
          res, "Invalid amount",
          std::string(name) + " must be a number of rupees such as 100 or 100.50.");
    }
    parts += *value;
  }
  const auto total = ParseRupees(field("total_amount"));
  if (!total || *total != parts) {
    return SendErrorPage(res, "Invalid total amount",
                         "total_amount must equal amount + tax_amount + product_service_charge "
                         "+ product_delivery_charge.");
  }
  if (*total <= 0) return SendErrorPage(res, "Invalid total amount", "The total must be positive.");
  if (!IsUuidText(field("transaction_uuid"))) {
    return SendErrorPage(res, "Invalid transaction_uuid",
                         "Use letters, digits and hyphens (-) only.");
  }
  for (const char* name : {"success_url", "failure_url"}) {
    if (!IsValidUrl(field(name))) {
      return SendErrorPage(res, std::string("Invalid ") + name, "It must be an http(s) URL.");
    }
  }
  std::lock_guard<std::mutex> lock(sim.mu);
  if (sim.esewa.count(field("transaction_uuid")) != 0) {
    return SendErrorPage(res, "Duplicate transaction_uuid",
                         "This transaction_uuid has already been used. Every payment request "
                         "needs a new one.");
  }
  EsewaPayment p;
  p.transaction_uuid = field("transaction_uuid");
  p.product_code = field("product_code");
  p.total_paisa = *total;
  for (const char* f : kFields) p.form[f] = field(f);
  p.success_url = field("success_url");
  p.failure_url = field("failure_url");
  p.created_at = sim.Now();
  auto& stored = sim.esewa[p.transaction_uuid] = std::move(p);
  SendHtml(res, 200, PaymentPage(sim, stored, "", ""));
}

void SendNotFound(httplib::Response& res) {
  SendHtml(res, 404,
           RenderPage(Brand::kEsewa, "Payment not found",
                      "<p class=\"error\" role=\"alert\">No payment has this transaction_uuid. "
                      "The simulator keeps payments in memory only: was it restarted?</p>"));
}

bool IsTestEsewaId(const std::string& id) {
  return id.size() == 10 && id.compare(0, 9, "980680000") == 0 && id[9] >= '1' && id[9] <= '5';
}

}  // namespace

void InstallEsewaForm(Simulator::Impl& sim) {
  sim.server.Post(
      R"(/api/epay/main/v2/form/?)",
      [&sim](const httplib::Request& req, httplib::Response& res) { SubmitForm(sim, req, res); });

  sim.server.Get(R"(/esewa/pay/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.esewa.find(req.get_param_value("transaction_uuid"));
    if (it == sim.esewa.end()) return SendNotFound(res);
    EsewaRefresh(sim, it->second);
    if (it->second.status != "PENDING") return SendFinal(res, it->second);
    SendHtml(res, 200, PaymentPage(sim, it->second, "", ""));
  });

  sim.server.Post(R"(/esewa/pay/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.esewa.find(req.get_param_value("transaction_uuid"));
    if (it == sim.esewa.end()) return SendNotFound(res);
    EsewaPayment& p = it->second;
    EsewaRefresh(sim, p);
    if (p.status != "PENDING") return SendFinal(res, p);
    if (req.get_param_value("action") == "cancel") return Finish(res, p, EsewaCancel(sim, p));
    const std::string id = req.get_param_value("esewa_id");
    if (!IsTestEsewaId(id) || req.get_param_value("password") != "Nepal@123" ||
        req.get_param_value("token") != "123456") {
      return SendHtml(res, 400,
                      PaymentPage(sim, p,
                                  "Incorrect eSewa ID, password or token. In the test "
                                  "environment use an eSewa ID from 9806800001 to 9806800005, "
                                  "password Nepal@123 and token 123456.",
                                  id));
    }
    Finish(res, p, EsewaPay(sim, p, id));
  });
}

}  // namespace sima::simulator
