#include "common/progress.h"

#include <unistd.h>

#include <cstdio>

#include "common/timing.h"

namespace marketsearch {

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

double Progress::ElapsedSeconds() const {
  return SecondsSince(start_);
}

void Progress::Update(int64_t done) {
  done_ = done;
  auto now = std::chrono::steady_clock::now();
  if (now - last_print_ < std::chrono::milliseconds(500)) return;
  last_print_ = now;
  Print(false);
}

double Progress::Finish() {
  Print(true);
  return ElapsedSeconds();
}

void Progress::Print(bool final) {
  const double secs = ElapsedSeconds();
  const double rate = secs > 0 ? done_ / secs : 0;
  // Carriage returns only on a terminal; logs get one line per update.
  const char* end = final ? "\n" : (isatty(2) ? "\r" : "\n");
  if (total_ > 0) {
    const double eta = rate > 0 ? (total_ - done_) / rate : 0;
    std::fprintf(stderr, "%s %lld/%lld (%.1f%%)  %.0f/s  %s %.0fs   %s", label_.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_),
                 100.0 * done_ / total_, rate, final ? "took" : "ETA", final ? secs : eta, end);
  } else {
    std::fprintf(stderr, "%s %lld  %.0f/s  %.0fs   %s", label_.c_str(),
                 static_cast<long long>(done_), rate, secs, end);
  }
}

}  // namespace marketsearch
