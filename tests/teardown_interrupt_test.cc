// Copyright 2026 The pollio Authors.
//
// A pure query and a poller's destruction leave the caller's other waits
// alone. Closing an io_uring instance interrupts the threads the kernel
// linked to it, some 15-30 ms later (backends/internal/teardown_interrupt.h);
// before pollio dealt with it, AvailableBackends() or dropping a UringPoller
// made the next epoll wait on that thread return early and empty.
//
// The other poller is epoll, poll or io_uring; kqueue exists only where
// io_uring does not (its emulation on Linux is a test vehicle, not covered).
//
// The first test must run first in this process: AvailableBackends()
// probes once per process.

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
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

constexpr absl::Duration kWait = absl::Milliseconds(60);
constexpr Backend kOtherBackends[] = {Backend::kEpoll, Backend::kPoll,
                                      Backend::kUring};

bool UringAvailable() { return NewPoller(Backend::kUring).ok(); }

// Waits `kWait` on `poller` with nothing registered that could fire and
// returns how long the wait took.
absl::Duration TimedEmptyWait(Poller& poller) {
  Stopwatch stopwatch;
  absl::StatusOr<absl::Span<const EventObject>> events = poller.wait(kWait);
  const absl::Duration elapsed = stopwatch.Elapsed();
  EXPECT_TRUE(events.ok()) << events.status();
  if (events.ok()) {
    EXPECT_TRUE(events->empty());
  }
  return elapsed;
}

// A UringPoller made, used by a wait on this thread (which makes the thread
// the ring's owner), and destroyed.
void UseAndDropAUringPoller() {
  absl::StatusOr<std::unique_ptr<Poller>> uring = NewPoller(Backend::kUring);
  ASSERT_TRUE(uring.ok()) << uring.status();
  SocketPair pair = MakeSocketPair();
  ASSERT_TRUE((*uring)->add(EventObject::Client(pair.left.get())).ok());
  ASSERT_TRUE((*uring)->wait(absl::ZeroDuration()).ok());
}

TEST(TeardownInterruptTest, AvailableBackendsLeavesTheCallersWaitsAlone) {
  std::thread fresh([] {
    absl::StatusOr<std::unique_ptr<Poller>> epoll = NewPoller(Backend::kEpoll);
    ASSERT_TRUE(epoll.ok()) << epoll.status();
    EXPECT_FALSE(AvailableBackends().empty());
    EXPECT_GE(TimedEmptyWait(**epoll), kWait)
        << "AvailableBackends() interrupted the caller's next wait";
  });
  fresh.join();
}

class OtherPollerTest : public ::testing::TestWithParam<Backend> {};

TEST_P(OtherPollerTest, DroppingAUringPollerLeavesThisThreadsWaitsAlone) {
  if (!UringAvailable()) GTEST_SKIP() << NewPoller(Backend::kUring).status();
  std::thread fresh([] {
    absl::StatusOr<std::unique_ptr<Poller>> other = NewPoller(GetParam());
    ASSERT_TRUE(other.ok()) << other.status();
    for (int round = 0; round < 3; ++round) {
      UseAndDropAUringPoller();
      EXPECT_GE(TimedEmptyWait(**other), kWait)
          << "round " << round << ": a " << BackendName(GetParam())
          << " wait ended early after a UringPoller was destroyed";
    }
  });
  fresh.join();
}

TEST_P(OtherPollerTest, CreatingAndDroppingAnUnusedUringPollerIsInvisible) {
  if (!UringAvailable()) GTEST_SKIP() << NewPoller(Backend::kUring).status();
  std::thread fresh([] {
    absl::StatusOr<std::unique_ptr<Poller>> other = NewPoller(GetParam());
    ASSERT_TRUE(other.ok()) << other.status();
    { ASSERT_TRUE(NewPoller(Backend::kUring).ok()); }
    EXPECT_GE(TimedEmptyWait(**other), kWait);
  });
  fresh.join();
}

TEST_P(OtherPollerTest, DroppingAUringPollerOwnedByAnotherThreadIsInvisible) {
  if (!UringAvailable()) GTEST_SKIP() << NewPoller(Backend::kUring).status();
  absl::Duration elapsed;
  std::thread owner([&] {
    absl::StatusOr<std::unique_ptr<Poller>> other = NewPoller(GetParam());
    ASSERT_TRUE(other.ok()) << other.status();
    absl::StatusOr<std::unique_ptr<Poller>> made = NewPoller(Backend::kUring);
    ASSERT_TRUE(made.ok()) << made.status();
    ASSERT_TRUE((*made)->wait(absl::ZeroDuration()).ok());  // owns the ring
    // Destroyed on another thread while this one waits.
    std::thread dropper([&made] { made->reset(); });
    dropper.join();
    elapsed = TimedEmptyWait(**other);
  });
  owner.join();
  EXPECT_GE(elapsed, kWait) << "the ring's owner was interrupted";
}

INSTANTIATE_TEST_SUITE_P(Backends, OtherPollerTest,
                         ::testing::ValuesIn(kOtherBackends),
                         testing::BackendTestName());

}  // namespace
}  // namespace pollio
