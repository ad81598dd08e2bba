// Khalti's hosted payment page: GET/POST /khalti/pay/ (the payment_url).
#include "context.h"
#include "html.h"
#include "khalti_flow.h"
#include "responses.h"
#include "sima/money.h"
#include "timefmt.h"
#include "url.h"

namespace sima::simulator {
namespace {

constexpr const char* kMpin = "1111";
constexpr const char* kOtp = "987654";

bool IsTestKhaltiId(const std::string& id) {
  return id.size() == 10 && id.compare(0, 9, "980000000") == 0 && id[9] >= '0' && id[9] <= '5';
}

std::string HostOf(const std::string& url) {
  if (auto parts = SplitUrl(url)) {
    const auto start = parts->origin.find("://");
    return parts->origin.substr(start + 3);
  }
  return url;
}

std::string Summary(const KhaltiPayment& p) {
  return "<dl><dt>Merchant</dt><dd>" + HtmlEscape(HostOf(p.website_url)) +
         "</dd><dt>Order</dt><dd>" + HtmlEscape(p.purchase_order_name) +
         "</dd><dt>Order ID</dt><dd><code>" + HtmlEscape(p.purchase_order_id) +
         "</code></dd><dt>Amount</dt><dd class=\"amount\">Rs. " +
         FormatRupees(p.amount_paisa, kRupeesForPeople) + "</dd></dl>\n";
}

std::string PaymentForm(const Simulator::Impl& sim, const KhaltiPayment& p,
                        const std::string& error, const std::string& khalti_id) {
  std::string b = Summary(p);
  if (!error.empty()) b += "<p class=\"error\" role=\"alert\">" + HtmlEscape(error) + "</p>\n";
  b += "<p class=\"hint\">Sandbox: use <code>9800000001</code> / <code>1111</code> / "
       "<code>987654</code> (Khalti ID / MPIN / OTP). Any ID from 9800000000 to 9800000005 "
       "works.</p>\n";
  b += "<form method=\"post\" action=\"" + HtmlEscape(sim.public_url) + "/khalti/pay/\">\n";
  b += "<input type=\"hidden\" name=\"pidx\" value=\"" + HtmlEscape(p.pidx) + "\">\n";
  b += "<label for=\"khalti_id\">Khalti ID (mobile number)</label>\n"
       "<input id=\"khalti_id\" name=\"khalti_id\" inputmode=\"numeric\" autocomplete=\"off\" "
       "maxlength=\"10\" required value=\"" +
       HtmlEscape(khalti_id) + "\">\n";
  b += "<label for=\"mpin\">Khalti MPIN</label>\n"
       "<input id=\"mpin\" name=\"mpin\" type=\"password\" inputmode=\"numeric\" "
       "autocomplete=\"off\" maxlength=\"6\" required>\n";
  b += "<label for=\"otp\">OTP (one-time code)</label>\n"
       "<input id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
       "maxlength=\"6\" required>\n";
  b += "<div class=\"actions\"><button class=\"primary\" type=\"submit\" name=\"action\" "
       "value=\"pay\">Pay Rs. " +
       FormatRupees(p.amount_paisa, kRupeesForPeople) +
       "</button><button class=\"secondary\" type=\"submit\" name=\"action\" value=\"cancel\" "
       "formnovalidate>Cancel</button></div>\n</form>\n";
  b += "<p class=\"note\">This link "
       "expires at " +
       HtmlEscape(FormatNepalTime(p.expires_at).substr(0, 10) + " " +
                  FormatNepalTime(p.expires_at).substr(11, 5)) +
       " Nepal time.</p>";
  return RenderPage(Brand::kKhalti, "Pay with Khalti", b);
}

// The page for a payment that can no longer be paid.
void SendFinal(httplib::Response& res, const KhaltiPayment& p) {
  if (p.status == "Expired") {
    return SendHtml(res, 410,
                    RenderPage(Brand::kKhalti, "Payment link expired",
                               Summary(p) + "<p class=\"error\" role=\"alert\">This payment "
                                            "link has expired. Please start again from the "
                                            "merchant's site.</p>"));
  }
  SendHtml(res, 409,
           RenderPage(Brand::kKhalti, "Payment already processed",
                      Summary(p) + "<p class=\"ok\">This payment is already <strong>" +
                          HtmlEscape(p.status) + "</strong>. You may close this window.</p>"));
}

void SendNotFound(httplib::Response& res) {
  SendHtml(res, 404,
           RenderPage(Brand::kKhalti, "Payment not found",
                      "<p class=\"error\" role=\"alert\">No payment has this pidx. The "
                      "simulator keeps payments in memory only: was it restarted?</p>"));
}

// After Pay or Cancel: the redirect, or (redirect_mode "never") a closing page.
void Finish(httplib::Response& res, const KhaltiPayment& p, const std::optional<std::string>& url) {
  if (url) return res.set_redirect(*url, 302);
  const bool paid = p.status != "User canceled";
  SendHtml(res, 200,
           RenderPage(Brand::kKhalti, paid ? "Payment received" : "Payment canceled",
                      Summary(p) + (paid ? "<p class=\"ok\" role=\"status\">Payment received. "
                                           "You may close this window.</p>"
                                         : "<p class=\"ok\" role=\"status\">Payment canceled. "
                                           "You may close this window.</p>")));
}

}  // namespace

void InstallKhaltiPages(Simulator::Impl& sim) {
  sim.server.Get(R"(/khalti/pay/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.khalti.find(req.get_param_value("pidx"));
    if (it == sim.khalti.end()) return SendNotFound(res);
    KhaltiRefresh(it->second, sim.Now());
    if (it->second.status != "Initiated") return SendFinal(res, it->second);
    SendHtml(res, 200, PaymentForm(sim, it->second, "", ""));
  });

  sim.server.Post(R"(/khalti/pay/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.khalti.find(req.get_param_value("pidx"));
    if (it == sim.khalti.end()) return SendNotFound(res);
    KhaltiPayment& p = it->second;
    KhaltiRefresh(p, sim.Now());
    if (p.status != "Initiated") return SendFinal(res, p);
    if (req.get_param_value("action") == "cancel") return Finish(res, p, KhaltiCancel(sim, p));
    const std::string id = req.get_param_value("khalti_id");
    if (!IsTestKhaltiId(id) || req.get_param_value("mpin") != kMpin ||
        req.get_param_value("otp") != kOtp) {
      return SendHtml(res, 400,
                      PaymentForm(sim, p,
                                  "Incorrect Khalti ID, MPIN or OTP. In the sandbox use a Khalti "
                                  "ID from 9800000000 to 9800000005, MPIN 1111 and OTP 987654.",
                                  id));
    }
    Finish(res, p, KhaltiPay(sim, p, id));
  });
}

}  // namespace sima::simulator
