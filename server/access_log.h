// The access log's writer: request threads append lines to a buffer, one background thread
// writes it out every 50 ms (or sooner when it fills), so logging costs a request no
// system call and no wait on the disk. Lines still buffered are written on destruction.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace sima::server {

class AccessLogWriter {
 public:
  // Writes to `file`; closes it on destruction when `owned`. With a `path`, Reopen() opens
  // that path again (appending) and writes there from then on.
  AccessLogWriter(FILE* file, bool owned, std::string path = {});
  ~AccessLogWriter();
  AccessLogWriter(const AccessLogWriter&) = delete;
  AccessLogWriter& operator=(const AccessLogWriter&) = delete;

  // Appends one line (a newline is added). If the writer has fallen 8 MiB behind, the line is
  // dropped and counted; the count is logged once the writer catches up.
  void Write(std::string_view line);
  // Lines from now on go to a newly opened `path` (log rotation); the old file is closed
  // once what was buffered for it is written. No-op without a path.
  void Reopen();

 private:
  void Run();
  FILE* file_;
  bool owned_;
  std::string path_;
  bool reopen_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string buffer_;
  uint64_t dropped_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sima::server
