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
#include "url.h"

namespace sima::sim {
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

bool is_uuid_text(const std::string& s) {
  for (char c : s) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return !s.empty();
}

void send_error_page(httplib::Response& res, const std::string& message,
                     const std::string& detail = "") {
  std::string b =
      "<p class=\"error\" role=\"alert\"><strong>" + html_escape(message) + "</strong></p>";
  if (!detail.empty()) b += "<p>" + html_escape(detail) + "</p>";
  b += "<p class=\"note\">The merchant sent an invalid payment request. Go back to the "
       "merchant's site and try again.</p>";
  send_html(res, 400, render_page(Brand::kEsewa, "Payment request rejected", b));
}

std::string summary(const EsewaPayment& p) {
  auto field = [&p](const char* name) {
    return p.form.contains(name) ? p.form[name].get<std::string>() : std::string();
  };
  return "<dl><dt>Merchant</dt><dd><code>" + html_escape(p.product_code) +
         "</code></dd><dt>Transaction</dt><dd><code>" + html_escape(p.transaction_uuid) +
         "</code></dd><dt>Amount</dt><dd>Rs. " + html_escape(field("amount")) +
         "</dd><dt>Tax</dt><dd>Rs. " + html_escape(field("tax_amount")) +
         "</dd><dt>Service charge</dt><dd>Rs. " + html_escape(field("product_service_charge")) +
         "</dd><dt>Delivery charge</dt><dd>Rs. " + html_escape(field("product_delivery_charge")) +
         "</dd><dt>Total</dt><dd class=\"amount\">Rs. " +
         sima::FormatRupees(p.total_paisa, {.thousands = true, .min_decimals = 2}) + "</dd></dl>\n";
}

std::string payment_page(const Simulator::Impl& sim, const EsewaPayment& p,
                         const std::string& error, const std::string& esewa_id) {
  std::string b = summary(p);
  if (!error.empty()) b += "<p class=\"error\" role=\"alert\">" + html_escape(error) + "</p>\n";
  b += "<p class=\"hint\">Sandbox: use <code>9806800001</code> / <code>Nepal@123</code> / "
       "<code>123456</code> (eSewa ID / password / token). Any ID from 9806800001 to 9806800005 "
       "works.</p>\n";
  b += "<form method=\"post\" action=\"" + html_escape(sim.public_url) + "/esewa/pay/\">\n";
  b += "<input type=\"hidden\" name=\"transaction_uuid\" value=\"" +
       html_escape(p.transaction_uuid) + "\">\n";
  b += "<label for=\"esewa_id\">eSewa ID (mobile number or email)</label>\n"
       "<input id=\"esewa_id\" name=\"esewa_id\" autocomplete=\"off\" required value=\"" +
       html_escape(esewa_id) + "\">\n";
  b += "<label for=\"password\">Password</label>\n"
       "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"off\" "
       "required>\n";
  b += "<label for=\"token\">Token (OTP)</label>\n"
       "<input id=\"token\" name=\"token\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
       "maxlength=\"6\" required>\n";
  b += "<div class=\"actions\"><button class=\"primary\" type=\"submit\" name=\"action\" "
       "value=\"pay\">Pay Rs. " +
       sima::FormatRupees(p.total_paisa, {.thousands = true, .min_decimals = 2}) +
       "</button><button class=\"secondary\" type=\"submit\" name=\"action\" value=\"cancel\" "
       "formnovalidate>Cancel</button></div>\n</form>\n";
  return render_page(Brand::kEsewa, "Pay with eSewa", b);
}

void send_final(httplib::Response& res, const EsewaPayment& p) {
  const bool expired = p.status == "NOT_FOUND";
  send_html(
      res, expired ? 410 : 409,
      render_page(Brand::kEsewa, expired ? "Session expired" : "Payment already processed",
                  summary(p) + (expired ? std::string("<p class=\"error\" role=\"alert\">This "
                                                      "payment session has expired. Please start "
                                                      "again from the merchant's site.</p>")
                                        : "<p class=\"ok\">This payment is already <strong>" +
                                              html_escape(p.status) +
                                              "</strong>. You may close this window.</p>")));
}

void finish(httplib::Response& res, const EsewaPayment& p, const EsewaOutcome& outcome) {
  if (outcome.redirect_url) return res.set_redirect(*outcome.redirect_url, 302);
  const bool paid = p.status == "COMPLETE";
  send_html(res, 200,
            render_page(Brand::kEsewa, paid ? "Payment received" : "Payment canceled",
                        summary(p) + "<p class=\"ok\" role=\"status\">" +
                            (paid ? "Payment received." : "Payment canceled.") +
                            " You may close this window.</p>"));
}

void submit_form(Simulator::Impl& sim, const httplib::Request& req, httplib::Response& res) {
  std::vector<std::string> missing;
  for (const char* f : kFields) {
    if (req.get_param_value(f).empty()) missing.push_back(f);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return send_error_page(res, "Required fields are missing or empty",
                           "Every field is required and must not be empty (use 0 for unused "
                           "charges). Missing: " +
                               list + ".");
  }
  auto field = [&req](const char* name) { return req.get_param_value(name); };
  if (field("product_code") != sim.options.esewa_product_code) {
    return send_error_page(
        res, "Invalid product code",
        "product_code \"" + field("product_code") + "\" is not a merchant here.");
  }
  const auto names = sima::crypto::SplitSignedFieldNames(field("signed_field_names"));
  for (const char* must : {"total_amount", "transaction_uuid", "product_code"}) {
    if (std::find(names.begin(), names.end(), must) == names.end()) {
      return send_error_page(res, "ES104 Invalid payload signature",
                             "signed_field_names must list total_amount,transaction_uuid,"
                             "product_code.");
    }
  }
  const auto message = sima::crypto::EsewaSigningMessage(
      names, [&req](std::string_view name) -> std::optional<std::string> {
        if (!req.has_param(std::string(name).c_str())) return std::nullopt;
        return req.get_param_value(std::string(name).c_str());
      });
  if (!message) {
    return send_error_page(res, "ES104 Invalid payload signature",
                           "signed_field_names names a field that was not posted.");
  }
  if (!sima::crypto::EsewaVerify(sim.options.esewa_secret_key, *message, field("signature"))) {
    return send_error_page(res, "ES104 Invalid payload signature");
  }
  long long parts = 0;
  for (const char* name :
       {"amount", "tax_amount", "product_service_charge", "product_delivery_charge"}) {
    auto value = sima::ParseRupees(field(name));
    if (!value) {
      return send_error_page(
          res, "Invalid amount",
          std::string(name) + " must be a number of rupees such as 100 or 100.50.");
    }
    parts += *value;
  }
  const auto total = sima::ParseRupees(field("total_amount"));
  if (!total || *total != parts) {
    return send_error_page(res, "Invalid total amount",
                           "total_amount must equal amount + tax_amount + product_service_charge "
                           "+ product_delivery_charge.");
  }
  if (*total <= 0)
    return send_error_page(res, "Invalid total amount", "The total must be positive.");
  if (!is_uuid_text(field("transaction_uuid"))) {
    return send_error_page(res, "Invalid transaction_uuid",
                           "Use letters, digits and hyphens (-) only.");
  }
  for (const char* name : {"success_url", "failure_url"}) {
    if (!is_valid_url(field(name))) {
      return send_error_page(res, std::string("Invalid ") + name, "It must be an http(s) URL.");
    }
  }
  std::lock_guard<std::mutex> lock(sim.mu);
  if (sim.esewa.count(field("transaction_uuid")) != 0) {
    return send_error_page(res, "Duplicate transaction_uuid",
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
  p.created_at = sim.now();
  auto& stored = sim.esewa[p.transaction_uuid] = std::move(p);
  send_html(res, 200, payment_page(sim, stored, "", ""));
}

void send_not_found(httplib::Response& res) {
  send_html(res, 404,
            render_page(Brand::kEsewa, "Payment not found",
                        "<p class=\"error\" role=\"alert\">No payment has this transaction_uuid. "
                        "The simulator keeps payments in memory only: was it restarted?</p>"));
}

bool is_test_esewa_id(const std::string& id) {
  return id.size() == 10 && id.compare(0, 9, "980680000") == 0 && id[9] >= '1' && id[9] <= '5';
}

}  // namespace

void install_esewa_form(Simulator::Impl& sim) {
  sim.server.Post(
      R"(/api/epay/main/v2/form/?)",
      [&sim](const httplib::Request& req, httplib::Response& res) { submit_form(sim, req, res); });

  sim.server.Get(R"(/esewa/pay/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.esewa.find(req.get_param_value("transaction_uuid"));
    if (it == sim.esewa.end()) return send_not_found(res);
    esewa_refresh(sim, it->second);
    if (it->second.status != "PENDING") return send_final(res, it->second);
    send_html(res, 200, payment_page(sim, it->second, "", ""));
  });

  sim.server.Post(R"(/esewa/pay/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.esewa.find(req.get_param_value("transaction_uuid"));
    if (it == sim.esewa.end()) return send_not_found(res);
    EsewaPayment& p = it->second;
    esewa_refresh(sim, p);
    if (p.status != "PENDING") return send_final(res, p);
    if (req.get_param_value("action") == "cancel") return finish(res, p, esewa_cancel(sim, p));
    const std::string id = req.get_param_value("esewa_id");
    if (!is_test_esewa_id(id) || req.get_param_value("password") != "Nepal@123" ||
        req.get_param_value("token") != "123456") {
      return send_html(res, 400,
                       payment_page(sim, p,
                                    "Incorrect eSewa ID, password or token. In the test "
                                    "environment use an eSewa ID from 9806800001 to 9806800005, "
                                    "password Nepal@123 and token 123456.",
                                    id));
    }
    finish(res, p, esewa_pay(sim, p, id));
  });
}

}  // namespace sima::sim
