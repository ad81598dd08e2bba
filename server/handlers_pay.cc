// Pay links (pay_link.h): GET /pay/{token}/ shows what the link pays for, POST starts the
// payment through StartPayment (the path init uses) and sends the payer to the gateway. Pages
// for people: HTML, never JSON or a trace. GET never starts anything (mail scanners fetch
// links); a used, expired, tampered or foreign link gets a page that says so.
#include "handlers.h"
#include "mail/reminder.h"
#include "pay_link.h"
#include "sima/money.h"
#include "sima/quote.h"
#include "sima/text.h"

namespace sima::server {
namespace {

Reply PageReply(int status, std::string_view title, const std::string& html) {
  return Reply{status, nullptr, {}, HtmlPage(title, html)};
}

Reply NotALink() {
  return PageReply(404, "Not a valid pay link",
                   "<p>This is not a valid pay link. Check that the whole link from the e-mail was "
                   "opened, or pay from your dashboard.</p>");
}

// What a link stands for now, or the page to show instead.
struct LinkState {
  std::optional<Reply> refusal;
  PayLink link;
  Org org;
  UpgradeQuote quote;
};

Expected<LinkState> Look(const Services& s, const Call& call) {
  LinkState out;
  const auto link = s.pay_links != nullptr ? s.pay_links->Read(call.params.at(0)) : std::nullopt;
  if (!link) {
    out.refusal = NotALink();
    return out;
  }
  out.link = *link;
  // Expiry is in the signed token: an expired link costs no database read.
  if (call.now >= link->expires) {
    out.refusal =
        PageReply(410, "Link expired",
                  "<p>This link has expired. Pay from your dashboard, or wait for the next "
                  "e-mail.</p>");
    return out;
  }
  auto org = s.store.GetOrg(link->org_id);
  if (!org) {
    if (org.error().kind != ErrorKind::kNotFound) return org.error();
    out.refusal = NotALink();
    return out;
  }
  out.org = org.value();
  auto sub = s.store.GetSubscription(link->org_id, call.now);
  if (!sub) return sub.error();
  if (!sub->end || *sub->end != link->period_end) {
    out.refusal =
        PageReply(410, "Already paid",
                  "<p>This period of <strong>" + HtmlEscape(out.org.name) +
                      "</strong>'s subscription has already been paid, or the subscription "
                      "changed since the e-mail was sent. Nothing is due from this link.</p>");
    return out;
  }
  auto quote = QuotePayment(s.catalog, sub.value(), link->plan, call.now, kMinimumPaymentPaisa);
  if (!quote) {
    out.refusal = PageReply(
        409, "Cannot pay now",
        "<p>This link cannot be paid now: " + HtmlEscape(quote.status().message()) + "</p>");
    return out;
  }
  out.quote = quote.value();
  return out;
}

std::string PlanName(const Catalog& catalog, const std::string& code) {
  const Plan* plan = catalog.FindPlan(code);
  return plan != nullptr ? plan->name : code;
}

std::string Rupees(int64_t paisa) { return "NPR " + FormatRupees(paisa, kRupeesForPeople); }

std::string PayButton(std::string_view provider, std::string_view label) {
  return "<form method=\"post\" action=\"\"><input type=\"hidden\" name=\"provider\" value=\"" +
         std::string(provider) + "\"><button type=\"submit\">" + std::string(label) +
         "</button></form>";
}

}  // namespace

// GET /pay/{token}/: the organization, plan, amount and period, and a button per gateway.
Expected<Reply> PayLinkPageHandler(const Services& s, const Call& call) {
  auto state = Look(s, call);
  if (!state) return state.error();
  if (state->refusal) return *state->refusal;
  const UpgradeQuote& q = state->quote;
  std::string html = "<p>For <strong>" + HtmlEscape(state->org.name) + "</strong></p><table>";
  html += "<tr><td>Plan</td><td>" + HtmlEscape(PlanName(s.catalog, q.to_plan)) + "</td></tr>";
  html += "<tr><td>Period</td><td>" + HtmlEscape(HumanTime(q.start)) + " to " +
          HtmlEscape(HumanTime(q.end)) + "</td></tr>";
  for (const QuoteLine& line : q.breakdown) {
    html += "<tr><td>" + HtmlEscape(line.label) + "</td><td>" + Rupees(line.paisa) + "</td></tr>";
  }
  html += "<tr><td><strong>Amount</strong></td><td><strong>" + Rupees(q.amount_paisa) +
          "</strong></td></tr></table>";
  if (s.gateways.For(Provider::kKhalti) != nullptr) html += PayButton("khalti", "Pay with Khalti");
  if (s.gateways.For(Provider::kEsewa) != nullptr) html += PayButton("esewa", "Pay with eSewa");
  html += "<p>No login needed. The amount is fixed by " + HtmlEscape(state->org.name) +
          "'s subscription; the link stops working once paid.</p>";
  return PageReply(200, "Pay for your plan", html);
}

// POST /pay/{token}/ provider=khalti|esewa: starts (or offers again) the payment of the plan
// the link names, priced by the server, and sends the payer to the gateway.
Expected<Reply> PayLinkPayHandler(const Services& s, const Call& call) {
  auto state = Look(s, call);
  if (!state) return state.error();
  if (state->refusal) return *state->refusal;
  const std::string provider = call.body.value("provider", "");
  if (provider != "khalti" && provider != "esewa") {
    return PageReply(400, "Choose a gateway",
                     "<p>Choose Khalti or eSewa on the previous page.</p>");
  }
  auto started = StartPayment(s, state->link.org_id,
                              provider == "esewa" ? Provider::kEsewa : Provider::kKhalti,
                              state->link.plan, call.now);
  if (!started) return started.error();
  const Checkout& next = started->next;
  const std::string name(started->gateway->name());
  if (next.form.empty()) {
    Reply reply = PageReply(
        303, "Continue to " + name,
        "<p><a href=\"" + HtmlEscape(next.url) + "\">Continue to " + HtmlEscape(name) + "</a></p>");
    reply.headers["Location"] = next.url;
    return reply;
  }
  std::string html = "<form id=\"pay\" method=\"post\" action=\"" + HtmlEscape(next.url) + "\">";
  for (const auto& [field, value] : next.form) {
    html += "<input type=\"hidden\" name=\"" + HtmlEscape(field) + "\" value=\"" +
            HtmlEscape(value) + "\">";
  }
  html += "<button type=\"submit\">Continue to " + HtmlEscape(name) +
          "</button></form><script>document.getElementById('pay').submit()</script>";
  return PageReply(200, "Continue to " + name, html);
}

}  // namespace sima::server
