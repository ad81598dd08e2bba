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
      {"POST", "/team-members", Access::kOrg, CreateTeamMemberHandler},
      {"GET", "/team-members", Access::kOrg, ListTeamMembersHandler},
      {"GET", "/team-members/:id", Access::kOrg, GetTeamMemberHandler},
      {"POST", "/usage/:feature", Access::kOrg, RecordUsageHandler},
      {"POST", "/billing/khalti/init", Access::kOrg, KhaltiInitHandler},
      {"POST", "/billing/khalti/verify", Access::kOrg, KhaltiVerifyHandler},
      {"GET", "/billing/khalti/callback", Access::kPublic, KhaltiCallbackHandler},
      {"POST", "/billing/esewa/init", Access::kOrg, EsewaInitHandler},
      {"POST", "/billing/esewa/verify", Access::kOrg, EsewaVerifyHandler},
      {"GET", "/billing/esewa/callback", Access::kPublic, EsewaCallbackHandler},
      {"GET", "/billing/esewa/failure", Access::kPublic, EsewaFailureHandler},
      {"GET", "/billing/payments", Access::kOrg, ListPaymentsHandler},
      {"GET", "/billing/payments/:id", Access::kOrg, GetPaymentHandler},
      {"GET", "/admin/orgs/:org_id/keys", Access::kAdmin, ListKeysHandler},
      {"POST", "/admin/orgs/:org_id/keys", Access::kAdmin, CreateKeyHandler, true},
      {"DELETE", "/admin/orgs/:org_id/keys/:key_id", Access::kAdmin, RevokeKeyHandler, true},
      {"DELETE", "/sessions/current", Access::kOrg, EndSessionHandler, true},
  };
}

}  // namespace sima::server
