// Payments: Khalti and eSewa init, verify and redirect targets, and reading payments
// (spec/api.md, "Payments — Khalti", "Payments — eSewa"). Only init and the reading of a
// redirect are gateway-specific; verify, the redirect answers and the reconciler share
// ConfirmPayment (payment_flow.h) over a gateway adapter (gateway_adapters.h); every decision
// is sdk/'s, applied by the store in one durable transaction.
#include <algorithm>
#include <charconv>

#include "gateway/esewa.h"
#include "gateway/khalti_client.h"
#include "gateway_adapters.h"
#include "handlers.h"
#include "paging.h"
#include "payment_flow.h"
#include "sima/crypto.h"
#include "sima/json.h"
#include "validate.h"

namespace sima::server {
namespace {

constexpr int kRetryAfterSeconds = 5;
// Until a payment has its pidx the reconciler leaves it alone; after this it fails it.
constexpr std::chrono::minutes kInitiateGrace{15};
// The first background look-up of an initiated payment.
constexpr std::chrono::seconds kFirstCheck{5};

Json OptTime(const std::optional<Time>& t) { return t ? Json(FormatTime(*t)) : Json(nullptr); }

Json PaymentToJson(const Payment& p) {
  return {{"payment_id", p.id},
          {"provider", to_string(p.provider)},
          {"plan", p.plan},
          {"amount", p.amount_paisa / 100},
          {"amount_paisa", p.amount_paisa},
          {"status", to_string(p.status)},
          {"reason", p.reason.empty() ? Json(nullptr) : Json(p.reason)},
          {"reference_id", p.reference_id ? Json(*p.reference_id) : Json(nullptr)},
          {"purchase_order_id", p.purchase_order_id},
          {"needs_attention", p.needs_attention},
          {"expires_at", OptTime(p.expires_at)},
          {"created_at", FormatTime(p.created_at)},
          {"updated_at", FormatTime(p.updated_at)}};
}

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

const KhaltiClient* Khalti(const Services& s) {
  return s.khalti != nullptr ? &s.khalti->client() : nullptr;
}

Error GatewayOff(std::string_view name) {
  return Error{ErrorKind::kGatewayError, std::string(name) + " is not configured"};
}
Error KhaltiOff() { return GatewayOff("Khalti"); }

// How long an eSewa form is payable is not documented (spec/gateways.md §3.6); the reconciler
// keeps asking until a day past this.
constexpr std::chrono::minutes kEsewaSession{60};
// A success redirect's `data` longer than this is not eSewa's.
constexpr size_t kMaxEsewaData = 8192;

// The answer to verify for a payment as stored (decided, or pending without a gateway failure).
Expected<Reply> DecisionReply(const PaymentState& state, Time now) {
  const Payment& p = state.payment;
  switch (p.status) {
    case PaymentStatus::kSuccess: {
      Json body = {{"success", true},
                   {"payment_id", p.id},
                   {"status", "SUCCESS"},
                   {"plan", p.plan},
                   {"subscription", SubscriptionToJson(state.subscription, now)}};
      if (!p.reason.empty()) body["reason"] = p.reason;  // plan_conflict: refund due
      return Reply{200, std::move(body)};
    }
    case PaymentStatus::kFailed:
    case PaymentStatus::kRefunded: {
      Error e{ErrorKind::kPaymentFailed, "the payment did not go through" +
                                             (p.reason.empty() ? "" : ": " + p.reason)};
      e.extra = {{"success", false},
                 {"payment_id", p.id},
                 {"status", to_string(p.status)},
                 {"reason", p.reason}};
      return e;
    }
    case PaymentStatus::kPending: break;
  }
  return Reply{202,
               {{"success", false},
                {"payment_id", p.id},
                {"status", "PENDING"},
                {"retry_after", kRetryAfterSeconds}},
               {{"Retry-After", std::to_string(kRetryAfterSeconds)}}};
}

// The gateway could not be asked: nothing was decided, the payment stays PENDING.
Error GatewayFailure(const PaymentGateway& gateway, const Confirmation& c) {
  const bool timeout = c.failure == CallFailure::kTimeout || c.failure == CallFailure::kUnreachable;
  const std::string name(gateway.name());
  Error e{timeout ? ErrorKind::kGatewayTimeout : ErrorKind::kGatewayError,
          (timeout ? name + " could not be reached; the payment is still pending: "
                   : name + " answered with an error; the payment is still pending: ") +
              c.detail};
  e.extra = {{"success", false},
             {"payment_id", c.state.payment.id},
             {"status", "PENDING"},
             {"retry_after", kRetryAfterSeconds}};
  return e;
}

std::string WithoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// 302 to the web app's success or failure page.
Reply Redirect(const Services& s, const std::string& page, const std::string& query) {
  const std::string url = WithoutTrailingSlash(s.config.app_url) + "/" + page + "?" + query;
  return Reply{302, {{"location", url}}, {{"Location", url}}};
}

Reply RedirectFor(const Services& s, const Payment& p) {
  const std::string id = "payment_id=" + std::to_string(p.id);
  switch (p.status) {
    case PaymentStatus::kSuccess: return Redirect(s, "success.html", id + "&status=SUCCESS");
    case PaymentStatus::kPending: return Redirect(s, "success.html", id + "&status=PENDING");
    case PaymentStatus::kFailed:
    case PaymentStatus::kRefunded: break;
  }
  return Redirect(s, "failure.html",
                  id + "&status=" + std::string(to_string(p.status)) +
                      "&reason=" + crypto::PercentEncode(p.reason));
}

// The failure page for a payment as stored (the eSewa failure target, which eSewa also uses
// for a payment still pending): success only if it was paid after all.
Reply FailureRedirectFor(const Services& s, const Payment& p) {
  if (p.status == PaymentStatus::kSuccess) return RedirectFor(s, p);
  return Redirect(s, "failure.html",
                  "payment_id=" + std::to_string(p.id) +
                      "&status=" + std::string(to_string(p.status)) +
                      "&reason=" + crypto::PercentEncode(p.reason));
}

// The shared verify: the payment of this organization, the same answer again once decided,
// else a look-up through the gateway's adapter (cause verify).
Expected<Reply> VerifyPayment(const Services& s, const Call& call, const PaymentGateway* gateway,
                              Provider provider, const PaymentState& state) {
  const Payment& payment = state.payment;
  if (payment.provider != provider) {
    return Error::Validation("payment_id", provider == Provider::kEsewa
                                               ? "this is not an eSewa payment"
                                               : "this is not a Khalti payment");
  }
  // Decided: the same answer, without asking the gateway again.
  if (payment.status != PaymentStatus::kPending) return DecisionReply(state, call.now);
  if (gateway == nullptr) return GatewayOff(provider == Provider::kEsewa ? "eSewa" : "Khalti");
  auto confirmed = ConfirmPayment(s.store, *gateway, payment, PaymentCause::kVerify, call.now);
  if (!confirmed) return confirmed.error();
  if (confirmed->failure != CallFailure::kNone && payment.reference_id) {
    return GatewayFailure(*gateway, confirmed.value());
  }
  return DecisionReply(confirmed->state, call.now);
}

// The shared end of a redirect target: a pending payment is confirmed through the adapter
// (cause callback); a gateway failure leaves it PENDING. Returns the payment as stored.
Expected<Payment> ConfirmForRedirect(const Services& s, const PaymentGateway* gateway,
                                     const Payment& payment, Time now) {
  if (payment.status != PaymentStatus::kPending || gateway == nullptr) return payment;
  auto confirmed = ConfirmPayment(s.store, *gateway, payment, PaymentCause::kCallback, now);
  if (!confirmed) return confirmed.error();
  return confirmed->state.payment;
}

// The transaction_uuid a (possibly forged) eSewa `data` names, read without trusting it: only
// to audit a rejection on the payment it claims to be for.
std::optional<std::string> ClaimedEsewaUuid(std::string data) {
  std::replace(data.begin(), data.end(), ' ', '+');
  const auto decoded = crypto::Base64Decode(data);
  if (!decoded) return std::nullopt;
  const Json j = Json::parse(*decoded, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find("transaction_uuid");
  if (it == j.end() || !it->is_string()) return std::nullopt;
  std::string uuid = it->get<std::string>();
  if (uuid.empty() || uuid.size() > 200) return std::nullopt;
  return uuid;
}

}  // namespace

// POST /billing/khalti/init/ {"plan"}.
Expected<Reply> KhaltiInitHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"plan"}); !r) return r.error();
  auto plan = StringField(call.body, "plan", true, 64, TextKind::kKey);
  if (!plan) return plan.error();
  const KhaltiClient* khalti = Khalti(s);
  if (khalti == nullptr) return KhaltiOff();
  auto nonce = RandomHex(6);
  if (!nonce) return nonce.error();

  auto created = s.store.CreatePayment(call.org_id(), Provider::kKhalti, *plan.value(),
                                       nonce.value(), call.now + kInitiateGrace, call.now);
  if (!created) return created.error();
  const Payment& payment = created.value();
  const Plan* priced = s.catalog.FindPlan(payment.plan);

  KhaltiInitiateRequest request;
  request.return_url = WithoutTrailingSlash(s.config.public_url) + "/billing/khalti/callback/";
  request.website_url = s.config.app_url;
  request.amount_paisa = payment.amount_paisa;
  request.purchase_order_id = payment.purchase_order_id;
  request.purchase_order_name =
      (priced != nullptr ? priced->name : payment.plan) + " plan, " +
      std::to_string(s.catalog.period_days()) + " days";
  // The gateway call happens outside any transaction.
  const auto initiated = khalti->Initiate(request);
  const Time now = s.now();

  if (!initiated.ok()) {
    const bool timeout = initiated.failure == CallFailure::kTimeout ||
                         initiated.failure == CallFailure::kUnreachable;
    // No pidx reached the browser, so nobody can pay this payment: it fails now.
    const std::string reason = timeout ? "gateway_timeout"
                               : initiated.failure == CallFailure::kRejected
                                   ? initiated.detail
                                   : "gateway_error";
    auto failed = s.store.ApplyPaymentOutcome(payment.id, std::nullopt,
                                              InitiateFailed(reason, initiated.detail),
                                              PaymentCause::kInit, now);
    if (!failed) return failed.error();
    Error e{timeout ? ErrorKind::kGatewayTimeout : ErrorKind::kGatewayError,
            timeout ? "Khalti did not answer in time; nothing was charged"
                    : "Khalti refused the payment: " + initiated.detail};
    e.extra = {{"payment_id", payment.id}, {"status", "FAILED"}, {"reason", reason}};
    return e;
  }

  const KhaltiInitiated& k = *initiated.value;
  auto attached = s.store.AttachGatewayReference(payment.id, k.pidx, k.expires_at,
                                                 now + kFirstCheck, now);
  if (!attached) return attached.error();
  return Reply{201,
               {{"payment_id", attached->id},
                {"provider", "KHALTI"},
                {"plan", attached->plan},
                {"amount", attached->amount_paisa / 100},
                {"amount_paisa", attached->amount_paisa},
                {"status", to_string(attached->status)},
                {"pidx", k.pidx},
                {"payment_url", k.payment_url},
                {"expires_at", OptTime(attached->expires_at)}}};
}

// POST /billing/khalti/verify/ {"payment_id", "pidx" | "token"}.
Expected<Reply> KhaltiVerifyHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"payment_id", "pidx", "token"}); !r) return r.error();
  const auto id_field = call.body.find("payment_id");
  if (id_field == call.body.end()) {
    return Error::Validation("payment_id", "payment_id is required");
  }
  const auto id = ParsePaymentId(*id_field);
  if (!id) return Error::Validation("payment_id", "payment_id must be a positive integer");
  auto pidx = StringField(call.body, "pidx", false, 200, TextKind::kKey);
  if (!pidx) return pidx.error();
  auto token = StringField(call.body, "token", false, 200, TextKind::kKey);
  if (!token) return token.error();
  if (pidx.value() && token.value() && *pidx.value() != *token.value()) {
    return Error::Validation("token", "token and pidx name different payments");
  }
  const std::optional<std::string> given = pidx.value() ? pidx.value() : token.value();

  auto state = s.store.GetPayment(call.org_id(), *id, call.now);
  if (!state) return state.error();
  const Payment& payment = state->payment;
  if (payment.provider == Provider::kKhalti && given &&
      (!payment.reference_id || *given != *payment.reference_id)) {
    return Error::Validation(pidx.value() ? "pidx" : "token",
                             "this pidx does not belong to the payment");
  }
  return VerifyPayment(s, call, s.khalti, Provider::kKhalti, state.value());
}

// GET /billing/khalti/callback/?pidx=...&status=...&purchase_order_id=... (Khalti's redirect).
// Nothing in the query is trusted: the payment is looked up at Khalti exactly as verify does.
Expected<Reply> KhaltiCallbackHandler(const Services& s, const Call& call) {
  const auto unknown = [&] {
    return Redirect(s, "failure.html", "status=UNKNOWN&reason=unknown_payment");
  };
  const auto pidx = call.query.find("pidx");
  if (pidx == call.query.end() || pidx->second.empty() || pidx->second.size() > 200) {
    return unknown();
  }
  auto found = s.store.FindPaymentByReference(Provider::kKhalti, pidx->second);
  if (!found) {
    if (found.error().kind == ErrorKind::kNotFound) return unknown();
    return found.error();
  }
  const Payment& payment = found.value();
  if (const auto order = call.query.find("purchase_order_id");
      order != call.query.end() && !order->second.empty() &&
      order->second != payment.purchase_order_id) {
    return unknown();
  }
  auto after = ConfirmForRedirect(s, s.khalti, payment, call.now);
  if (!after) return after.error();
  // A gateway failure leaves it PENDING: the success page says so and polls.
  return RedirectFor(s, after.value());
}

// POST /billing/esewa/init/ {"plan"}. eSewa has no initiate API: the payment gets a fresh
// transaction_uuid as its reference and the browser posts the signed form to eSewa.
Expected<Reply> EsewaInitHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"plan"}); !r) return r.error();
  auto plan = StringField(call.body, "plan", true, 64, TextKind::kKey);
  if (!plan) return plan.error();
  if (s.esewa == nullptr) return GatewayOff("eSewa");
  auto nonce = RandomHex(6);
  if (!nonce) return nonce.error();
  auto created = s.store.CreatePayment(call.org_id(), Provider::kEsewa, *plan.value(),
                                       nonce.value(), call.now + kInitiateGrace, call.now);
  if (!created) return created.error();
  const Payment& payment = created.value();
  // Unique per attempt (a retry is a new payment), letters, digits and '-' only.
  auto random = RandomHex(8);
  if (!random) return random.error();
  const std::string uuid = std::to_string(payment.id) + "-" + random.value();
  const Time now = s.now();
  auto attached =
      s.store.AttachGatewayReference(payment.id, uuid, now + kEsewaSession, now + kFirstCheck, now);
  if (!attached) return attached.error();

  const std::string base = WithoutTrailingSlash(s.config.public_url);
  const auto form = EsewaFormFields(
      s.esewa->config(), attached->amount_paisa, uuid, base + "/billing/esewa/callback/",
      base + "/billing/esewa/failure/?payment_id=" + std::to_string(attached->id));
  Json fields = Json::object();
  for (const auto& [name, value] : form) fields[name] = value;
  return Reply{201,
               {{"payment_id", attached->id},
                {"provider", "ESEWA"},
                {"plan", attached->plan},
                {"amount", attached->amount_paisa / 100},
                {"amount_paisa", attached->amount_paisa},
                {"status", to_string(attached->status)},
                {"form_url", s.esewa->config().form_url},
                {"fields", std::move(fields)}}};
}

// POST /billing/esewa/verify/ {"payment_id"}: as Khalti's verify.
Expected<Reply> EsewaVerifyHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"payment_id"}); !r) return r.error();
  const auto id_field = call.body.find("payment_id");
  if (id_field == call.body.end()) {
    return Error::Validation("payment_id", "payment_id is required");
  }
  const auto id = ParsePaymentId(*id_field);
  if (!id) return Error::Validation("payment_id", "payment_id must be a positive integer");
  auto state = s.store.GetPayment(call.org_id(), *id, call.now);
  if (!state) return state.error();
  return VerifyPayment(s, call, s.esewa, Provider::kEsewa, state.value());
}

// GET /billing/esewa/callback/?data=... (eSewa's success redirect). The signed data only routes
// us to a payment: it must verify (signature over the literal texts, covered fields, our
// product code) or nothing happens; the status API, asked with the STORED amount and uuid,
// decides.
Expected<Reply> EsewaCallbackHandler(const Services& s, const Call& call) {
  const auto rejected = [&](const std::string& reason, std::optional<int64_t> id) {
    return Redirect(s, "failure.html",
                    (id ? "payment_id=" + std::to_string(*id) + "&" : std::string()) +
                        "status=UNKNOWN&reason=" + reason);
  };
  const auto data = call.query.find("data");
  if (data == call.query.end() || data->second.empty() || data->second.size() > kMaxEsewaData ||
      s.esewa == nullptr) {
    return rejected("invalid_signature", std::nullopt);
  }
  const EsewaSuccessCheck checked = CheckEsewaSuccess(s.esewa->config(), data->second);
  if (!checked.value) {
    // Nothing changes. If the data names one of our payments, the attempt is on its record.
    std::optional<int64_t> id;
    if (const auto uuid = ClaimedEsewaUuid(data->second)) {
      if (auto found = s.store.FindPaymentByReference(Provider::kEsewa, *uuid)) {
        id = found->id;
        if (auto r = s.store.AuditPayment(found->id, PaymentCause::kCallback,
                                          "rejected esewa data: " + checked.error, false,
                                          call.now);
            !r) {
          return r.error();
        }
      } else if (found.error().kind != ErrorKind::kNotFound) {
        return found.error();
      }
    }
    return rejected("invalid_signature", id);
  }
  const EsewaSuccess& success = *checked.value;
  auto found = s.store.FindPaymentByReference(Provider::kEsewa, success.transaction_uuid);
  if (!found) {
    if (found.error().kind == ErrorKind::kNotFound) return rejected("unknown_payment", std::nullopt);
    return found.error();
  }
  const Payment& payment = found.value();
  if (success.total_paisa != payment.amount_paisa) {
    // Signed by eSewa but not for the amount we asked: it activates nothing by itself; the
    // status check below (with the stored amount) decides, and a human looks.
    if (auto r = s.store.AuditPayment(
            payment.id, PaymentCause::kCallback,
            "esewa data total_amount " + std::to_string(success.total_paisa) +
                " paisa != stored " + std::to_string(payment.amount_paisa) + ": amount_mismatch",
            true, call.now);
        !r) {
      return r.error();
    }
  }
  auto after = ConfirmForRedirect(s, s.esewa, payment, call.now);
  if (!after) return after.error();
  return RedirectFor(s, after.value());
}

// GET /billing/esewa/failure/?payment_id=... (eSewa's failure_url: failed, cancelled or still
// pending; it carries no signed data). The status API decides; the user may have paid after all.
Expected<Reply> EsewaFailureHandler(const Services& s, const Call& call) {
  const auto unknown = [&] {
    return Redirect(s, "failure.html", "status=UNKNOWN&reason=unknown_payment");
  };
  const auto given = call.query.find("payment_id");
  if (given == call.query.end()) return unknown();
  const auto id = ParsePaymentId(Json(given->second));
  if (!id) return unknown();
  auto found = s.store.FindPayment(*id);
  if (!found) {
    if (found.error().kind == ErrorKind::kNotFound) return unknown();
    return found.error();
  }
  if (found->provider != Provider::kEsewa) return unknown();
  auto after = ConfirmForRedirect(s, s.esewa, found.value(), call.now);
  if (!after) return after.error();
  return FailureRedirectFor(s, after.value());
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
