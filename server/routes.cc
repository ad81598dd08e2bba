#include "handlers.h"

namespace sima::server {

std::vector<Route> ApiRoutes() {
  return {
      {"GET", "/healthz", Access::kPublic, Healthz},
      {"GET", "/billing/plans", Access::kPublic, GetPlans},
      {"POST", "/admin/orgs", Access::kAdmin, CreateOrgHandler},
      {"POST", "/sessions", Access::kSecretKeyOnly, CreateSessionHandler, true},
      {"GET", "/billing/usage", Access::kOrg, GetUsage},
      {"POST", "/invoices", Access::kOrg, CreateInvoiceHandler},
      {"GET", "/invoices", Access::kOrg, ListInvoicesHandler},
      {"GET", "/invoices/:id", Access::kOrg, GetInvoiceHandler},
      {"POST", "/customers", Access::kOrg, CreateCustomerHandler},
      {"GET", "/customers", Access::kOrg, ListCustomersHandler},
      {"GET", "/customers/:id", Access::kOrg, GetCustomerHandler},
      {"DELETE", "/customers/:id", Access::kOrg, DeleteCustomerHandler, true},
      {"POST", "/team-members", Access::kOrg, CreateTeamMemberHandler},
      {"GET", "/team-members", Access::kOrg, ListTeamMembersHandler},
      {"GET", "/team-members/:id", Access::kOrg, GetTeamMemberHandler},
      {"DELETE", "/team-members/:id", Access::kOrg, DeleteTeamMemberHandler, true},
      {"POST", "/usage/:feature", Access::kOrg, RecordUsageHandler},
      // Each gateway: its lines here and its adapter (gateway_adapters.h).
      {"POST", "/billing/khalti/init", Access::kOrg, PaymentInitHandler(Provider::kKhalti)},
      {"POST", "/billing/khalti/verify", Access::kOrg, PaymentVerifyHandler(Provider::kKhalti)},
      {"GET", "/billing/khalti/callback", Access::kPublic, PaymentReturnHandler(Provider::kKhalti)},
      {"POST", "/billing/esewa/init", Access::kOrg, PaymentInitHandler(Provider::kEsewa)},
      {"POST", "/billing/esewa/verify", Access::kOrg, PaymentVerifyHandler(Provider::kEsewa)},
      {"GET", "/billing/esewa/callback", Access::kPublic, PaymentReturnHandler(Provider::kEsewa)},
      {"GET", "/billing/esewa/failure", Access::kPublic, PaymentFailureHandler(Provider::kEsewa)},
      {"GET", "/billing/payments", Access::kOrg, ListPaymentsHandler},
      {"GET", "/billing/payments/:id", Access::kOrg, GetPaymentHandler},
      {"GET", "/admin/orgs/:org_id/keys", Access::kAdmin, ListKeysHandler},
      {"POST", "/admin/orgs/:org_id/keys", Access::kAdmin, CreateKeyHandler, true},
      {"DELETE", "/admin/orgs/:org_id/keys/:key_id", Access::kAdmin, RevokeKeyHandler, true},
      {"GET", "/admin/orgs/:org_id/overrides", Access::kAdmin, ListOverridesHandler},
      {"PUT", "/admin/orgs/:org_id/overrides/:feature", Access::kAdmin, SetOverrideHandler},
      {"DELETE", "/admin/orgs/:org_id/overrides/:feature", Access::kAdmin, ClearOverrideHandler,
       true},
      {"DELETE", "/sessions/current", Access::kOrg, EndSessionHandler, true},
      {"GET", "/billing/subscription", Access::kOrg, GetSubscriptionHandler},
      {"POST", "/billing/subscription", Access::kOrg, ChangeSubscriptionHandler},
      {"GET", "/billing/quote", Access::kOrg, GetQuoteHandler},
      {"GET", "/events/:org_id", Access::kOrgEvents, EventsHandler},
      {"GET", "/events/:org_id/auth", Access::kOrgEvents, EventsAuthHandler},
      {"POST", "/admin/orgs/:org_id/trial", Access::kAdmin, GrantTrialHandler},
      {"GET", "/admin/payments/:payment_id", Access::kAdmin, AdminGetPaymentHandler},
      {"GET", "/admin/payments/:payment_id/refunds", Access::kAdmin, ListRefundsHandler},
      {"POST", "/admin/payments/:payment_id/refunds", Access::kAdmin, CreateRefundHandler},
      {"GET", "/pay/:token", Access::kPublic, PayLinkPageHandler, false, true},
      {"POST", "/pay/:token", Access::kPublic, PayLinkPayHandler, false, true},
      {"GET", "/demo/clock", Access::kLocalAdmin, GetDemoClockHandler},
      {"POST", "/demo/clock", Access::kLocalAdmin, AdvanceDemoClockHandler},
  };
}

}  // namespace sima::server
