#include "sima/json.h"

#include <cstdint>

namespace sima {
namespace {

// Reads an integer that fits int64_t; nullopt for anything else (floats, strings, huge).
std::optional<int64_t> Int(const Json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return std::nullopt;
}

const Json* Field(const Json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// The string at `key` when it is one and not empty, else nullptr.
const std::string* NonEmptyText(const Json& obj, std::string_view key) {
  const Json* v = Field(obj, key);
  if (v == nullptr || !v->is_string() || v->get_ref<const std::string&>().empty()) return nullptr;
  return &v->get_ref<const std::string&>();
}

// The RFC 3339 time at `key`; nullopt when missing, not a string or not a time.
std::optional<Time> TimeAt(const Json& obj, std::string_view key) {
  const Json* v = Field(obj, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return ParseTime(v->get_ref<const std::string&>());
}

// {"limit","plan","until"} of an override (the limit as `kind` spells it); null for none.
Json OverrideTermsToJson(FeatureKind kind, const Override& o) {
  return {{"limit", LimitToJson(kind, o.limit)},
          {"plan", o.plan ? Json(*o.plan) : Json(nullptr)},
          {"until", o.until ? Json(FormatTime(*o.until)) : Json(nullptr)}};
}
Json OverrideTermsToJson(FeatureKind kind, const std::optional<Override>& o) {
  return o ? OverrideTermsToJson(kind, *o) : Json(nullptr);
}

Status Wrong(const std::string& where, std::string_view what) {
  return Status::InvalidCatalog(where + " " + std::string(what));
}

Result<std::string> NonEmptyString(const Json& obj, std::string_view key,
                                   const std::string& where) {
  const std::string* v = NonEmptyText(obj, key);
  if (v == nullptr) return Wrong(where + "." + std::string(key), "must be a non-empty string");
  return *v;
}

Result<Feature> FeatureFromJson(const Json& j, const std::string& where) {
  if (!j.is_object()) return Wrong(where, "must be an object");
  auto key = NonEmptyString(j, "key", where);
  if (!key) return key.status();
  Feature f{key.value(), key.value(), Enforcement::kHard};
  if (const Json* label = Field(j, "label")) {
    if (!label->is_string()) return Wrong(where + ".label", "must be a string");
    f.label = label->get<std::string>();
  }
  if (const Json* kind = Field(j, "kind")) {
    const auto parsed = kind->is_string()
                            ? FeatureKindFromString(kind->get_ref<const std::string&>())
                            : std::nullopt;
    if (!parsed) {
      return Wrong(where + ".kind",
                   "must be \"metered\", \"allocation\", \"boolean\" or \"value\"");
    }
    f.kind = *parsed;
  }
  if (const Json* unit = Field(j, "unit")) {
    if (!unit->is_string()) return Wrong(where + ".unit", "must be a string");
    f.unit = unit->get<std::string>();
  }
  if (const Json* e = Field(j, "enforcement")) {
    if (*e == "soft") {
      f.enforcement = Enforcement::kSoft;
    } else if (*e != "hard") {
      return Wrong(where + ".enforcement", "must be \"hard\" or \"soft\"");
    }
  }
  return f;
}

Result<Plan> PlanFromJson(const Json& j, const std::string& where,
                          const std::vector<Feature>& features) {
  if (!j.is_object()) return Wrong(where, "must be an object");
  auto code = NonEmptyString(j, "code", where);
  if (!code) return code.status();
  const std::string at = "plan \"" + code.value() + "\"";
  Plan p;
  p.code = code.value();
  p.name = p.code;
  if (const Json* name = Field(j, "name")) {
    if (!name->is_string()) return Wrong(at + " name", "must be a string");
    p.name = name->get<std::string>();
  }
  if (const Json* paisa = Field(j, "price_paisa")) {
    const auto v = Int(*paisa);
    if (!v) return Wrong(at + " price_paisa", "must be an integer");
    p.price_paisa = *v;
  } else if (const Json* rupees = Field(j, "price")) {
    const auto v = Int(*rupees);
    if (!v || *v > INT64_MAX / 100 || *v < INT64_MIN / 100) {
      return Wrong(at + " price", "must be an integer number of rupees");
    }
    p.price_paisa = *v * 100;
  } else {
    return Wrong(at, "has no price_paisa (or price)");
  }
  const Json* limits = Field(j, "limits");
  if (limits == nullptr || !limits->is_object()) return Wrong(at + " limits", "must be an object");
  for (const auto& [key, value] : limits->items()) {
    bool known = false;
    for (const Feature& f : features) known = known || f.key == key;
    if (!known) return Wrong(at, "has a limit for unknown feature \"" + key + "\"");
  }
  for (const Feature& f : features) {
    const Json* v = Field(*limits, f.key);
    if (v == nullptr) return Wrong(at, "has no limit for feature \"" + f.key + "\"");
    const std::string limit_at = at + " limit for \"" + f.key + "\"";
    if (f.kind == FeatureKind::kBoolean) {
      if (!v->is_boolean()) return Wrong(limit_at, "must be true or false (a boolean feature)");
      p.limits.push_back(Limit::Switch(v->get<bool>()));
      continue;
    }
    const auto n = Int(*v);
    if (!n) {
      const char* article = f.kind == FeatureKind::kAllocation ? "an " : "a ";
      return Wrong(limit_at, "must be an integer, -1 for unlimited (" + std::string(article) +
                                 std::string(to_string(f.kind)) + " feature)");
    }
    auto limit = LimitFromWire(*n);
    if (!limit) {
      return Wrong(limit_at, "is " + std::to_string(*n) + "; it must be -1 (unlimited) or more");
    }
    p.limits.push_back(limit.value());
  }
  return p;
}

}  // namespace

int64_t LimitToWire(Limit limit) { return limit.unlimited() ? -1 : limit.count(); }

Result<Limit> LimitFromWire(int64_t value) {
  if (value < -1) {
    return Status::InvalidArgument("a limit must be -1 (unlimited) or more, got " +
                                   std::to_string(value));
  }
  return value == -1 ? Limit::Unlimited() : Limit::Of(value);
}

Json LimitToJson(FeatureKind kind, Limit limit) {
  if (kind == FeatureKind::kBoolean) return limit.on();
  return LimitToWire(limit);
}

Result<Limit> LimitFromJson(FeatureKind kind, const Json& value, std::string_view feature) {
  const std::string of =
      " for the " + std::string(to_string(kind)) + " feature \"" + std::string(feature) + "\"";
  if (kind == FeatureKind::kBoolean) {
    if (!value.is_boolean()) return Status::InvalidArgument("must be true or false" + of);
    return Limit::Switch(value.get<bool>());
  }
  const auto n = Int(value);
  if (!n || *n < -1) {
    return Status::InvalidArgument("must be an integer of -1 (unlimited) or more" + of);
  }
  return LimitFromWire(*n);
}

Json CatalogToJson(const Catalog& catalog) {
  Json features = Json::array();
  for (const Feature& f : catalog.features()) {
    features.push_back({{"key", f.key},
                        {"label", f.label},
                        {"kind", to_string(f.kind)},
                        {"enforcement", to_string(f.enforcement)},
                        {"unit", f.unit}});
  }
  Json plans = Json::array();
  for (const Plan& p : catalog.plans()) {
    Json limits = Json::object();
    for (size_t i = 0; i < catalog.features().size(); ++i) {
      const Feature& f = catalog.features()[i];
      limits[f.key] = LimitToJson(f.kind, p.limits[i]);
    }
    plans.push_back({{"code", p.code},
                     {"name", p.name},
                     {"price", p.price_rupees()},
                     {"price_paisa", p.price_paisa},
                     {"limits", std::move(limits)}});
  }
  return {{"currency", catalog.currency()},
          {"period_days", catalog.period_days()},
          {"renewal_notice_days", catalog.renewal_notice_days()},
          {"grace_days", catalog.grace_days()},
          {"features", std::move(features)},
          {"plans", std::move(plans)}};
}

Result<Catalog> CatalogFromJson(const Json& json) {
  if (!json.is_object()) return Status::InvalidCatalog("a catalog must be a JSON object");
  std::string currency = "NPR";
  if (const Json* c = Field(json, "currency")) {
    if (!c->is_string()) return Wrong("currency", "must be a string");
    currency = c->get<std::string>();
  }
  int period_days = 30;
  if (const Json* d = Field(json, "period_days")) {
    const auto v = Int(*d);
    if (!v || *v < 1 || *v > 3660) return Wrong("period_days", "must be an integer from 1 to 3660");
    period_days = static_cast<int>(*v);
  }
  RenewalSettings renewal;
  if (const Json* n = Field(json, "renewal_notice_days")) {
    if (!n->is_array()) return Wrong("renewal_notice_days", "must be an array of whole days");
    renewal.notice_days.emplace();
    for (size_t i = 0; i < n->size(); ++i) {
      const auto v = Int((*n)[i]);
      if (!v || *v < 1 || *v > period_days) {
        return Wrong("renewal_notice_days[" + std::to_string(i) + "]",
                     "must be a whole number of days from 1 to period_days (" +
                         std::to_string(period_days) + ")");
      }
      renewal.notice_days->push_back(static_cast<int>(*v));
    }
  }
  if (const Json* g = Field(json, "grace_days")) {
    const auto v = Int(*g);
    if (!v || *v < 0 || *v > period_days) {
      return Wrong("grace_days", "must be a whole number of days from 0 to period_days (" +
                                     std::to_string(period_days) + ")");
    }
    renewal.grace_days = static_cast<int>(*v);
  }
  const Json* features = Field(json, "features");
  if (features == nullptr || !features->is_array()) return Wrong("features", "must be an array");
  std::vector<Feature> fs;
  for (size_t i = 0; i < features->size(); ++i) {
    auto f = FeatureFromJson((*features)[i], "features[" + std::to_string(i) + "]");
    if (!f) return f.status();
    fs.push_back(std::move(f).value());
  }
  const Json* plans = Field(json, "plans");
  if (plans == nullptr || !plans->is_array()) return Wrong("plans", "must be an array");
  std::vector<Plan> ps;
  for (size_t i = 0; i < plans->size(); ++i) {
    auto p = PlanFromJson((*plans)[i], "plans[" + std::to_string(i) + "]", fs);
    if (!p) return p.status();
    ps.push_back(std::move(p).value());
  }
  return Catalog::Create(std::move(currency), period_days, std::move(fs), std::move(ps),
                         std::move(renewal));
}

Json ParseJson(std::string_view text) {
  // Json::parse(text, nullptr, false) builds both nlohmann's parser for callbacks and the plain
  // one (chosen at run time); this is the plain one alone, strict as Json::parse is.
  Json out;
  nlohmann::detail::json_sax_dom_parser<Json> sax(out, false);
  auto input = nlohmann::detail::input_adapter(text.begin(), text.end());
  nlohmann::detail::parser<Json, decltype(input)> parser(std::move(input), nullptr, false, false);
  if (!parser.sax_parse(&sax, true) || sax.is_errored()) return Json(Json::value_t::discarded);
  return out;
}

Result<Catalog> ParseCatalog(std::string_view text) {
  const Json json = ParseJson(text);
  if (json.is_discarded()) return Status::InvalidJson("the catalog is not valid JSON");
  return CatalogFromJson(json);
}

Json UpgradeToJson(const std::optional<Upgrade>& upgrade, FeatureKind kind) {
  if (!upgrade) return nullptr;
  return {{"plan", upgrade->plan},
          {"limit", LimitToJson(kind, upgrade->limit)},
          {"price", WholeRupees(upgrade->price_paisa)},
          {"price_paisa", upgrade->price_paisa}};
}

Json OverrideTermsToJson(const Catalog& catalog, const std::optional<Override>& o) {
  if (!o) return nullptr;
  const auto index = catalog.FeatureIndex(o->feature);
  return OverrideTermsToJson(index ? catalog.features()[*index].kind : FeatureKind::kMetered, *o);
}

Json OverrideToJson(const Catalog& catalog, const Override& o) {
  Json j = {{"feature", o.feature}};
  j.update(OverrideTermsToJson(catalog, o));
  return j;
}

Result<Override> OverrideFromJson(const Catalog& catalog, const Json& json) {
  if (!json.is_object()) return Status::InvalidArgument("an override must be an object");
  const std::string* feature = NonEmptyText(json, "feature");
  if (feature == nullptr) return Status::InvalidArgument("feature must be a non-empty string");
  const auto index = catalog.FeatureIndex(*feature);
  if (!index) {  // ValidateOverride names the unknown feature
    return ValidateOverride(catalog,
                            Override{*feature, Limit::Unlimited(), std::nullopt, std::nullopt});
  }
  const Json* limit_json = Field(json, "limit");
  if (limit_json == nullptr) return Status::InvalidArgument("limit is required");
  auto limit = LimitFromJson(catalog.features()[*index].kind, *limit_json, *feature);
  if (!limit) return Status::InvalidArgument("limit " + limit.status().message());
  Override o{*feature, limit.value(), std::nullopt, std::nullopt};
  if (const Json* plan = Field(json, "plan"); plan != nullptr && !plan->is_null()) {
    const std::string* code = NonEmptyText(json, "plan");
    if (code == nullptr) return Status::InvalidArgument("plan must be a plan code or null");
    o.plan = *code;
  }
  if (const Json* until = Field(json, "until"); until != nullptr && !until->is_null()) {
    o.until = TimeAt(json, "until");
    if (!o.until) return Status::InvalidArgument("until must be an RFC 3339 time or null");
  }
  if (Status s = ValidateOverride(catalog, o); !s.ok()) return s;
  return o;
}

Json DecisionToJson(const Decision& d) {
  return {{"allowed", d.allowed},
          {"feature", d.feature},
          {"kind", to_string(d.kind)},
          {"plan", d.plan},
          {"current", d.current},
          {"requested", d.requested},
          {"limit", LimitToJson(d.kind, d.limit)},
          {"remaining", d.remaining ? Json(*d.remaining) : Json(nullptr)},
          {"over", d.over},
          {"override", OverrideTermsToJson(d.kind, d.override)},
          {"upgrade", UpgradeToJson(d.upgrade, d.kind)}};
}

Json LimitReachedBody(const Decision& d) {
  return {{"error", "Limit reached"},
          {"code", "limit_reached"},
          {"feature", d.feature},
          {"kind", to_string(d.kind)},
          {"current", d.current},
          {"limit", LimitToJson(d.kind, d.limit)},
          {"plan", d.plan},
          {"override", OverrideTermsToJson(d.kind, d.override)},
          {"upgrade", UpgradeToJson(d.upgrade, d.kind)}};
}

Json UsageRowToJson(const UsageRow& row) {
  return {{"kind", to_string(row.kind)},
          {"label", row.label},
          {"used", row.used},
          {"limit", LimitToJson(row.kind, row.limit)},
          {"percent", row.percent ? Json(*row.percent) : Json(nullptr)},
          {"status", to_string(row.status)},
          {"text", row.text},
          {"enforcement", to_string(row.enforcement)},
          {"unit", row.unit},
          {"override", OverrideTermsToJson(row.kind, row.override)},
          {"unlock", UpgradeToJson(row.unlock, row.kind)},
          {"note", row.note}};
}

Json UsageRowsToJson(const std::vector<UsageRow>& rows) {
  Json out = Json::object();
  for (const UsageRow& row : rows) out[row.feature] = UsageRowToJson(row);
  return out;
}

Json SubscriptionToJson(const Subscription& sub, Time now) {
  return {{"plan", EffectivePlan(sub, now)},
          {"is_active", sub.is_active(now)},
          {"start_date", FormatTime(sub.start)},
          {"end_date", sub.end ? Json(FormatTime(*sub.end)) : Json(nullptr)}};
}

namespace {

Json OptTime(const std::optional<Time>& t) { return t ? Json(FormatTime(*t)) : Json(nullptr); }

}  // namespace

Json SubscriptionToJson(const Catalog& catalog, const Subscription& sub, Time now) {
  const Lifecycle lc = LifecycleAt(catalog, sub, now);
  Json change = nullptr;
  if (sub.cancel_at_period_end) {
    change = {{"kind", to_string(ChangeKind::kCancel)}, {"plan", nullptr}};
  } else if (sub.next_plan) {
    change = {{"kind", to_string(ChangeKind::kSwitch)}, {"plan", *sub.next_plan}};
  }
  return {{"plan", lc.plan},
          {"is_active",
           lc.state != SubscriptionState::kFree && lc.state != SubscriptionState::kExpired},
          {"start_date", FormatTime(sub.start)},
          {"end_date", OptTime(sub.end)},
          {"state", to_string(lc.state)},
          {"subscribed_plan", sub.plan},
          {"trial", sub.trial},
          {"renewal_plan", lc.renewal_plan.empty() ? Json(nullptr) : Json(lc.renewal_plan)},
          {"renewal_due_from", OptTime(lc.renewal_due_from)},
          {"grace_until", OptTime(lc.grace_until)},
          {"ends_at", OptTime(lc.ends_at)},
          {"scheduled_change", std::move(change)}};
}

Json QuoteToJson(const UpgradeQuote& q) {
  Json breakdown = Json::array();
  for (const QuoteLine& line : q.breakdown) {
    breakdown.push_back({{"label", line.label}, {"amount", line.paisa}});
  }
  return {{"plan", q.to_plan},
          {"from_plan", q.from_plan},
          {"price", WholeRupees(q.price_paisa)},
          {"price_paisa", q.price_paisa},
          {"credit_paisa", q.credit_paisa},
          {"amount", WholeRupees(q.amount_paisa)},
          {"amount_paisa", q.amount_paisa},
          {"unused_seconds", q.unused.count()},
          {"start_date", FormatTime(q.start)},
          {"end_date", FormatTime(q.end)},
          {"amount_breakdown", std::move(breakdown)}};
}

namespace {

// A change whose kind is under `kind_key` ("change" in a request, "kind" in a subscription).
Result<ChangeRequest> ChangeFromJson(const Json& json, std::string_view kind_key) {
  if (!json.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  const Json* change = Field(json, kind_key);
  const auto kind = change != nullptr && change->is_string()
                        ? ChangeKindFromString(change->get_ref<const std::string&>())
                        : std::nullopt;
  if (!kind) return Status::InvalidArgument("change must be \"switch\", \"cancel\" or \"undo\"");
  ChangeRequest req{*kind, ""};
  const Json* plan = Field(json, "plan");
  if (*kind == ChangeKind::kSwitch) {
    const std::string* code = NonEmptyText(json, "plan");
    if (code == nullptr) return Status::InvalidArgument("plan must be a plan code for a switch");
    req.plan = *code;
  } else if (plan != nullptr && !plan->is_null()) {
    return Status::InvalidArgument("plan is only for a switch");
  }
  return req;
}

}  // namespace

Result<ChangeRequest> ChangeRequestFromJson(const Json& json) {
  return ChangeFromJson(json, "change");
}

Json PeriodToJson(const Period& period) {
  return {{"start", FormatTime(period.start)}, {"end", FormatTime(period.end)}};
}

Result<UsageSnapshot> UsageSnapshotFromJson(const Catalog& catalog, const Json& json) {
  if (!json.is_object()) return Status::InvalidJson("the usage snapshot must be a JSON object");
  const std::string* plan = NonEmptyText(json, "plan");
  if (plan == nullptr) {
    return Status::InvalidArgument("usage snapshot: \"plan\" must be a non-empty string");
  }
  const Json* usage = Field(json, "usage");
  if (usage == nullptr || !usage->is_object()) {
    return Status::InvalidArgument("usage snapshot: \"usage\" must be an object");
  }
  UsageSnapshot snap;
  snap.plan = *plan;
  snap.subscription.plan = snap.plan;
  for (const auto& [key, value] : usage->items()) {
    const Json* used = value.is_object() ? Field(value, "used") : &value;
    const auto n = used == nullptr ? std::nullopt : Int(*used);
    if (!n || *n < 0) {
      return Status::InvalidArgument("usage snapshot: usage." + key +
                                     ".used must be a whole number of 0 or more");
    }
    snap.usage.emplace(key, *n);
  }
  if (const Json* overrides = Field(json, "overrides");
      overrides != nullptr && !overrides->is_null()) {
    if (!overrides->is_array()) {
      return Status::InvalidArgument("usage snapshot: \"overrides\" must be an array");
    }
    for (size_t i = 0; i < overrides->size(); ++i) {
      const std::string at = "usage snapshot: overrides[" + std::to_string(i) + "]";
      if (!(*overrides)[i].is_object()) return Status::InvalidArgument(at + " must be an object");
      auto o = OverrideFromJson(catalog, (*overrides)[i]);
      if (!o) {
        return Status(o.status().code(), at + "." + o.status().message());
      }
      snap.overrides.push_back(std::move(o).value());
    }
  }
  if (const Json* sub = Field(json, "subscription"); sub != nullptr && !sub->is_null()) {
    auto parsed = SubscriptionFromJson(*sub);
    if (!parsed) {
      return Status::InvalidArgument("usage snapshot: " + parsed.status().message());
    }
    snap.subscription = std::move(parsed).value();
  }
  return snap;
}

Result<Subscription> SubscriptionFromJson(const Json& json) {
  if (!json.is_object()) return Status::InvalidArgument("subscription must be an object");
  const std::string* plan = NonEmptyText(json, "plan");
  if (plan == nullptr)
    return Status::InvalidArgument("subscription.plan must be a non-empty string");
  if (Field(json, "subscribed_plan") != nullptr) {
    plan = NonEmptyText(json, "subscribed_plan");
    if (plan == nullptr) {
      return Status::InvalidArgument("subscription.subscribed_plan must be a non-empty string");
    }
  }
  const auto start = TimeAt(json, "start_date");
  if (!start) return Status::InvalidArgument("subscription.start_date must be an RFC 3339 time");
  Subscription sub{*plan, *start, std::nullopt};
  if (const Json* end = Field(json, "end_date"); end != nullptr && !end->is_null()) {
    sub.end = TimeAt(json, "end_date");
    if (!sub.end) {
      return Status::InvalidArgument("subscription.end_date must be an RFC 3339 time or null");
    }
  }
  if (const Json* trial = Field(json, "trial")) {
    if (!trial->is_boolean()) {
      return Status::InvalidArgument("subscription.trial must be true or false");
    }
    sub.trial = trial->get<bool>();
  }
  if (const Json* change = Field(json, "scheduled_change");
      change != nullptr && !change->is_null()) {
    auto req = ChangeFromJson(*change, "kind");
    if (!req || req->kind == ChangeKind::kUndo) {
      return Status::InvalidArgument(
          "subscription.scheduled_change must be null, {\"kind\":\"cancel\"} or "
          "{\"kind\":\"switch\",\"plan\":...}");
    }
    sub.cancel_at_period_end = req->kind == ChangeKind::kCancel;
    if (req->kind == ChangeKind::kSwitch) sub.next_plan = req->plan;
  }
  return sub;
}

}  // namespace sima
