// Khalti's hosted payment page: GET/POST /khalti/pay/ (the payment_url).
#include "context.h"
#include "html.h"
#include "khalti_flow.h"
#include "responses.h"
#include "sima/money.h"
#include "timefmt.h"
#include "url.h"

namespace sima::sim {
namespace {

constexpr const char* kMpin = "1111";
constexpr const char* kOtp = "987654";

bool is_test_khalti_id(const std::string& id) {
  return id.size() == 10 && id.compare(0, 9, "980000000") == 0 && id[9] >= '0' && id[9] <= '5';
}

std::string host_of(const std::string& url) {
  if (auto parts = split_url(url)) {
    const auto start = parts->origin.find("://");
    return parts->origin.substr(start + 3);
  }
  return url;
}

std::string summary(const KhaltiPayment& p) {
  return "<dl><dt>Merchant</dt><dd>" + html_escape(host_of(p.website_url)) +
         "</dd><dt>Order</dt><dd>" + html_escape(p.purchase_order_name) +
         "</dd><dt>Order ID</dt><dd><code>" + html_escape(p.purchase_order_id) +
         "</code></dd><dt>Amount</dt><dd class=\"amount\">Rs. " +
         sima::FormatRupees(p.amount, {.thousands = true, .min_decimals = 2}) + "</dd></dl>\n";
}

std::string payment_form(const Simulator::Impl& sim, const KhaltiPayment& p,
                         const std::string& error, const std::string& khalti_id) {
  std::string b = summary(p);
  if (!error.empty()) b += "<p class=\"error\" role=\"alert\">" + html_escape(error) + "</p>\n";
  b += "<p class=\"hint\">Sandbox: use <code>9800000001</code> / <code>1111</code> / "
       "<code>987654</code> (Khalti ID / MPIN / OTP). Any ID from 9800000000 to 9800000005 "
       "works.</p>\n";
  b += "<form method=\"post\" action=\"" + html_escape(sim.public_url) + "/khalti/pay/\">\n";
  b += "<input type=\"hidden\" name=\"pidx\" value=\"" + html_escape(p.pidx) + "\">\n";
  b += "<label for=\"khalti_id\">Khalti ID (mobile number)</label>\n"
       "<input id=\"khalti_id\" name=\"khalti_id\" inputmode=\"numeric\" autocomplete=\"off\" "
       "maxlength=\"10\" required value=\"" +
       html_escape(khalti_id) + "\">\n";
  b += "<label for=\"mpin\">Khalti MPIN</label>\n"
       "<input id=\"mpin\" name=\"mpin\" type=\"password\" inputmode=\"numeric\" "
       "autocomplete=\"off\" maxlength=\"6\" required>\n";
  b += "<label for=\"otp\">OTP (one-time code)</label>\n"
       "<input id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
       "maxlength=\"6\" required>\n";
  b += "<div class=\"actions\"><button class=\"primary\" type=\"submit\" name=\"action\" "
       "value=\"pay\">Pay Rs. " +
       sima::FormatRupees(p.amount, {.thousands = true, .min_decimals = 2}) +
       "</button><button class=\"secondary\" type=\"submit\" name=\"action\" value=\"cancel\" "
       "formnovalidate>Cancel</button></div>\n</form>\n";
  b += "<p class=\"note\">This link "
       "expires at " +
       html_escape(format_npt(p.expires_at).substr(0, 10) + " " +
                   format_npt(p.expires_at).substr(11, 5)) +
       " Nepal time.</p>";
  return render_page(Brand::kKhalti, "Pay with Khalti", b);
}

// The page for a payment that can no longer be paid.
void send_final(httplib::Response& res, const KhaltiPayment& p) {
  if (p.status == "Expired") {
    return send_html(res, 410,
                     render_page(Brand::kKhalti, "Payment link expired",
                                 summary(p) + "<p class=\"error\" role=\"alert\">This payment "
                                              "link has expired. Please start again from the "
                                              "merchant's site.</p>"));
  }
  send_html(res, 409,
            render_page(Brand::kKhalti, "Payment already processed",
                        summary(p) + "<p class=\"ok\">This payment is already <strong>" +
                            html_escape(p.status) + "</strong>. You may close this window.</p>"));
}

void send_not_found(httplib::Response& res) {
  send_html(res, 404,
            render_page(Brand::kKhalti, "Payment not found",
                        "<p class=\"error\" role=\"alert\">No payment has this pidx. The "
                        "simulator keeps payments in memory only: was it restarted?</p>"));
}

// After Pay or Cancel: the redirect, or (redirect_mode "never") a closing page.
void finish(httplib::Response& res, const KhaltiPayment& p, const std::optional<std::string>& url) {
  if (url) return res.set_redirect(*url, 302);
  const bool paid = p.status != "User canceled";
  send_html(res, 200,
            render_page(Brand::kKhalti, paid ? "Payment received" : "Payment canceled",
                        summary(p) + (paid ? "<p class=\"ok\" role=\"status\">Payment received. "
                                             "You may close this window.</p>"
                                           : "<p class=\"ok\" role=\"status\">Payment canceled. "
                                             "You may close this window.</p>")));
}

}  // namespace

void install_khalti_pages(Simulator::Impl& sim) {
  sim.server.Get(R"(/khalti/pay/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.khalti.find(req.get_param_value("pidx"));
    if (it == sim.khalti.end()) return send_not_found(res);
    khalti_refresh(it->second, sim.now());
    if (it->second.status != "Initiated") return send_final(res, it->second);
    send_html(res, 200, payment_form(sim, it->second, "", ""));
  });

  sim.server.Post(R"(/khalti/pay/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.khalti.find(req.get_param_value("pidx"));
    if (it == sim.khalti.end()) return send_not_found(res);
    KhaltiPayment& p = it->second;
    khalti_refresh(p, sim.now());
    if (p.status != "Initiated") return send_final(res, p);
    if (req.get_param_value("action") == "cancel") return finish(res, p, khalti_cancel(sim, p));
    const std::string id = req.get_param_value("khalti_id");
    if (!is_test_khalti_id(id) || req.get_param_value("mpin") != kMpin ||
        req.get_param_value("otp") != kOtp) {
      return send_html(res, 400,
                       payment_form(sim, p,
                                    "Incorrect Khalti ID, MPIN or OTP. In the sandbox use a Khalti "
                                    "ID from 9800000000 to 9800000005, MPIN 1111 and OTP 987654.",
                                    id));
    }
    finish(res, p, khalti_pay(sim, p, id));
  });
}

}  // namespace sima::sim
