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

// Payments (handlers_payments.cc): one handler per step serves every gateway; a route binds
// it to its provider (/billing/{slug}/init/, verify/, callback/, failure/).
HandlerFn PaymentInitHandler(Provider provider);
HandlerFn PaymentVerifyHandler(Provider provider);
HandlerFn PaymentReturnHandler(Provider provider);   // the gateway's redirect back
HandlerFn PaymentFailureHandler(Provider provider);  // a failure target naming ?ref=
Expected<Reply> GetPaymentHandler(const Services& s, const Call& call);
Expected<Reply> ListPaymentsHandler(const Services& s, const Call& call);

// Every route of the API (payments add theirs here).
std::vector<Route> ApiRoutes();

}  // namespace sima::server
