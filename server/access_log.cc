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
  {
    std::lock_guard lock(mu_);
    reopen_ = true;
  }
  cv_.notify_one();
}

void AccessLogWriter::Run() {
  std::string out;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(50),
                 [&] { return stop_ || reopen_ || buffer_.size() >= kFlushAt; });
    out.swap(buffer_);
    const bool reopen = reopen_;
    reopen_ = false;
    const uint64_t dropped = dropped_;
    dropped_ = 0;
    const bool stop = stop_;
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
    if (reopen) {
      // Lines buffered before the signal went to the old file; the rest go to the new one.
      if (FILE* fresh = std::fopen(path_.c_str(), "a"); fresh != nullptr) {
        if (owned_) std::fclose(file_);
        file_ = fresh;
        owned_ = true;
      }
    }
    if (stop) return;
    lock.lock();
  }
}

}  // namespace sima::server
