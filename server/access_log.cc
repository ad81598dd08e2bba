#include "access_log.h"

#include <chrono>

namespace sima::server {
namespace {
constexpr size_t kFlushAt = 64 * 1024;
constexpr size_t kMaxBehind = 8 * 1024 * 1024;
}  // namespace

AccessLogWriter::AccessLogWriter(FILE* file, bool owned, std::string path)
    : file_(file), owned_(owned), path_(std::move(path)) {
  thread_ = std::thread([this] { Run(); });
}

AccessLogWriter::~AccessLogWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  reopened_.notify_all();
  thread_.join();
  if (owned_) std::fclose(file_);
}

void AccessLogWriter::Write(std::string_view line) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (buffer_.size() > kMaxBehind) {
      ++dropped_;
      return;
    }
    buffer_.append(line);
    buffer_.push_back('\n');
    wake = buffer_.size() >= kFlushAt;
  }
  if (wake) cv_.notify_one();
}

void AccessLogWriter::Reopen() {
  if (path_.empty()) return;
  std::unique_lock lock(mu_);
  const uint64_t ticket = ++reopens_asked_;
  cv_.notify_one();
  reopened_.wait(lock, [&] { return reopens_done_ >= ticket || stop_; });
}

void AccessLogWriter::Run() {
  std::string out;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(50), [&] {
      return stop_ || reopens_asked_ > reopens_done_ || buffer_.size() >= kFlushAt;
    });
    out.swap(buffer_);
    const uint64_t dropped = dropped_;
    dropped_ = 0;
    const bool stop = stop_;
    const uint64_t reopen = reopens_asked_;
    const bool reopen_now = reopen > reopens_done_;
    lock.unlock();
    if (dropped > 0) {
      out += "{\"msg\":\"access log fell behind\",\"dropped_lines\":" + std::to_string(dropped) +
             "}\n";
    }
    if (!out.empty()) {
      std::fwrite(out.data(), 1, out.size(), file_);
      std::fflush(file_);
      out.clear();
    }
    if (reopen_now) {
      // Only this thread touches file_, so the swap needs no lock.
      if (FILE* fresh = std::fopen(path_.c_str(), "a"); fresh != nullptr) {
        if (owned_) std::fclose(file_);
        file_ = fresh;
        owned_ = true;
      } else {
        std::fputs("{\"msg\":\"access log could not be reopened; still writing here\"}\n", file_);
        std::fflush(file_);
      }
    }
    lock.lock();
    if (reopen_now) {
      reopens_done_ = reopen;
      reopened_.notify_all();
    }
    if (stop) return;
  }
}

}  // namespace sima::server
