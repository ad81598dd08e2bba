// Admin: payments by id and their refunds. A Khalti payment is refunded through Khalti's
// refund API (BeginRefund -> Khalti -> SettleRefund); eSewa has no refund API, so an eSewa
// refund is one the admin made by hand in eSewa's merchant portal and records here. What a
// refund does to the payment and the subscription is sima/refund.h's rule (docs/payments.md).
#include "gateway/khalti_refund.h"
#include "handlers.h"
#include "paging.h"
#include "resource_json.h"
#include "sima/text.h"
#include "validate.h"

namespace sima::server {
namespace {

constexpr size_t kMaxReasonBytes = 500;
constexpr size_t kMaxNoteBytes = 2000;
constexpr size_t kMaxKeyBytes = 255;
constexpr int64_t kMaxPaisa = 1'000'000'000'000;

// The {payment_id} of an admin payment path; 404 for anything that is not one.
Expected<Payment> PaymentParam(const Services& s, const Call& call) {
  const auto id = ParsePaymentId(Json(call.params.at(0)));
  if (!id) return Error::NotFound("no payment with this id");
  return s.store.FindPayment(*id);
}

Json AdminPaymentJson(const Payment& p) {
  Json out = PaymentToJson(p);
  out["org_id"] = p.org_id;
  return out;
}

// What an asked refund is, from the body and the Idempotency-Key header.
struct RefundAsk {
  std::optional<int64_t> amount;
  std::string reason;
  bool keep_plan = false;
  std::optional<std::string> mobile;
  std::optional<std::string> reference;
  std::string note;
  std::string key;
};

Expected<RefundAsk> ReadRefundAsk(const Call& call) {
  if (auto r = OnlyFields(call.body, {"amount_paisa", "reason", "keep_plan", "mobile", "reference",
                                      "note", "idempotency_key"});
      !r) {
    return r.error();
  }
  RefundAsk ask;
  auto key = StringField(call.body, "idempotency_key", false, kMaxKeyBytes, TextKind::kKey);
  if (!key) return key.error();
  const std::string& header = call.idempotency_key;
  if (!header.empty()) {
    auto checked = StringField(Json{{"idempotency_key", header}}, "idempotency_key", true,
                               kMaxKeyBytes, TextKind::kKey);
    if (!checked) return checked.error();
    if (*key && **key != header) {
      return Error::Validation("idempotency_key",
                               "the Idempotency-Key header and idempotency_key differ");
    }
    ask.key = header;
  } else if (*key) {
    ask.key = **key;
  } else {
    return Error::Validation("idempotency_key",
                             "an Idempotency-Key header (or idempotency_key) is required");
  }
  if (call.body.contains("amount_paisa")) {
    auto amount = IntField(call.body, "amount_paisa", 1, kMaxPaisa);
    if (!amount) return amount.error();
    ask.amount = *amount;
  }
  auto reason = StringField(call.body, "reason", true, kMaxReasonBytes, TextKind::kText);
  if (!reason) return reason.error();
  ask.reason = **reason;
  if (auto k = call.body.find("keep_plan"); k != call.body.end()) {
    if (!k->is_boolean()) return Error::Validation("keep_plan", "keep_plan must be true or false");
    ask.keep_plan = k->get<bool>();
  }
  auto mobile = StringField(call.body, "mobile", false, 20, TextKind::kKey);
  if (!mobile) return mobile.error();
  ask.mobile = *mobile;
  auto reference = StringField(call.body, "reference", false, 200, TextKind::kLine);
  if (!reference) return reference.error();
  ask.reference = *reference;
  auto note = StringField(call.body, "note", false, kMaxNoteBytes, TextKind::kText);
  if (!note) return note.error();
  ask.note = note->value_or("");
  return ask;
}

Reply RefundReply(int status, const Refund& refund, const Payment& payment) {
  return Reply{status, {{"refund", RefundToJson(refund)}, {"payment", AdminPaymentJson(payment)}}};
}

// The answer once the store holds `refund` as it now is: 201 succeeded, 202 still pending
// (Khalti's answer was lost: the same call again looks it up), 502 refused by the gateway.
Expected<Reply> Answer(const Services& s, const Refund& refund) {
  auto payment = s.store.FindPayment(refund.payment_id);
  if (!payment) return payment.error();
  if (refund.status == RefundStatus::kFailed) {
    Error e{ErrorKind::kGatewayError, refund.detail};
    e.extra["refund"] = RefundToJson(refund);
    return e;
  }
  return RefundReply(refund.status == RefundStatus::kSucceeded ? 201 : 202, refund, *payment);
}

// Whether Khalti's lookup shows `refund` made: the status a payment has once it is
// (Refunded when it leaves nothing, else Partially Refunded). A Partially Refunded payment
// that had been refunded in part before cannot tell which refund it shows: not settled.
bool LookupShowsRefund(const KhaltiLookup& lookup, const Payment& payment, const Refund& refund) {
  const bool leaves_nothing = payment.refunded_paisa + refund.amount_paisa >= payment.amount_paisa;
  if (leaves_nothing) return EqualsIgnoreCase(lookup.status, "Refunded");
  return payment.refunded_paisa == 0 && EqualsIgnoreCase(lookup.status, "Partially Refunded");
}

Expected<Reply> RefundThroughKhalti(const Services& s, const Payment& payment, const RefundAsk& ask,
                                    Refund refund, bool fresh) {
  const KhaltiRefunds& khalti = *s.khalti_refunds;
  if (!fresh) {
    // A repeat of a refund whose answer was lost (or a crash before it was asked): Khalti's
    // lookup says whether it was made. Asked again only when the lookup shows nothing refunded.
    if (!payment.reference_id) return Answer(s, refund);
    const auto lookup = khalti.Lookup(*payment.reference_id);
    if (!lookup.ok()) {
      auto kept = s.store.SettleRefund(refund.id, RefundStatus::kPending,
                                       "not settled: the lookup failed: " + lookup.detail,
                                       std::nullopt, s.now());
      if (!kept) return kept.error();
      return Answer(s, *kept);
    }
    const std::string seen = "khalti lookup status=" + lookup.value->status;
    if (LookupShowsRefund(*lookup.value, payment, refund)) {
      auto settled = s.store.SettleRefund(refund.id, RefundStatus::kSucceeded,
                                          "settled by lookup: " + seen, std::nullopt, s.now());
      if (!settled) return settled.error();
      return Answer(s, *settled);
    }
    if (!EqualsIgnoreCase(lookup.value->status, "Completed") || lookup.value->refunded) {
      auto kept = s.store.SettleRefund(
          refund.id, RefundStatus::kPending,
          "not settled: " + seen + " does not tell whether this refund was made", std::nullopt,
          s.now());
      if (!kept) return kept.error();
      return Answer(s, *kept);
    }
  }
  KhaltiRefundRequest request;
  request.transaction_id = payment.transaction_id.value_or("");
  // All of an untouched payment goes as Khalti's empty body; anything else names its amount.
  if (payment.refunded_paisa != 0 || refund.amount_paisa != payment.amount_paisa) {
    request.amount = refund.amount_paisa;
  }
  request.mobile = ask.mobile;
  const KhaltiRefundAnswer answer = khalti.Refund(request);
  RefundStatus status = RefundStatus::kPending;
  if (answer.outcome == KhaltiRefundOutcome::kRefunded) status = RefundStatus::kSucceeded;
  if (answer.outcome == KhaltiRefundOutcome::kRefused) status = RefundStatus::kFailed;
  auto settled = s.store.SettleRefund(refund.id, status, answer.detail, std::nullopt, s.now());
  if (!settled) return settled.error();
  return Answer(s, *settled);
}

}  // namespace

// GET /admin/payments/{payment_id}/: any organization's payment, with its org_id.
Expected<Reply> AdminGetPaymentHandler(const Services& s, const Call& call) {
  auto payment = PaymentParam(s, call);
  if (!payment) return payment.error();
  return Reply{200, AdminPaymentJson(*payment)};
}

// GET /admin/payments/{payment_id}/refunds/: oldest first.
Expected<Reply> ListRefundsHandler(const Services& s, const Call& call) {
  auto payment = PaymentParam(s, call);
  if (!payment) return payment.error();
  auto refunds = s.store.ListRefunds(payment->id);
  if (!refunds) return refunds.error();
  Json items = Json::array();
  for (const Refund& r : *refunds) items.push_back(RefundToJson(r));
  return Reply{200, PageBody(std::move(items), std::nullopt)};
}

// POST /admin/payments/{payment_id}/refunds/ (docs/api.md "Refunds").
Expected<Reply> CreateRefundHandler(const Services& s, const Call& call) {
  auto payment = PaymentParam(s, call);
  if (!payment) return payment.error();
  auto ask = ReadRefundAsk(call);
  if (!ask) return ask.error();
  const bool khalti = payment->provider == Provider::kKhalti;
  if (!khalti && !ask->reference) {
    return Error::Validation("reference",
                             "reference is required: eSewa refunds are made by hand in eSewa's "
                             "merchant portal; give the portal's reference");
  }
  if (khalti && s.khalti_refunds == nullptr) {
    return Error{ErrorKind::kGatewayError, "Khalti is not configured on this server"};
  }
  if (khalti && !payment->transaction_id) {
    return Error::Conflict(
        "Khalti gave this payment no transaction_id: it cannot be refunded "
        "through Khalti's API");
  }

  // A repeat names its first refund's amount when it names none.
  auto existing = s.store.ListRefunds(payment->id);
  if (!existing) return existing.error();
  std::optional<int64_t> amount = ask->amount;
  for (const Refund& r : *existing) {
    if (r.idempotency_key == ask->key && !amount) amount = r.amount_paisa;
  }
  Refund asked;
  asked.payment_id = payment->id;
  asked.amount_paisa = amount.value_or(payment->amount_paisa - payment->refunded_paisa);
  asked.method = khalti ? RefundMethod::kKhalti : RefundMethod::kManual;
  asked.reason = ask->reason;
  asked.reference = ask->reference;
  asked.note = ask->note;
  asked.keep_plan = ask->keep_plan;
  asked.idempotency_key = ask->key;
  auto begun = s.store.BeginRefund(asked, call.now);
  if (!begun) return begun.error();
  const Refund& refund = begun.value();
  if (refund.status != RefundStatus::kPending) return Answer(s, refund);
  if (!khalti) {
    auto settled =
        s.store.SettleRefund(refund.id, RefundStatus::kSucceeded,
                             "recorded by hand (eSewa merchant portal)", ask->reference, call.now);
    if (!settled) return settled.error();
    return Answer(s, *settled);
  }
  // Only the call that made the refund asks Khalti straight away (Khalti has no idempotency
  // key of its own); a repeat looks it up first.
  return RefundThroughKhalti(s, *payment, *ask, refund, !refund.replayed);
}

}  // namespace sima::server
