#include "timefmt.h"

#include <cstdio>
#include <ctime>

namespace sima::sim {
namespace {

std::string format(std::chrono::system_clock::time_point t, std::chrono::seconds offset, bool micro,
                   const char* suffix) {
  using namespace std::chrono;
  const auto shifted = t + offset;
  const auto secs = floor<seconds>(shifted);
  const auto us = duration_cast<microseconds>(shifted - secs).count();
  const std::time_t tt = system_clock::to_time_t(time_point_cast<system_clock::duration>(secs));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[80];
  if (micro) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld%s", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(us), suffix);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lld%s", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(us / 1000), suffix);
  }
  return buf;
}

}  // namespace

std::string format_npt(std::chrono::system_clock::time_point t) {
  return format(t, std::chrono::seconds(5 * 3600 + 45 * 60), true, "+05:45");
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  return format(t, std::chrono::seconds(0), false, "Z");
}

}  // namespace sima::sim
