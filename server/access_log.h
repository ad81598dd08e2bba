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
  // Writes to `file`; closes it on destruction when `owned`. With a `path`, Reopen() can
  // replace the file by a fresh open of that path (log rotation).
  AccessLogWriter(FILE* file, bool owned, std::string path = {});
  ~AccessLogWriter();
  AccessLogWriter(const AccessLogWriter&) = delete;
  AccessLogWriter& operator=(const AccessLogWriter&) = delete;

  // Appends one line (a newline is added). If the writer has fallen 8 MiB behind, the line is
  // dropped and counted; the count is logged once the writer catches up.
  void Write(std::string_view line);

  // Closes the file and opens `path` again for appending, after writing what is buffered
  // (SIGHUP, after logrotate moved the file), and returns when that is done: lines written
  // after it go to the new file. No-op without a path. If the open fails, the old file is
  // kept and an error line is written to it.
  void Reopen();

 private:
  void Run();
  FILE* file_;
  bool owned_;
  std::string path_;
  uint64_t reopens_asked_ = 0;
  uint64_t reopens_done_ = 0;
  std::condition_variable reopened_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string buffer_;
  uint64_t dropped_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sima::server
