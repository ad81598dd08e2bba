#include "outbox_sender.h"

#include <algorithm>
#include <iostream>

namespace sima::server {
namespace {

constexpr int64_t kBatch = 16;
// A claimed e-mail is not taken again before this, even if this process dies while sending.
constexpr std::chrono::seconds kLease{120};

}  // namespace

OutboxSender::OutboxSender(Store& store, std::unique_ptr<Mailer> mailer, std::string from,
                           NowFn now)
    : store_(store), mailer_(std::move(mailer)), from_(std::move(from)), now_(std::move(now)) {}

void OutboxSender::Start(std::chrono::milliseconds interval) {
  worker_.Start(interval, [this] { RunOnce(); });
}

std::chrono::seconds OutboxSender::RetryBackoff(int64_t attempts) {
  return RetryDelay(attempts + 1, std::chrono::seconds{10});
}

int OutboxSender::RunOnce() {
  const Time now = now_();
  auto due = store_.ClaimDueEmails(now, now + kLease, kBatch);
  if (!due) return 0;
  int sent = 0;
  for (const OutboxEmail& row : due.value()) {
    Email email{row.message_id, from_, row.to, row.subject, row.body, row.created_at};
    const ExpectedDone sent_now = mailer_->Send(email);
    const Time after = now_();
    if (sent_now.ok()) {
      if (store_.MarkEmailSent(row.id, after).ok()) ++sent;
      continue;
    }
    std::cerr << Json{{"msg", "outbox: sending failed, will retry"},
                      {"email_id", row.id},
                      {"attempts", row.attempts + 1},
                      {"error", sent_now.error().message}}
                     .dump(-1, ' ', false, Json::error_handler_t::replace)
              << std::endl;
    (void)store_.MarkEmailFailed(row.id, sent_now.error().message,
                                 after + RetryBackoff(row.attempts));
  }
  return sent;
}

}  // namespace sima::server
