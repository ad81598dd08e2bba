#include "courier.h"

#include <httplib.h>

#include <algorithm>

#include "url.h"

namespace sima::simulator {

Courier::Courier(std::function<void(const std::string&)> log)
    : log_(std::move(log)), worker_([this] { Run(); }) {}

Courier::~Courier() { Stop(); }

void Courier::DeliverLater(std::string url, std::chrono::milliseconds delay) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    Job job{std::chrono::steady_clock::now() + delay, std::move(url)};
    auto at = std::upper_bound(jobs_.begin(), jobs_.end(), job,
                               [](const Job& a, const Job& b) { return a.due < b.due; });
    jobs_.insert(at, std::move(job));
  }
  cv_.notify_all();
}

void Courier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Courier::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopping_) return;
    if (jobs_.empty()) {
      cv_.wait(lock);
      continue;
    }
    if (std::chrono::steady_clock::now() < jobs_.front().due) {
      cv_.wait_until(lock, jobs_.front().due);
      continue;
    }
    const std::string url = jobs_.front().url;
    jobs_.pop_front();
    lock.unlock();
    std::string outcome;
    if (auto parts = SplitUrl(url)) {
      httplib::Client client(parts->origin);
      client.set_connection_timeout(std::chrono::seconds(2));
      client.set_read_timeout(std::chrono::seconds(5));
      auto res = client.Get(parts->path_and_query);
      outcome = res ? std::to_string(res->status) : httplib::to_string(res.error());
    } else {
      outcome = "not an http(s) URL";
    }
    if (log_) log_("duplicate redirect GET " + url + " -> " + outcome);
    lock.lock();
  }
}

}  // namespace sima::simulator
