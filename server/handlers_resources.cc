// The example SaaS resources: invoices, customers, team members. Each create is metered by
// the store (check, insert and count in one transaction); deleting a customer or a team member
// frees its allocation in the same transaction.
#include <charconv>

#include "handlers.h"
#include "paging.h"
#include "validate.h"

namespace sima::server {
namespace {

constexpr int64_t kMaxAmountPaisa = 1'000'000'000'000;  // 10 billion rupees

Json ToJson(const Invoice& v) {
  return {{"id", v.id},
          {"amount_paisa", v.amount_paisa},
          {"customer_id", v.customer_id ? Json(*v.customer_id) : Json(nullptr)},
          {"description", v.description},
          {"created_at", FormatTime(v.created_at)}};
}

Json ToJson(const Customer& v) {
  return {
      {"id", v.id}, {"name", v.name}, {"email", v.email}, {"created_at", FormatTime(v.created_at)}};
}

Json ToJson(const TeamMember& v) {
  return {
      {"id", v.id}, {"email", v.email}, {"name", v.name}, {"created_at", FormatTime(v.created_at)}};
}

template <typename T>
Expected<Reply> Items(const Expected<Page<T>>& list) {
  if (!list) return list.error();
  Json items = Json::array();
  for (const T& v : list->items) items.push_back(ToJson(v));
  return Reply{200, PageBody(std::move(items), list->next)};
}

template <typename T>
Expected<Reply> One(const Expected<T>& v, int status = 200) {
  if (!v) return v.error();
  return Reply{status, ToJson(*v)};
}

// 204 for a delete that happened.
Expected<Reply> Gone(const ExpectedDone& done) {
  if (!done) return done.error();
  return Reply{204, nullptr};
}

}  // namespace

Expected<Reply> CreateInvoiceHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"amount_paisa", "customer_id", "description"}); !r) {
    return r.error();
  }
  auto amount = IntField(call.body, "amount_paisa", 0, kMaxAmountPaisa);
  if (!amount) return amount.error();
  auto customer = StringField(call.body, "customer_id", false, 64, TextKind::kKey);
  if (!customer) return customer.error();
  if (*customer && !HasIdShape(**customer, "cus")) {
    return Error::Validation("customer_id", "no customer with this id");
  }
  auto description = StringField(call.body, "description", false, 1000, TextKind::kText);
  if (!description) return description.error();
  auto id = NewId("inv");
  if (!id) return id.error();
  Invoice invoice{id.value(), *amount, *customer, description->value_or(""), call.now};
  return One(s.store.CreateInvoice(call.org_id(), invoice, call.now), 201);
}

Expected<Reply> ListInvoicesHandler(const Services& s, const Call& call) {
  auto page = ReadPageRequest(call);
  if (!page) return page.error();
  return Items(s.store.ListInvoices(call.org_id(), *page, call.now));
}

Expected<Reply> GetInvoiceHandler(const Services& s, const Call& call) {
  const std::string& id = call.params.at(0);
  if (!HasIdShape(id, "inv")) return Error::NotFound("no invoice with this id");
  return One(s.store.GetInvoice(call.org_id(), id, call.now));
}

Expected<Reply> CreateCustomerHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"name", "email"}); !r) return r.error();
  auto name = StringField(call.body, "name", true, 200, TextKind::kLine);
  if (!name) return name.error();
  auto email = StringField(call.body, "email", true, 254, TextKind::kEmail);
  if (!email) return email.error();
  auto id = NewId("cus");
  if (!id) return id.error();
  Customer customer{id.value(), **name, **email, call.now};
  return One(s.store.CreateCustomer(call.org_id(), customer, call.now), 201);
}

Expected<Reply> ListCustomersHandler(const Services& s, const Call& call) {
  auto page = ReadPageRequest(call);
  if (!page) return page.error();
  return Items(s.store.ListCustomers(call.org_id(), *page, call.now));
}

Expected<Reply> GetCustomerHandler(const Services& s, const Call& call) {
  const std::string& id = call.params.at(0);
  if (!HasIdShape(id, "cus")) return Error::NotFound("no customer with this id");
  return One(s.store.GetCustomer(call.org_id(), id, call.now));
}

// DELETE /customers/{id}/: 204; another organization's or a missing customer is 404.
Expected<Reply> DeleteCustomerHandler(const Services& s, const Call& call) {
  const std::string& id = call.params.at(0);
  if (auto r = OnlyFields(call.body, {}); !r) return r.error();
  if (!HasIdShape(id, "cus")) return Error::NotFound("no customer with this id");
  return Gone(s.store.DeleteCustomer(call.org_id(), id, call.now));
}

Expected<Reply> CreateTeamMemberHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"email", "name"}); !r) return r.error();
  auto email = StringField(call.body, "email", true, 254, TextKind::kEmail);
  if (!email) return email.error();
  auto name = StringField(call.body, "name", false, 200, TextKind::kLine);
  if (!name) return name.error();
  auto id = NewId("tm");
  if (!id) return id.error();
  TeamMember member{id.value(), **email, name->value_or(""), call.now};
  return One(s.store.CreateTeamMember(call.org_id(), member, call.now), 201);
}

Expected<Reply> ListTeamMembersHandler(const Services& s, const Call& call) {
  auto page = ReadPageRequest(call);
  if (!page) return page.error();
  return Items(s.store.ListTeamMembers(call.org_id(), *page, call.now));
}

Expected<Reply> GetTeamMemberHandler(const Services& s, const Call& call) {
  const std::string& id = call.params.at(0);
  if (!HasIdShape(id, "tm")) return Error::NotFound("no team member with this id");
  return One(s.store.GetTeamMember(call.org_id(), id, call.now));
}

// DELETE /team-members/{id}/: 204, and the seat is free at once.
Expected<Reply> DeleteTeamMemberHandler(const Services& s, const Call& call) {
  const std::string& id = call.params.at(0);
  if (auto r = OnlyFields(call.body, {}); !r) return r.error();
  if (!HasIdShape(id, "tm")) return Error::NotFound("no team member with this id");
  return Gone(s.store.DeleteTeamMember(call.org_id(), id, call.now));
}

}  // namespace sima::server
