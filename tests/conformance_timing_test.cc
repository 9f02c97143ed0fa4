// Copyright 2026 The pollio Authors.
//
// Timing, wake and signals, a topic of the conformance suite (fixture:
// tests/conformance.h; every backend). Timeouts, wake() and signals: a wait
// never returns early, wake ends a wait from another thread and coalesces,
// EINTR is OK with an empty span.

#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "event/event.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/conformance.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::ConformanceTest;
using ::pollio::testing::ExpectNoEvents;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::OnFreshThread;
using ::pollio::testing::SocketPair;
using ::pollio::testing::Stopwatch;
using ::pollio::testing::WaitEvents;
using ::pollio::testing::WriteBytes;

TEST_P(ConformanceTest, WaitZeroReturnsAtOnce) {
  SocketPair pair = MakeSocketPair();
  ASSERT_TRUE(poller().add(EventObject::Client(pair.left.get())).ok());
  Stopwatch stopwatch;
  ExpectNoEvents(poller());
  absl::StatusOr<absl::Span<const EventObject>> events = poller().wait(0);
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
  EXPECT_LT(stopwatch.Elapsed(), absl::Seconds(1));  // generous
}

TEST_P(ConformanceTest, TimeoutIsNotCutShort) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> poller = Make(PollerOptions{});
    ASSERT_NE(poller, nullptr);
    SocketPair pair = MakeSocketPair();
    ASSERT_TRUE(poller->add(EventObject::Client(pair.left.get())).ok());
    for (absl::Duration timeout :
         {absl::Milliseconds(20), absl::Microseconds(200)}) {
      Stopwatch stopwatch;
      absl::StatusOr<absl::Span<const EventObject>> events =
          poller->wait(timeout);
      const absl::Duration elapsed = stopwatch.Elapsed();
      ASSERT_TRUE(events.ok()) << events.status();
      EXPECT_TRUE(events->empty());
      EXPECT_GE(elapsed, timeout);
    }
    Stopwatch stopwatch;
    EXPECT_TRUE(poller->wait(20).ok());  // the int milliseconds overload
    EXPECT_GE(stopwatch.Elapsed(), absl::Milliseconds(20));
  });
}

// Makes a wait that would otherwise hang end with an event after a deadline,
// so a broken wake() fails the test instead of stalling it.
class Watchdog {
 public:
  Watchdog(Poller& poller, absl::Duration deadline) : pair_(MakeSocketPair()) {
    EXPECT_TRUE(poller.add(EventObject::Client(pair_.left.get())).ok());
    thread_ = std::thread([this, deadline] {
      std::unique_lock<std::mutex> lock(mutex_);
      if (!done_cv_.wait_for(lock, absl::ToChronoMilliseconds(deadline),
                             [this] { return done_; })) {
        WriteBytes(pair_.right.get());
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }
  int fd() const { return pair_.left.get(); }

 private:
  SocketPair pair_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

TEST_P(ConformanceTest, WakeFromAnotherThreadEndsAnInfiniteWait) {
  Watchdog watchdog(poller(), absl::Seconds(10));
  std::atomic<std::int64_t> woken_at_ns{0};
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    woken_at_ns = absl::GetCurrentTimeNanos();
    EXPECT_TRUE(poller().wake().ok());
  });
  absl::StatusOr<absl::Span<const EventObject>> events = poller().wait();
  const std::int64_t returned_at_ns = absl::GetCurrentTimeNanos();
  waker.join();
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_TRUE(events->empty()) << "the watchdog fired: wake() did not work";
  EXPECT_LT(returned_at_ns - woken_at_ns.load(), 100'000'000);  // 100 ms
}

TEST_P(ConformanceTest, WakeBeforeWaitMakesTheNextWaitReturnAtOnce) {
  Watchdog watchdog(poller(), absl::Seconds(10));
  ASSERT_TRUE(poller().wake().ok());
  Stopwatch stopwatch;
  absl::StatusOr<absl::Span<const EventObject>> events = poller().wait();
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
  EXPECT_LT(stopwatch.Elapsed(), absl::Seconds(1));
}

TEST_P(ConformanceTest, ManyWakesCoalesceIntoOne) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> poller = Make(PollerOptions{});
    ASSERT_NE(poller, nullptr);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(poller->wake().ok());
    absl::StatusOr<absl::Span<const EventObject>> events =
        poller->wait(absl::Seconds(5));
    ASSERT_TRUE(events.ok());
    EXPECT_TRUE(events->empty());
    // The second wait sees no leftover wake: it runs to its timeout.
    Stopwatch stopwatch;
    events = poller->wait(absl::Milliseconds(30));
    ASSERT_TRUE(events.ok());
    EXPECT_TRUE(events->empty());
    EXPECT_GE(stopwatch.Elapsed(), absl::Milliseconds(30));
  });
}

std::atomic<int> signals_handled{0};
void CountSignal(int) { signals_handled.fetch_add(1); }

TEST_P(ConformanceTest, SignalDuringWaitIsOkNeverAnError) {
  struct sigaction action {};
  action.sa_handler = CountSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: the wait sees EINTR
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);
  SocketPair idle = MakeSocketPair();
  ASSERT_TRUE(poller().add(EventObject::Client(idle.left.get())).ok());

  signals_handled = 0;
  std::atomic<bool> returned{false};
  const pthread_t waiter = ::pthread_self();
  std::thread sender([&] {
    // Keep signalling until the wait has returned (a signal that lands
    // before the wait starts is simply handled), bounded at 10 s.
    for (int i = 0; i < 1000 && !returned.load(); ++i) {
      ::pthread_kill(waiter, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  Stopwatch stopwatch;
  absl::StatusOr<absl::Span<const EventObject>> events =
      poller().wait(absl::Seconds(30));
  returned = true;
  sender.join();
  ::sigaction(SIGUSR1, &previous, nullptr);

  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_TRUE(events->empty());
  EXPECT_GT(signals_handled.load(), 0);
  EXPECT_LT(stopwatch.Elapsed(), absl::Seconds(15));  // ended by the signal
}

TEST_P(ConformanceTest, WakeFdNeverShowsUpInResults) {
  SocketPair pair = MakeSocketPair();
  ASSERT_TRUE(poller().add(EventObject::Client(pair.left.get())).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ASSERT_TRUE(poller().wake().ok());
  std::vector<EventObject> all;
  for (int i = 0; i < 3; ++i) {
    for (const EventObject& ev : WaitEvents(poller())) all.push_back(ev);
  }
  for (const EventObject& ev : all) {
    EXPECT_EQ(ev, EventObject::Client(pair.left.get()));
  }
}

}  // namespace
}  // namespace pollio
