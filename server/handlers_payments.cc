// Payments: Khalti and eSewa init, verify and redirect targets, and reading payments
// (docs/api.md, "Payments — Khalti", "Payments — eSewa"). Only init and the reading of a
// redirect are gateway-specific; verify, the redirect answers and the reconciler share
// ConfirmPayment (payment_flow.h) over a gateway adapter (gateway_adapters.h); every decision
// is sdk/'s, applied by the store in one durable transaction.
#include <algorithm>
#include <charconv>
#include <iostream>
#include <mutex>

#include "gateway/esewa.h"
#include "gateway/khalti_client.h"
#include "gateway_adapters.h"
#include "handlers.h"
#include "paging.h"
#include "payment_flow.h"
#include "sima/crypto.h"
#include "sima/json.h"
#include "sima/money.h"
#include "sima/text.h"
#include "validate.h"

namespace sima::server {
namespace {

constexpr int kRetryAfterSeconds = 5;
// Until a payment has its pidx the reconciler leaves it alone; after this it fails it.
constexpr std::chrono::minutes kInitiateGrace{15};
// The first background look-up of an initiated payment.
constexpr std::chrono::seconds kFirstCheck{5};
// Anonymous paths (callbacks, the failure target) look a payment up at its gateway at most
// once in this window; within it they answer from the payment as stored.
constexpr std::chrono::seconds kAnonymousLookupWindow{5};
// A rejected (forged or broken) callback naming a real payment is audited at most once per
// payment in this window; the rest are only counted in the log.
constexpr std::chrono::seconds kRejectedAuditWindow{60};
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

// Payment limits from the settings.
PaymentLimits Limits(const Config& c) {
  PaymentLimits l;
  l.open_max = c.open_payments_max;
  l.per_minute = c.init_per_minute;
  l.esewa_session = std::chrono::minutes{c.esewa_session_minutes};
  return l;
}

Json OptTime(const std::optional<Time>& t) { return t ? Json(FormatTime(*t)) : Json(nullptr); }

Json PaymentToJson(const Payment& p) {
  return {{"payment_id", p.id},
          {"ref", p.ref},  // the org may build its own anonymous links with it
          {"provider", to_string(p.provider)},
          {"plan", p.plan},
          {"amount", WholeRupees(p.amount_paisa)},
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

// 302 to the web app's success or failure page.
Reply Redirect(const Services& s, const std::string& page, const std::string& query) {
  const std::string url = std::string(TrimEnd(s.config.app_url, "/")) + "/" + page + "?" + query;
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
  return Redirect(
      s, "failure.html",
      id + "&status=" + std::string(to_string(p.status)) + "&reason=" + PercentEncode(p.reason));
}

// The failure page for a payment as stored (the eSewa failure target, which eSewa also uses
// for a payment still pending): success only if it was paid after all.
Reply FailureRedirectFor(const Services& s, const Payment& p) {
  if (p.status == PaymentStatus::kSuccess) return RedirectFor(s, p);
  return Redirect(s, "failure.html",
                  "payment_id=" + std::to_string(p.id) + "&status=" +
                      std::string(to_string(p.status)) + "&reason=" + PercentEncode(p.reason));
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
// (cause callback); a gateway failure leaves it PENDING. `paid_claim`: the caller says it was
// paid (eSewa's signed COMPLETE, Khalti's status=Completed), so a FAILED payment is asked
// about again too and never answered from the stored FAILED. Anonymous callers share one
// lookup per payment per kAnonymousLookupWindow; within it the stored payment answers. Paid
// claims for a FAILED payment share their own window (a failure-target hit moments before
// cannot keep them unasked); a repeat within it that finds the payment still FAILED is
// flagged and audited (once per window) and answered as PENDING. Returns the payment as stored (or
// as it must be shown).
Expected<Payment> ConfirmForRedirect(const Services& s, const PaymentGateway* gateway,
                                     const Payment& payment, Time now, bool paid_claim = false,
                                     PaymentCause cause = PaymentCause::kCallback) {
  const bool late = paid_claim && payment.status == PaymentStatus::kFailed;
  if ((payment.status != PaymentStatus::kPending && !late) || gateway == nullptr) return payment;
  auto claimed = s.store.ClaimLookup(payment.id, kAnonymousLookupWindow, now, late);
  if (!claimed) return claimed.error();
  if (!claimed.value()) {
    if (!late) return payment;
    // Another paid redirect for it asked the gateway moments ago: its answer, if stored, wins.
    if (auto fresh = s.store.FindPayment(payment.id);
        fresh && fresh->status != PaymentStatus::kFailed) {
      return fresh.value();
    }
    auto audited = s.store.AuditPaymentOnce(
        payment.id, PaymentCause::kCallback,
        "paid redirect for a FAILED payment; the gateway was asked moments ago, look again", true,
        kRejectedAuditWindow, now);
    if (!audited) return audited.error();
    Payment shown = payment;
    shown.status = PaymentStatus::kPending;
    return shown;
  }
  auto confirmed = ConfirmPayment(s.store, *gateway, payment, cause, now, paid_claim);
  if (!confirmed) return confirmed.error();
  if (late && confirmed->failure != CallFailure::kNone &&
      confirmed->state.payment.status == PaymentStatus::kFailed) {
    // The gateway could not confirm it now: not answered from the stored FAILED either.
    auto audited = s.store.AuditPaymentOnce(
        payment.id, PaymentCause::kCallback,
        "paid redirect for a FAILED payment; the gateway could not be asked: " + confirmed->detail,
        true, kRejectedAuditWindow, now);
    if (!audited) return audited.error();
    Payment shown = confirmed->state.payment;
    shown.status = PaymentStatus::kPending;
    return shown;
  }
  return confirmed->state.payment;
}

// Store::OpenPayment for an init. An open payment it offers again is first asked about at its
// gateway (at most once per payment per kAnonymousLookupWindow, cause init): one the payer
// cancelled or paid meanwhile is not offered again, and another is opened instead.
Expected<OpenedPayment> OpenOrOfferAgain(const Services& s, const Call& call, Provider provider,
                                         const PaymentGateway* gateway, const std::string& plan,
                                         const std::string& nonce) {
  for (int attempt = 0;; ++attempt) {
    auto opened = s.store.OpenPayment(call.org_id(), provider, plan, nonce,
                                      call.now + kInitiateGrace, Limits(s.config), call.now);
    if (!opened || !opened->reused || attempt == 2) return opened;
    auto after =
        ConfirmForRedirect(s, gateway, opened->payment, call.now, false, PaymentCause::kInit);
    if (!after) return after.error();
    if (after->status == PaymentStatus::kPending) return OpenedPayment{after.value(), true};
  }
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

// The answer to Khalti's init, for a new payment (201) or an open one offered again (200).
Json KhaltiInitBody(const Payment& p, const std::string& pidx, const std::string& payment_url) {
  return {{"payment_id", p.id},
          {"provider", "KHALTI"},
          {"plan", p.plan},
          {"amount", WholeRupees(p.amount_paisa)},
          {"amount_paisa", p.amount_paisa},
          {"status", to_string(p.status)},
          {"pidx", pidx},
          {"payment_url", payment_url},
          {"expires_at", OptTime(p.expires_at)}};
}

// The answer to eSewa's init: the signed form for the payment's transaction_uuid, its
// failure_url naming it by its unguessable ref (never the sequential id).
Json EsewaInitBody(const Services& s, const Payment& p) {
  const std::string base = std::string(TrimEnd(s.config.public_url, "/"));
  const auto form = EsewaFormFields(s.esewa->config(), p.amount_paisa, p.reference_id.value_or(""),
                                    base + "/billing/esewa/callback/",
                                    base + "/billing/esewa/failure/?ref=" + p.ref);
  Json fields = Json::object();
  for (const auto& [name, value] : form) fields[name] = value;
  return {{"payment_id", p.id},
          {"provider", "ESEWA"},
          {"plan", p.plan},
          {"amount", WholeRupees(p.amount_paisa)},
          {"amount_paisa", p.amount_paisa},
          {"status", to_string(p.status)},
          {"form_url", s.esewa->config().form_url},
          {"fields", std::move(fields)}};
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

  auto opened =
      OpenOrOfferAgain(s, call, Provider::kKhalti, s.khalti, *plan.value(), nonce.value());
  if (!opened) return opened.error();
  if (opened->reused) {
    // The payer's open payment of this plan, still payable: the same page again.
    const Payment& p = opened->payment;
    return Reply{200, KhaltiInitBody(p, p.reference_id.value_or(""), p.payment_url.value_or(""))};
  }
  const Payment& payment = opened->payment;
  const Plan* priced = s.catalog.FindPlan(payment.plan);

  KhaltiInitiateRequest request;
  request.return_url = std::string(TrimEnd(s.config.public_url, "/")) + "/billing/khalti/callback/";
  request.website_url = s.config.app_url;
  request.amount_paisa = payment.amount_paisa;
  request.purchase_order_id = payment.purchase_order_id;
  request.purchase_order_name = (priced != nullptr ? priced->name : payment.plan) + " plan, " +
                                std::to_string(s.catalog.period_days()) + " days";
  // The gateway call happens outside any transaction.
  const auto initiated = khalti->Initiate(request);
  const Time now = s.now();

  if (!initiated.ok()) {
    const bool timeout = initiated.failure == CallFailure::kTimeout ||
                         initiated.failure == CallFailure::kUnreachable;
    // No pidx reached the browser, so nobody can pay this payment: it fails now.
    const std::string reason = timeout                                       ? "gateway_timeout"
                               : initiated.failure == CallFailure::kRejected ? initiated.detail
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
                                                 now + kFirstCheck, now, k.payment_url);
  if (!attached) return attached.error();
  return Reply{201, KhaltiInitBody(attached.value(), k.pidx, k.payment_url)};
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

// GET /billing/khalti/callback/?pidx=...&status=... (Khalti's redirect). Only the pidx counts
// (unguessable, Khalti's own); purchase_order_id and the rest of the query are not trusted.
// The payment is looked up at Khalti exactly as verify does, at most once per payment per
// kAnonymousLookupWindow; status=Completed for a payment we had FAILED asks Khalti again
// (a late payment activates, flagged for review). An unknown pidx redirects to the generic
// failure page without any lookup.
Expected<Reply> KhaltiCallbackHandler(const Services& s, const Call& call) {
  const auto unknown = [&](std::string_view why) {
    NoteRejected("/billing/khalti/callback/", why, call.now);
    return Redirect(s, "failure.html", "status=UNKNOWN&reason=unknown_payment");
  };
  const auto pidx = call.query.find("pidx");
  if (pidx == call.query.end() || pidx->second.empty() || pidx->second.size() > 200) {
    return unknown("no pidx");
  }
  auto found = s.store.FindPaymentByReference(Provider::kKhalti, pidx->second);
  if (!found) {
    if (found.error().kind == ErrorKind::kNotFound) return unknown("unknown pidx");
    return found.error();
  }
  const auto status = call.query.find("status");
  const bool paid_claim = status != call.query.end() && status->second == "Completed";
  auto after = ConfirmForRedirect(s, s.khalti, found.value(), call.now, paid_claim);
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
  auto opened = OpenOrOfferAgain(s, call, Provider::kEsewa, s.esewa, *plan.value(), nonce.value());
  if (!opened) return opened.error();
  // The payer's open payment of this plan, still payable: the same signed form again.
  if (opened->reused) return Reply{200, EsewaInitBody(s, opened->payment)};
  const Payment& payment = opened->payment;
  // Unique per attempt (a retry is a new payment), letters, digits and '-' only.
  auto random = RandomHex(8);
  if (!random) return random.error();
  const std::string uuid = std::to_string(payment.id) + "-" + random.value();
  const Time now = s.now();
  // expires_at: when the payer's eSewa session can have ended (ESEWA_SESSION_MINUTES).
  auto attached = s.store.AttachGatewayReference(
      payment.id, uuid, EsewaSessionEnd(payment.created_at, s.esewa->session()), now + kFirstCheck,
      now);
  if (!attached) return attached.error();
  return Reply{201, EsewaInitBody(s, attached.value())};
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
  // A rejected redirect names no payment: its caller proved nothing.
  const auto rejected = [&](const std::string& reason) {
    NoteRejected("/billing/esewa/callback/", reason, call.now);
    return Redirect(s, "failure.html", "status=UNKNOWN&reason=" + reason);
  };
  const auto data = call.query.find("data");
  if (data == call.query.end() || data->second.empty() || data->second.size() > kMaxEsewaData ||
      s.esewa == nullptr) {
    return rejected("invalid_signature");
  }
  const EsewaSuccessCheck checked = CheckEsewaSuccess(s.esewa->config(), data->second);
  if (!checked.value) {
    // Nothing changes. If the data names one of our payments, the attempt is on its record,
    // at most once per payment per kRejectedAuditWindow (repeats are only counted).
    if (const auto uuid = ClaimedEsewaUuid(data->second)) {
      if (auto found = s.store.FindPaymentByReference(Provider::kEsewa, *uuid)) {
        if (auto r = s.store.AuditPaymentOnce(found->id, PaymentCause::kCallback,
                                              "rejected esewa data: " + checked.error, false,
                                              kRejectedAuditWindow, call.now);
            !r) {
          return r.error();
        }
      } else if (found.error().kind != ErrorKind::kNotFound) {
        return found.error();
      }
    }
    return rejected("invalid_signature");
  }
  const EsewaSuccess& success = *checked.value;
  auto found = s.store.FindPaymentByReference(Provider::kEsewa, success.transaction_uuid);
  if (!found) {
    if (found.error().kind == ErrorKind::kNotFound) return rejected("unknown_payment");
    return found.error();
  }
  const Payment& payment = found.value();
  if (success.total_paisa != payment.amount_paisa) {
    // Signed by eSewa but not for the amount we asked: it activates nothing by itself; the
    // status check below (with the stored amount) decides, and a human looks.
    if (auto r = s.store.AuditPayment(
            payment.id, PaymentCause::kCallback,
            "esewa data total_amount " + std::to_string(success.total_paisa) + " paisa != stored " +
                std::to_string(payment.amount_paisa) + ": amount_mismatch",
            true, call.now);
        !r) {
      return r.error();
    }
  }
  // eSewa signed COMPLETE: even a payment we had FAILED is asked about again (a late payment).
  auto after = ConfirmForRedirect(s, s.esewa, payment, call.now, success.status == "COMPLETE");
  if (!after) return after.error();
  return RedirectFor(s, after.value());
}

// GET /billing/esewa/failure/?ref=... (eSewa's failure_url: failed, cancelled or still
// pending; it carries no signed data). The payment is named by its unguessable ref; the old
// sequential ?payment_id= and an unknown ref get the generic failure page, with no lookup and
// nothing about any payment. The status API decides (the user may have paid after all), at
// most once per payment per kAnonymousLookupWindow; eSewa's NOT_FOUND within the payer's
// session keeps the payment PENDING.
Expected<Reply> EsewaFailureHandler(const Services& s, const Call& call) {
  const auto unknown = [&](std::string_view why) {
    NoteRejected("/billing/esewa/failure/", why, call.now);
    return Redirect(s, "failure.html", "status=UNKNOWN&reason=unknown_payment");
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
  if (found->provider != Provider::kEsewa) return unknown("not an eSewa payment");
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
