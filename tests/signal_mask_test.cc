// Copyright 2026 The pollio Authors.
//
// wait(timeout, mask): the thread's signal mask replaced for the wait only,
// atomically, on every backend. Each test runs on a fresh thread whose mask
// it owns, and directs SIGUSR1 at that thread alone.

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

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
using ::pollio::testing::Stopwatch;

std::atomic<int> handled{0};
void CountSignal(int) { handled.fetch_add(1); }

bool Pending(int signal_number) {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, signal_number) == 1;
}

bool Blocked(int signal_number) {
  sigset_t current;
  pthread_sigmask(SIG_BLOCK, nullptr, &current);
  return sigismember(&current, signal_number) == 1;
}

class SignalMaskTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    struct sigaction action {};
    action.sa_handler = CountSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART
    ASSERT_EQ(sigaction(SIGUSR1, &action, &previous_), 0);
    handled = 0;
  }
  void TearDown() override { sigaction(SIGUSR1, &previous_, nullptr); }

  // Runs `body` on a fresh thread with SIGUSR1 blocked, a poller of the
  // backend under test and an idle registered socketpair.
  void Run(
      const std::function<void(Poller&, const sigset_t& unblocked)>& body) {
    std::thread thread([&] {
      sigset_t block;
      sigemptyset(&block);
      sigaddset(&block, SIGUSR1);
      ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, nullptr), 0);
      absl::StatusOr<std::unique_ptr<Poller>> poller = NewPoller(GetParam());
      if (!poller.ok()) {
        skipped_ = true;
        return;
      }
      SocketPair idle = MakeSocketPair();
      ASSERT_TRUE((*poller)->add(EventObject::Client(idle.left.get())).ok());
      sigset_t unblocked;
      pthread_sigmask(SIG_BLOCK, nullptr, &unblocked);
      sigdelset(&unblocked, SIGUSR1);
      body(**poller, unblocked);
      // Leave nothing pending for the next test: take it with the handler.
      if (Pending(SIGUSR1))
        (void)(*poller)->wait(absl::ZeroDuration(), unblocked);
    });
    thread.join();
    if (skipped_) GTEST_SKIP() << BackendName(GetParam()) << " unavailable";
  }

  struct sigaction previous_ {};
  bool skipped_ = false;
};

TEST_P(SignalMaskTest, SignalSentBeforeWaitIsDeliveredDuringIt) {
  Run([](Poller& poller, const sigset_t& unblocked) {
    pthread_kill(pthread_self(), SIGUSR1);
    EXPECT_TRUE(Pending(SIGUSR1));
    EXPECT_EQ(handled.load(), 0);

    Stopwatch stopwatch;
    absl::StatusOr<absl::Span<const EventObject>> events =
        poller.wait(absl::Seconds(10), unblocked);
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_TRUE(events->empty());
    EXPECT_EQ(handled.load(), 1);
    EXPECT_LT(stopwatch.Elapsed(), absl::Seconds(5));  // ended by the signal
    EXPECT_TRUE(Blocked(SIGUSR1)) << "the thread's mask was not restored";
    EXPECT_FALSE(Pending(SIGUSR1));
  });
}

TEST_P(SignalMaskTest, SignalOutsideTheWaitMaskStaysPending) {
  Run([](Poller& poller, const sigset_t& unblocked) {
    pthread_kill(pthread_self(), SIGUSR1);
    // A plain wait keeps the thread's mask: the signal stays pending.
    ASSERT_TRUE(poller.wait(absl::Milliseconds(10)).ok());
    EXPECT_EQ(handled.load(), 0);
    EXPECT_TRUE(Pending(SIGUSR1));
    // So does a mask that still blocks it.
    sigset_t still_blocked = unblocked;
    sigaddset(&still_blocked, SIGUSR1);
    ASSERT_TRUE(poller.wait(absl::Milliseconds(10), still_blocked).ok());
    EXPECT_EQ(handled.load(), 0);
    EXPECT_TRUE(Pending(SIGUSR1));
    // Unblocked for the wait: delivered, and blocked again afterwards.
    ASSERT_TRUE(poller.wait(absl::Seconds(10), unblocked).ok());
    EXPECT_EQ(handled.load(), 1);
    EXPECT_TRUE(Blocked(SIGUSR1));
  });
}

TEST_P(SignalMaskTest, ReadyEventsStillReportedWithAMask) {
  Run([](Poller& poller, const sigset_t& unblocked) {
    SocketPair pair = MakeSocketPair();
    ASSERT_TRUE(poller.add(EventObject::Client(pair.left.get())).ok());
    ASSERT_TRUE(::pollio::testing::WriteBytes(pair.right.get()));
    absl::StatusOr<absl::Span<const EventObject>> events =
        poller.wait(absl::Seconds(5), unblocked);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0], EventObject::Client(pair.left.get()));
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, SignalMaskTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
