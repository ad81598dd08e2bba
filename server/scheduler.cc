#include "scheduler.h"

#include <iostream>

#include "sima/json.h"

namespace sima::server {

Scheduler::Scheduler(Store& store, ComposeReminder compose, NowFn now, std::function<void()> sent)
    : store_(store), compose_(std::move(compose)), now_(std::move(now)), sent_(std::move(sent)) {}

void Scheduler::Start(std::chrono::milliseconds interval) {
  worker_.Start(interval, [this] { RunOnce(); });
}

Scheduler::Pass Scheduler::RunOnce() {
  const Time now = now_();
  Pass pass;
  Json sent = Json::array();
  std::string after;
  for (;;) {
    auto batch = store_.ReminderCandidates(now, after, kBatch);
    if (!batch) {
      ++pass.errors;
      std::cerr << Json{{"msg", "scheduler: cannot list organizations"},
                        {"error", batch.error().message}}
                       .dump(-1, ' ', false, Json::error_handler_t::replace)
                << std::endl;
      break;
    }
    for (const std::string& org_id : batch.value()) {
      ++pass.candidates;
      auto result = store_.SendDueReminder(org_id, now, compose_);
      if (!result) {
        ++pass.errors;
        std::cerr << Json{{"msg", "scheduler: reminder not sent, will retry"},
                          {"org", org_id},
                          {"error", result.error().message}}
                         .dump(-1, ' ', false, Json::error_handler_t::replace)
                  << std::endl;
        continue;
      }
      if (!result.value()) continue;
      ++pass.sent;
      if (result.value()->emailed) ++pass.emailed;
      sent.push_back({{"org", org_id},
                      {"key", result.value()->reminder.key},
                      {"emailed", result.value()->emailed}});
    }
    if (static_cast<int64_t>(batch->size()) < kBatch) break;
    after = batch->back();
  }
  if (pass.sent > 0) {
    std::cerr << Json{{"msg", "scheduler: reminders sent"}, {"reminders", std::move(sent)}}.dump(
                     -1, ' ', false, Json::error_handler_t::replace)
              << std::endl;
  }
  if (pass.emailed > 0 && sent_) sent_();
  return pass;
}

}  // namespace sima::server
