// Payments: init, verify and the redirect targets of every gateway, and reading payments
// (docs/api.md, "Payments — Khalti", "Payments — eSewa"). One handler per step serves every
// gateway; routes.cc binds it to a provider, and the gateway's adapter (gateway_adapters.h)
// does the gateway's part. Confirmations share ConfirmPayment / ConfirmForRedirect
// (payment_flow.h); every decision is sdk/'s, applied by the store in one durable transaction.
#include <charconv>
#include <iostream>
#include <mutex>

#include "events.h"
#include "gateway_adapters.h"
#include "handlers.h"
#include "paging.h"
#include "payment_flow.h"
#include "resource_json.h"
#include "sima/crypto.h"
#include "sima/json.h"
#include "sima/money.h"
#include "sima/text.h"
#include "validate.h"

namespace sima::server {
namespace {

// How often the count of rejected anonymous calls is logged at most.
constexpr std::chrono::seconds kJunkLogEvery{10};

// Junk on anonymous payment paths (bad signatures, unknown refs and pidx, the old
// ?payment_id=): counted and logged at most every kJunkLogEvery, never written to the database.
void NoteRejected(std::string_view path, std::string_view why, Time now) {
  static std::mutex mu;
  static int64_t count = 0;
  static Time last{};
  std::lock_guard lock(mu);
  ++count;
  if (now - last < kJunkLogEvery) return;
  std::cerr << Json{{"msg", "payments: rejected anonymous calls"},
                    {"count", count},
                    {"last_path", path},
                    {"last_reason", why}}
                   .dump(-1, ' ', false, Json::error_handler_t::replace)
            << std::endl;
  count = 0;
  last = now;
}

// Payment limits from the settings and the timing policy.
PaymentLimits Limits(const Services& s) {
  PaymentLimits l;
  l.open_max = s.config.open_payments_max;
  l.per_minute = s.config.init_per_minute;
  l.timing = s.timing;
  return l;
}

// "Khalti", "eSewa"; the provider's code when the gateway is off.
std::string GatewayName(const PaymentGateway* gateway, Provider provider) {
  return gateway != nullptr ? std::string(gateway->name()) : std::string(to_string(provider));
}

Error GatewayOff(Provider provider) {
  return Error{ErrorKind::kGatewayError,
               "the " + std::string(to_string(provider)) + " gateway is not configured"};
}

// The answer to verify for a payment as stored (decided, or pending without a gateway failure).
Expected<Reply> DecisionReply(const Services& s, const PaymentState& state, Time now) {
  const Payment& p = state.payment;
  switch (p.status) {
    case PaymentStatus::kSuccess: {
      Json body = {{"success", true},
                   {"payment_id", p.id},
                   {"status", "SUCCESS"},
                   {"plan", p.plan},
                   {"subscription", SubscriptionToJson(s.catalog, state.subscription, now)}};
      if (!p.reason.empty()) body["reason"] = p.reason;  // plan_conflict: refund due
      return Reply{200, std::move(body)};
    }
    case PaymentStatus::kFailed:
    case PaymentStatus::kRefunded: {
      Error e{ErrorKind::kPaymentFailed,
              "the payment did not go through" + (p.reason.empty() ? "" : ": " + p.reason)};
      e.extra = {{"success", false},
                 {"payment_id", p.id},
                 {"status", to_string(p.status)},
                 {"reason", p.reason}};
      return e;
    }
    case PaymentStatus::kPending: break;
  }
  const int64_t retry_after = s.timing.retry_after.count();
  return Reply{202,
               {{"success", false},
                {"payment_id", p.id},
                {"status", "PENDING"},
                {"retry_after", retry_after}},
               {{"Retry-After", std::to_string(retry_after)}}};
}

// The gateway could not be asked: nothing was decided, the payment stays PENDING.
Error GatewayFailure(const Services& s, const PaymentGateway& gateway, const Confirmation& c) {
  const bool timeout = c.failure == CallFailure::kTimeout || c.failure == CallFailure::kUnreachable;
  const std::string name(gateway.name());
  Error e{timeout ? ErrorKind::kGatewayTimeout : ErrorKind::kGatewayError,
          (timeout ? name + " could not be reached; the payment is still pending: "
                   : name + " answered with an error; the payment is still pending: ") +
              c.detail};
  e.extra = {{"success", false},
             {"payment_id", c.state.payment.id},
             {"status", "PENDING"},
             {"retry_after", s.timing.retry_after.count()}};
  return e;
}

// 302 to the web app's success or failure page.
Reply Redirect(const Services& s, const std::string& page, const std::string& query) {
  const std::string url = std::string(TrimEnd(s.config.app_url, "/")) + "/" + page + "?" + query;
  return Reply{302, {{"location", url}}, {{"Location", url}}};
}

// The app's failure page for a redirect that names no payment of ours.
Reply UnknownPayment(const Services& s, const std::string& reason) {
  return Redirect(s, "failure.html", "status=UNKNOWN&reason=" + reason);
}

Reply FailurePage(const Services& s, const Payment& p) {
  return Redirect(s, "failure.html",
                  "payment_id=" + std::to_string(p.id) + "&status=" +
                      std::string(to_string(p.status)) + "&reason=" + PercentEncode(p.reason));
}

Reply RedirectFor(const Services& s, const Payment& p) {
  const std::string id = "payment_id=" + std::to_string(p.id);
  switch (p.status) {
    case PaymentStatus::kSuccess: return Redirect(s, "success.html", id + "&status=SUCCESS");
    case PaymentStatus::kPending: return Redirect(s, "success.html", id + "&status=PENDING");
    case PaymentStatus::kFailed:
    case PaymentStatus::kRefunded: break;
  }
  return FailurePage(s, p);
}

// The failure page for a payment as stored (the failure target, which eSewa also uses for a
// payment still pending): success only if it was paid after all.
Reply FailureRedirectFor(const Services& s, const Payment& p) {
  if (p.status == PaymentStatus::kSuccess) return RedirectFor(s, p);
  return FailurePage(s, p);
}

// Where `provider` sends the payer of `p` back: its routes under /billing/{slug}/.
ReturnUrls ReturnUrlsFor(const Services& s, Provider provider, const Payment& p) {
  const std::string base =
      std::string(TrimEnd(s.config.public_url, "/")) + "/billing/" + GatewaySlug(provider);
  return ReturnUrls{base + "/callback/", base + "/failure/?ref=" + p.ref, s.config.app_url};
}

// The answer to init, for a new payment (201) or an open one offered again (200): the payment
// and the browser's next step (a page to go to, or a signed form to post).
Json StartedBody(const StartedPayment& started) {
  const Payment& p = started.payment;
  const PaymentGateway& gateway = *started.gateway;
  Json body = {{"payment_id", p.id},
               {"ref", p.ref},
               {"provider", to_string(p.provider)},
               {"plan", p.plan},
               {"amount", WholeRupees(p.amount_paisa)},
               {"amount_paisa", p.amount_paisa},
               {"amount_breakdown", BreakdownToJson(p.breakdown)},
               {"status", to_string(p.status)}};
  const Checkout& next = started.next;
  if (next.form.empty()) {
    body["payment_url"] = next.url;
    body["expires_at"] = OptTime(p.expires_at);
    if (!gateway.reference_field().empty()) {
      body[std::string(gateway.reference_field())] = p.reference_id.value_or("");
    }
    return body;
  }
  Json fields = Json::object();
  for (const auto& [name, value] : next.form) fields[name] = value;
  body["form_url"] = next.url;
  body["fields"] = std::move(fields);
  return body;
}

// Store::OpenPayment for an init. An open payment it offers again is first asked about at its
// gateway (at most once per payment per anonymous_lookup_window, cause init): one the payer
// cancelled or paid meanwhile is not offered again, and another is opened instead.
Expected<OpenedPayment> OpenOrOfferAgain(const Services& s, const std::string& org_id,
                                         const PaymentGateway& gateway, const std::string& plan,
                                         const std::string& nonce, Time now) {
  for (int attempt = 0;; ++attempt) {
    auto opened = s.store.OpenPayment(org_id, gateway.provider(), plan, nonce,
                                      s.timing.InitiateDeadline(now), Limits(s), now);
    if (!opened || !opened->reused || attempt == 2) return opened;
    auto after = ConfirmForRedirect(s.store, &gateway, s.timing, opened->payment, now, false,
                                    PaymentCause::kInit, s.changes);
    if (!after) return after.error();
    if (after->status == PaymentStatus::kPending) return OpenedPayment{after.value(), true};
  }
}

// POST /billing/{slug}/init/ {"plan"}.
Expected<Reply> InitPayment(const Services& s, const Call& call, Provider provider) {
  if (auto r = OnlyFields(call.body, {"plan"}); !r) return r.error();
  auto plan = StringField(call.body, "plan", true, 64, TextKind::kKey);
  if (!plan) return plan.error();
  auto started = StartPayment(s, call.org_id(), provider, *plan.value(), call.now);
  if (!started) return started.error();
  return Reply{started->reused ? 200 : 201, StartedBody(started.value())};
}

// POST /billing/{slug}/verify/ {"payment_id"} (Khalti also takes "pidx" or "token"): the
// payment of this organization, the same answer again once decided, else a look-up through
// the gateway's adapter (cause verify).
Expected<Reply> VerifyPayment(const Services& s, const Call& call, Provider provider) {
  const PaymentGateway* gateway = s.gateways.For(provider);
  // The names the gateway's reference may be given under, checked against the payment's.
  std::vector<std::string> names;
  if (gateway != nullptr && !gateway->reference_field().empty()) {
    names.emplace_back(gateway->reference_field());
    for (std::string& alias : gateway->reference_aliases()) names.push_back(std::move(alias));
  }
  std::vector<std::string_view> allowed{"payment_id"};
  allowed.insert(allowed.end(), names.begin(), names.end());
  if (auto r = OnlyFields(call.body, allowed); !r) return r.error();
  const auto id_field = call.body.find("payment_id");
  if (id_field == call.body.end()) {
    return Error::Validation("payment_id", "payment_id is required");
  }
  const auto id = ParsePaymentId(*id_field);
  if (!id) return Error::Validation("payment_id", "payment_id must be a positive integer");
  std::optional<std::string> given;
  std::string given_as;
  for (const std::string& name : names) {
    auto value = StringField(call.body, name, false, 200, TextKind::kKey);
    if (!value) return value.error();
    if (!value.value()) continue;
    if (!given) {
      given = value.value();
      given_as = name;
    } else if (*given != *value.value()) {
      return Error::Validation(name, name + " and " + given_as + " name different payments");
    }
  }

  auto state = s.store.GetPayment(call.org_id(), *id, call.now);
  if (!state) return state.error();
  const Payment& payment = state->payment;
  if (payment.provider != provider) {
    const std::string name = GatewayName(gateway, provider);
    const bool vowel = std::string_view("aeiouAEIOU").find(name.front()) != std::string::npos;
    return Error::Validation(
        "payment_id", "this is not " + std::string(vowel ? "an " : "a ") + name + " payment");
  }
  if (given && (!payment.reference_id || *given != *payment.reference_id)) {
    return Error::Validation(given_as, "this " + std::string(gateway->reference_field()) +
                                           " does not belong to the payment");
  }
  // Decided: the same answer, without asking the gateway again.
  if (payment.status != PaymentStatus::kPending) return DecisionReply(s, state.value(), call.now);
  if (gateway == nullptr) return GatewayOff(provider);
  auto confirmed =
      ConfirmPayment(s.store, *gateway, payment, PaymentCause::kVerify, call.now, false, s.changes);
  if (!confirmed) return confirmed.error();
  if (confirmed->failure != CallFailure::kNone && payment.reference_id) {
    return GatewayFailure(s, *gateway, confirmed.value());
  }
  return DecisionReply(s, confirmed->state, call.now);
}

// GET /billing/{slug}/callback/?... (the gateway's redirect back). The adapter reads which
// payment it names and what it proves; the payment is then looked up at the gateway exactly as
// verify does, at most once per payment per anonymous_lookup_window. A paid claim for a payment
// we had FAILED asks the gateway again (a late payment activates, flagged for review). A
// redirect that proves nothing, or names no payment of ours, goes to the generic failure page
// without any look-up; one claiming a real payment is on that payment's audit trail (at most
// once per rejected_audit_window).
Expected<Reply> ReturnFromGateway(const Services& s, const Call& call, Provider provider) {
  const std::string slug = GatewaySlug(provider);
  const std::string path = "/billing/" + slug + "/callback/";
  const auto rejected = [&](const std::string& reason, std::string_view why) {
    NoteRejected(path, why, call.now);
    return UnknownPayment(s, reason);
  };
  const PaymentGateway* gateway = s.gateways.For(provider);
  if (gateway == nullptr) return rejected("unknown_payment", "gateway off");
  const ReturnVisit visit = gateway->ReadReturn(call.query);
  if (!visit.rejected.empty()) {
    if (visit.claimed_reference) {
      if (auto found = s.store.FindPaymentByReference(provider, *visit.claimed_reference)) {
        if (auto r = s.store.AuditPaymentOnce(found->id, PaymentCause::kCallback,
                                              "rejected " + slug + " data: " + visit.why, false,
                                              s.timing.rejected_audit_window, call.now);
            !r) {
          return r.error();
        }
      } else if (found.error().kind != ErrorKind::kNotFound) {
        return found.error();
      }
    }
    return rejected(visit.rejected, visit.why);
  }
  auto found = s.store.FindPaymentByReference(provider, visit.reference);
  if (!found) {
    if (found.error().kind == ErrorKind::kNotFound) {
      return rejected("unknown_payment", "unknown reference");
    }
    return found.error();
  }
  const Payment& payment = found.value();
  if (visit.claimed_paisa && *visit.claimed_paisa != payment.amount_paisa) {
    // Signed by the gateway but not for the amount we asked: it activates nothing by itself;
    // the look-up below (with the stored amount) decides, and a human looks.
    if (auto r = s.store.AuditPayment(
            payment.id, PaymentCause::kCallback,
            slug + " data total_amount " + std::to_string(*visit.claimed_paisa) +
                " paisa != stored " + std::to_string(payment.amount_paisa) + ": amount_mismatch",
            true, call.now);
        !r) {
      return r.error();
    }
  }
  auto after = ConfirmForRedirect(s.store, gateway, s.timing, payment, call.now, visit.paid_claim,
                                  PaymentCause::kCallback, s.changes);
  if (!after) return after.error();
  // A gateway failure leaves it PENDING: the success page says so and polls.
  return RedirectFor(s, after.value());
}

// GET /billing/{slug}/failure/?ref=... (eSewa's failure_url: failed, cancelled or still
// pending; it carries no signed data). The payment is named by its unguessable ref; the old
// sequential ?payment_id= and an unknown ref get the generic failure page, with no look-up and
// nothing about any payment. The gateway decides (the user may have paid after all), at most
// once per payment per anonymous_lookup_window; eSewa's NOT_FOUND within the payer's session
// keeps the payment PENDING.
Expected<Reply> FailureTarget(const Services& s, const Call& call, Provider provider) {
  const std::string path = "/billing/" + GatewaySlug(provider) + "/failure/";
  const auto unknown = [&](std::string_view why) {
    NoteRejected(path, why, call.now);
    return UnknownPayment(s, "unknown_payment");
  };
  const auto given = call.query.find("ref");
  if (given == call.query.end()) {
    return unknown(call.query.count("payment_id") != 0 ? "payment_id refused" : "no ref");
  }
  if (given->second.empty() || given->second.size() > 64) return unknown("bad ref");
  auto found = s.store.FindPaymentByRef(given->second);
  if (!found) {
    if (found.error().kind == ErrorKind::kNotFound) return unknown("unknown ref");
    return found.error();
  }
  if (found->provider != provider) return unknown("another gateway's payment");
  auto after = ConfirmForRedirect(s.store, s.gateways.For(provider), s.timing, found.value(),
                                  call.now, false, PaymentCause::kCallback, s.changes);
  if (!after) return after.error();
  return FailureRedirectFor(s, after.value());
}

}  // namespace

// A payment id from a path or a body: a positive integer (a string of digits is accepted).
std::optional<int64_t> ParsePaymentId(const Json& v) {
  if (v.is_number_unsigned() || v.is_number_integer()) {
    const int64_t n = v.get<int64_t>();
    return n > 0 ? std::optional<int64_t>(n) : std::nullopt;
  }
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || n <= 0) return std::nullopt;
  return n;
}

Expected<StartedPayment> StartPayment(const Services& s, const std::string& org_id,
                                      Provider provider, const std::string& plan, Time now) {
  const PaymentGateway* gateway = s.gateways.For(provider);
  if (gateway == nullptr) return GatewayOff(provider);
  auto nonce = RandomHex(6);
  if (!nonce) return nonce.error();
  auto opened = OpenOrOfferAgain(s, org_id, *gateway, plan, nonce.value(), now);
  if (!opened) return opened.error();
  // The payer's open payment of this plan, still payable: the same next step again.
  if (opened->reused) {
    return StartedPayment{
        opened->payment, true, gateway,
        gateway->CheckoutFor(opened->payment, ReturnUrlsFor(s, provider, opened->payment))};
  }
  const Payment& payment = opened->payment;
  const Plan* priced = s.catalog.FindPlan(payment.plan);
  auto random = RandomHex(8);
  if (!random) return random.error();
  const BeginRequest request{ReturnUrlsFor(s, provider, payment),
                             (priced != nullptr ? priced->name : payment.plan) + " plan, " +
                                 std::to_string(s.catalog.period_days()) + " days",
                             random.value()};
  // The gateway call happens outside any transaction.
  const auto begun = gateway->Begin(payment, request, now);
  const Time after = s.now();
  if (!begun.ok()) {
    // No reference reached the browser, so nobody can pay this payment: it fails now.
    const bool timeout = begun.timed_out();
    const std::string reason = timeout                                   ? "gateway_timeout"
                               : begun.failure == CallFailure::kRejected ? begun.detail
                                                                         : "gateway_error";
    auto failed = s.store.ApplyPaymentOutcome(
        payment.id, std::nullopt, InitiateFailed(reason, begun.detail), PaymentCause::kInit, after);
    if (!failed) return failed.error();
    if (failed->changed && s.changes != nullptr) s.changes->Changed(payment.org_id);
    const std::string name(gateway->name());
    Error e{timeout ? ErrorKind::kGatewayTimeout : ErrorKind::kGatewayError,
            timeout ? name + " did not answer in time; nothing was charged"
                    : name + " refused the payment: " + begun.detail};
    e.extra = {{"payment_id", payment.id}, {"status", "FAILED"}, {"reason", reason}};
    return e;
  }
  auto attached =
      s.store.AttachGatewayReference(payment.id, begun.value->reference, begun.value->expires_at,
                                     s.timing.FirstCheck(after), after, begun.value->payment_url);
  if (!attached) return attached.error();
  const Payment& begun_payment = attached.value();
  return StartedPayment{
      begun_payment, false, gateway,
      gateway->CheckoutFor(begun_payment, ReturnUrlsFor(s, provider, begun_payment))};
}

HandlerFn PaymentInitHandler(Provider provider) {
  return [provider](const Services& s, const Call& call) { return InitPayment(s, call, provider); };
}

HandlerFn PaymentVerifyHandler(Provider provider) {
  return
      [provider](const Services& s, const Call& call) { return VerifyPayment(s, call, provider); };
}

HandlerFn PaymentReturnHandler(Provider provider) {
  return [provider](const Services& s, const Call& call) {
    return ReturnFromGateway(s, call, provider);
  };
}

HandlerFn PaymentFailureHandler(Provider provider) {
  return
      [provider](const Services& s, const Call& call) { return FailureTarget(s, call, provider); };
}

// GET /billing/payments/{id}/.
Expected<Reply> GetPaymentHandler(const Services& s, const Call& call) {
  const auto id = ParsePaymentId(Json(call.params.at(0)));
  if (!id) return Error::NotFound("no payment with this id");
  auto state = s.store.GetPayment(call.org_id(), *id, call.now);
  if (!state) return state.error();
  return Reply{200, PaymentToJson(state->payment)};
}

// GET /billing/payments/?limit=&cursor=.
Expected<Reply> ListPaymentsHandler(const Services& s, const Call& call) {
  auto page = ReadPageRequest(call);
  if (!page) return page.error();
  auto list = s.store.ListPayments(call.org_id(), *page, call.now);
  if (!list) return list.error();
  Json items = Json::array();
  for (const Payment& p : list->items) items.push_back(PaymentToJson(p));
  return Reply{200, PageBody(std::move(items), list->next)};
}

}  // namespace sima::server
