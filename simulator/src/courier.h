// Background GET deliveries: the duplicate redirect of redirect mode "twice".
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace sima::simulator {

class Courier {
 public:
  // log receives one line per delivery attempt; may be empty.
  explicit Courier(std::function<void(const std::string&)> log);
  ~Courier();  // Stop()
  Courier(const Courier&) = delete;
  Courier& operator=(const Courier&) = delete;

  // Queues one GET of url (http or https) after delay. Failures are logged, not retried.
  void DeliverLater(std::string url, std::chrono::milliseconds delay);
  // Drops what is still queued and joins the worker. Safe to call more than once.
  void Stop();

 private:
  void Run();

  struct Job {
    std::chrono::steady_clock::time_point due;
    std::string url;
  };
  std::function<void(const std::string&)> log_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace sima::simulator
