// The handlers of docs/api.md: plain functions over the store and sdk/. Each takes the
// parsed, authenticated Call and returns the Reply or the Error; routes.cc binds them.
#pragma once

#include <vector>

#include "http.h"

namespace sima::server {

// Public.
Expected<Reply> Healthz(const Services& s, const Call& call);
Expected<Reply> GetPlans(const Services& s, const Call& call);

// Admin.
Expected<Reply> CreateOrgHandler(const Services& s, const Call& call);
Expected<Reply> ListKeysHandler(const Services& s, const Call& call);
Expected<Reply> CreateKeyHandler(const Services& s, const Call& call);
Expected<Reply> RevokeKeyHandler(const Services& s, const Call& call);
Expected<Reply> ListOverridesHandler(const Services& s, const Call& call);
Expected<Reply> SetOverrideHandler(const Services& s, const Call& call);
Expected<Reply> ClearOverrideHandler(const Services& s, const Call& call);
Expected<Reply> GrantTrialHandler(const Services& s, const Call& call);
// Payments by id and their refunds (handlers_refunds.cc).
Expected<Reply> AdminGetPaymentHandler(const Services& s, const Call& call);
Expected<Reply> ListRefundsHandler(const Services& s, const Call& call);
Expected<Reply> CreateRefundHandler(const Services& s, const Call& call);

// Admin: webhook endpoints and the event log (handlers_webhooks.cc).
Expected<Reply> CreateWebhookEndpointHandler(const Services& s, const Call& call);
Expected<Reply> ListWebhookEndpointsHandler(const Services& s, const Call& call);
Expected<Reply> GetWebhookEndpointHandler(const Services& s, const Call& call);
Expected<Reply> UpdateWebhookEndpointHandler(const Services& s, const Call& call);
Expected<Reply> RotateWebhookSecretHandler(const Services& s, const Call& call);
Expected<Reply> DeleteWebhookEndpointHandler(const Services& s, const Call& call);
Expected<Reply> ListWebhookEventsHandler(const Services& s, const Call& call);
Expected<Reply> GetWebhookEventHandler(const Services& s, const Call& call);
Expected<Reply> ResendWebhookEventHandler(const Services& s, const Call& call);

// Organization.
Expected<Reply> CreateSessionHandler(const Services& s, const Call& call);
Expected<Reply> EndSessionHandler(const Services& s, const Call& call);
Expected<Reply> GetUsage(const Services& s, const Call& call);
Expected<Reply> CreateInvoiceHandler(const Services& s, const Call& call);
Expected<Reply> ListInvoicesHandler(const Services& s, const Call& call);
Expected<Reply> GetInvoiceHandler(const Services& s, const Call& call);
Expected<Reply> CreateCustomerHandler(const Services& s, const Call& call);
Expected<Reply> ListCustomersHandler(const Services& s, const Call& call);
Expected<Reply> GetCustomerHandler(const Services& s, const Call& call);
Expected<Reply> DeleteCustomerHandler(const Services& s, const Call& call);
Expected<Reply> CreateTeamMemberHandler(const Services& s, const Call& call);
Expected<Reply> ListTeamMembersHandler(const Services& s, const Call& call);
Expected<Reply> GetTeamMemberHandler(const Services& s, const Call& call);
Expected<Reply> DeleteTeamMemberHandler(const Services& s, const Call& call);
Expected<Reply> RecordUsageHandler(const Services& s, const Call& call);

// The subscription's lifecycle (handlers_subscription.cc): GET/POST /billing/subscription/,
// GET /billing/quote/.
Expected<Reply> GetSubscriptionHandler(const Services& s, const Call& call);
Expected<Reply> ChangeSubscriptionHandler(const Services& s, const Call& call);
Expected<Reply> GetQuoteHandler(const Services& s, const Call& call);

// Live usage events (handlers_events.cc): GET /events/{org_id}/ (the stream) and
// GET /events/{org_id}/auth/ (nchan's subscriber authorization).
Expected<Reply> EventsHandler(const Services& s, const Call& call);
Expected<Reply> EventsAuthHandler(const Services& s, const Call& call);

// Pay links (handlers_pay.cc): HTML pages, no credential; the token is the path parameter.
Expected<Reply> PayLinkPageHandler(const Services& s, const Call& call);
Expected<Reply> PayLinkPayHandler(const Services& s, const Call& call);

// The demo clock (SIMA_DEMO_CLOCK=1 only): GET and POST /demo/clock/.
Expected<Reply> GetDemoClockHandler(const Services& s, const Call& call);
Expected<Reply> AdvanceDemoClockHandler(const Services& s, const Call& call);

// Payments (handlers_payments.cc): one handler per step serves every gateway; a route binds
// it to its provider (/billing/{slug}/init/, verify/, callback/, failure/).
HandlerFn PaymentInitHandler(Provider provider);
HandlerFn PaymentVerifyHandler(Provider provider);
HandlerFn PaymentReturnHandler(Provider provider);   // the gateway's redirect back
HandlerFn PaymentFailureHandler(Provider provider);  // a failure target naming ?ref=
Expected<Reply> GetPaymentHandler(const Services& s, const Call& call);
// A payment id as a path or a body gives it: a positive integer (or its text); nullopt else.
std::optional<int64_t> ParsePaymentId(const Json& v);

// A payment of `plan` for `org_id` started at its gateway: init and the pay links' POST share
// this one path. An open payment of the same plan and provider that can still be paid (for
// the amount a new quote charges) is offered again (`reused`). The amount is the store's
// (sima::QuotePayment), never a client's. Errors: the store's (invalid_plan, conflict,
// rate_limited), gateway_error / gateway_timeout when the gateway did not start it (the
// payment is then FAILED, nothing was charged), gateway_error when the gateway is off.
struct StartedPayment {
  Payment payment;
  bool reused = false;
  const PaymentGateway* gateway = nullptr;
  Checkout next;  // where the payer goes now
};
Expected<StartedPayment> StartPayment(const Services& s, const std::string& org_id,
                                      Provider provider, const std::string& plan, Time now);
Expected<Reply> ListPaymentsHandler(const Services& s, const Call& call);

// Every route of the API (payments add theirs here). The /demo/ routes are installed only
// with SIMA_DEMO_CLOCK=1 (App::Create).
std::vector<Route> ApiRoutes();

}  // namespace sima::server
