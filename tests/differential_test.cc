// Copyright 2026 The pollio Authors.
//
// Differential random test: seeded sequences of operations on 64 socketpairs
// (add / modify / del with random interest, kind and trigger; write; drain;
// shutdown of either direction; close and reopen, so fd numbers get reused;
// wake), checked after every step with wait(0) against an oracle:
//
//   * kLevel: exactly what poll(2) reports for the same fds and interests at
//     that moment (readable, writable, read-closed, hangup and error bits
//     alike).
//   * kOneshot: while armed, as kLevel, and disarmed once reported; never
//     reported while disarmed (until modify re-arms it).
//   * kEdge (read interest only): reported after a new edge (data written by
//     the peer, the peer's shutdown, or registration while ready) if still
//     readable; never reported without one.
//   * Nothing is reported for an fd that is not registered, kinds always
//     match the registration, and no fd appears twice in one wait.
//
// io_uring also reports a peer's half-close (kReadClosed) without read
// interest when that is all the fd is ready for (uring_poller.h). And it
// reports the readiness the kernel recorded when the fd woke, so
// an fd made ready and drained again between two waits may still be
// reported once (documented in uring_poller.h); for that backend such a
// report is allowed for fds touched since the last wait, and only for them.
// Nothing ready may ever be missed.
//
// kqueue runs in //tests:differential_emulated_kqueue_test, this file built
// against the kqueue backend on the emulation (backends/kqueue/emulation).
// kqueue's hangup is its write filter's EV_EOF (kqueue_poller.h), so the oracle
// drops kHangup without write interest. With it, the filter fires on a hung-up
// socket even while the send buffer is full, and the backend reports that as
// kWritable | kHangup; the BSDs' poll(2) agrees (a socket that can send no more
// is writable there), Linux's leaves POLLOUT out, so for kqueue the oracle adds
// kWritable to a POLLHUP fd with write interest. What the emulation cannot
// express, so this test does not check: a BSD kernel sets EV_EOF on the write
// filter as soon as the socket can send no more, after the fd's own
// shutdown(SHUT_WR) too, while the emulation, on epoll, sees only a full hangup
// (EPOLLHUP). On a BSD, "shuts down own writing" alone would report kHangup
// (and kWritable) to write interest, where this oracle expects Linux poll(2)'s
// answer.
//
// The oracle and the driver are tests/differential_model.{h,cc}, shared with
// the coverage-guided fuzzer (tests/fuzz/poller_fuzzer.cc), which runs the
// same model over sequences it decodes from its input.
//
// On failure the seed, the failing step (the shortest failing prefix of that
// sequence) and the operations before it are printed. Long runs (steps per
// backend, first seed):
//   tools/bazel test //tests:differential_test
//       --test_env=POLLIO_DIFFERENTIAL_STEPS=10000000
//       --test_env=POLLIO_DIFFERENTIAL_SEED=7

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/differential_model.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::DifferentialModel;

constexpr int kPairs = 64;
constexpr int kStepsPerSeed = 5000;

long EnvOr(const char* name, long fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atol(value) : fallback;
}

class Differential {
 public:
  Differential(Backend backend, std::uint32_t seed)
      : backend_(backend), random_(seed), seed_(seed) {}

  // Runs `steps` steps; returns "" or a description of the first failure.
  std::string Run(int steps) {
    absl::StatusOr<std::unique_ptr<Poller>> made = NewPoller(backend_);
    if (!made.ok()) return "cannot create poller: " + made.status().ToString();
    const bool has_edge = (*made)->supports(Trigger::kEdge);
    DifferentialModel::Options options;
    options.slots = kPairs;
    std::string error;
    DifferentialModel model(*std::move(made), options, &error);
    if (!error.empty()) return error;
    for (int step = 0; step < steps; ++step) {
      const std::string op = model.Apply(
          ::pollio::testing::RandomOperation(random_, kPairs, has_edge));
      history_.push_back(std::to_string(step) + ": " + op);
      if (history_.size() > 25) history_.pop_front();
      const std::string failure = model.Check();
      if (!failure.empty()) {
        std::ostringstream out;
        out << "backend " << BackendName(backend_) << ", seed " << seed_
            << ": fails after step " << step << " (steps 0.." << step
            << " are the shortest failing prefix of this sequence)\n"
            << failure << "\nlast operations:\n";
        for (const std::string& line : history_) out << "  " << line << "\n";
        return out.str();
      }
    }
    return "";
  }

 private:
  Backend backend_;
  std::mt19937 random_;
  std::uint32_t seed_;
  std::deque<std::string> history_;
};

class DifferentialTest : public ::testing::TestWithParam<Backend> {};

TEST_P(DifferentialTest, MatchesTheOracleAfterEveryStep) {
  if (!NewPoller(GetParam()).ok()) {
    GTEST_SKIP() << BackendName(GetParam()) << " unavailable here";
  }
  const long total = EnvOr("POLLIO_DIFFERENTIAL_STEPS", 100000);
  const long first_seed = EnvOr("POLLIO_DIFFERENTIAL_SEED", 1);
  long steps_run = 0;
  for (long seed = first_seed; steps_run < total; ++seed) {
    const int steps =
        static_cast<int>(std::min<long>(kStepsPerSeed, total - steps_run));
    Differential differential(GetParam(), static_cast<std::uint32_t>(seed));
    const std::string failure = differential.Run(steps);
    ASSERT_EQ(failure, "");
    steps_run += steps;
  }
  std::cout << BackendName(GetParam()) << ": " << steps_run
            << " steps matched the oracle\n";
}

INSTANTIATE_TEST_SUITE_P(Backends, DifferentialTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
