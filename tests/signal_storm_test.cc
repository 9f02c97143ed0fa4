// Copyright 2026 The pollio Authors.
//
// Signal storm: while bytes flow through a poller, another thread sends
// SIGUSR1 to the waiting thread every 100 us for 2 s, with a handler
// installed without SA_RESTART, so many waits end in EINTR. No wait may
// return an error, every byte written must be read (no event lost), and
// every report must find bytes to read (no event duplicated or invented).

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "event/event.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;

std::atomic<long> signals_handled{0};
void CountSignal(int) { signals_handled.fetch_add(1); }

constexpr int kPairs = 32;

class SignalStormTest : public ::testing::TestWithParam<Backend> {};

TEST_P(SignalStormTest, NoErrorNoLossNoDuplicate) {
  if (!NewPoller(GetParam()).ok()) {
    GTEST_SKIP() << BackendName(GetParam()) << " unavailable here";
  }
  struct sigaction action {};
  action.sa_handler = CountSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART
  struct sigaction previous {};
  ASSERT_EQ(sigaction(SIGUSR1, &action, &previous), 0);
  signals_handled = 0;

  std::vector<SocketPair> pairs;
  for (int i = 0; i < kPairs; ++i) pairs.push_back(MakeSocketPair());

  std::atomic<long> written{0};
  std::atomic<bool> writing_done{false};
  long read_total = 0;
  long reports = 0;
  long empty_reports = 0;
  long wait_errors = 0;
  long interrupted_waits = 0;
  std::atomic<bool> waiter_ready{false};
  std::atomic<bool> stop_waiting{false};

  // The waiter owns its poller (a UringPoller belongs to its thread).
  std::thread waiter([&] {
    absl::StatusOr<std::unique_ptr<Poller>> poller = NewPoller(GetParam());
    ASSERT_TRUE(poller.ok());
    for (const SocketPair& pair : pairs) {
      ASSERT_TRUE((*poller)->add(EventObject::Client(pair.left.get())).ok());
    }
    waiter_ready = true;
    // Bounded: until everything is read after the writer stops, or 30 s.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (writing_done.load() && read_total == written.load()) break;
      absl::StatusOr<absl::Span<const EventObject>> events =
          (*poller)->wait(absl::Milliseconds(50));
      if (!events.ok()) {
        ++wait_errors;
        continue;
      }
      if (events->empty()) ++interrupted_waits;  // EINTR or timeout
      for (const EventObject& ev : *events) {
        if (ev.fd < 0) continue;
        ++reports;
        const int got = ::pollio::testing::Drain(ev.fd);
        if (got == 0) ++empty_reports;
        read_total += got;
      }
    }
    stop_waiting = true;
  });
  while (!waiter_ready.load()) std::this_thread::yield();
  const pthread_t waiter_thread = waiter.native_handle();

  std::thread writer([&] {
    std::mt19937 random(7);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < end) {
      const SocketPair& pair = pairs[random() % kPairs];
      const int bytes = 1 + static_cast<int>(random() % 64);
      if (::pollio::testing::WriteBytes(pair.right.get(), bytes)) {
        written += bytes;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    writing_done = true;
  });

  // The storm: on a 100 us schedule for 2 s (sleep_until catches up after
  // an oversleep), at the waiting thread only.
  long sent = 0;
  auto next = std::chrono::steady_clock::now();
  const auto storm_end = next + std::chrono::seconds(2);
  while (next < storm_end && !stop_waiting.load()) {
    pthread_kill(waiter_thread, SIGUSR1);
    ++sent;
    next += std::chrono::microseconds(100);
    std::this_thread::sleep_until(next);
  }
  writer.join();
  waiter.join();
  sigaction(SIGUSR1, &previous, nullptr);

  // Standard signals sent while one is pending merge into it, so fewer are
  // handled than sent.
  std::cout << BackendName(GetParam()) << ": " << sent << " signals sent, "
            << signals_handled.load() << " handled, " << written.load()
            << " bytes written, " << read_total << " read, " << reports
            << " reports, " << interrupted_waits << " empty waits\n";
  EXPECT_GE(sent, 19000);
  EXPECT_GT(signals_handled.load(), 5000);
  EXPECT_EQ(wait_errors, 0);
  EXPECT_EQ(read_total, written.load());  // nothing lost
  EXPECT_EQ(empty_reports, 0);            // nothing duplicated or invented
}

INSTANTIATE_TEST_SUITE_P(Backends, SignalStormTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
