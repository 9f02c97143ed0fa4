// Copyright 2026 The pollio Authors.
//
// Trigger::kExclusive: one listener shared by several pollers, one per
// thread. On epoll each connection wakes exactly one waiting poller; with
// kLevel it wakes them all. Counted over many connections two ways: waits
// that returned the listener, and the threads' voluntary context switches
// (a thread woken for nothing re-polls, finds the connection taken, and
// sleeps again without returning: only its context switches show it).

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
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

using ::pollio::testing::ConnectLoopback;
using ::pollio::testing::UniqueFd;

constexpr int kWaiters = 4;
constexpr int kConnections = 30;

struct Outcome {
  bool available = true;
  std::vector<int> wakeups_per_connection;
  long context_switches = 0;  // voluntary, summed over the waiting threads
};

long VoluntaryContextSwitches() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nvcsw;
}

// Runs kWaiters threads, each with a poller of `backend` holding the shared
// listener with `trigger`, makes kConnections connections one at a time, and
// counts how many pollers woke for each.
Outcome CountWakeups(Backend backend, Trigger trigger) {
  Outcome outcome;
  ::pollio::testing::Listener listener =
      ::pollio::testing::MakeLoopbackListener();
  std::atomic<int> wakeups{0};
  std::atomic<int> accepted{0};
  std::atomic<int> started{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> unavailable{false};
  std::atomic<bool> counting{false};
  std::atomic<long> context_switches{0};
  std::vector<std::atomic<Poller*>> pollers(kWaiters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      // Made on its own thread: a UringPoller belongs to the thread that
      // waits on it.
      absl::StatusOr<std::unique_ptr<Poller>> poller = NewPoller(backend);
      if (!poller.ok()) {
        unavailable = true;
        started.fetch_add(1);
        return;
      }
      EXPECT_TRUE(
          (*poller)->add(EventObject::Server(listener.fd.get()), trigger).ok());
      pollers[i] = poller->get();
      started.fetch_add(1);
      while (!counting.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      const long switches_before = VoluntaryContextSwitches();
      while (!stop.load()) {
        absl::StatusOr<absl::Span<const EventObject>> events =
            (*poller)->wait(absl::Seconds(2));
        if (!events.ok()) break;
        for (const EventObject& ev : *events) {
          if (ev.fd != listener.fd.get()) continue;
          wakeups.fetch_add(1);
          for (;;) {
            const int fd = ::accept4(listener.fd.get(), nullptr, nullptr,
                                     SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) break;
            ::close(fd);
            accepted.fetch_add(1);
          }
        }
      }
      context_switches.fetch_add(VoluntaryContextSwitches() - switches_before);
      pollers[i] = nullptr;
      EXPECT_TRUE((*poller)->del(listener.fd.get()).ok());
    });
  }
  while (started.load() < kWaiters) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  outcome.available = !unavailable.load();
  counting = true;
  for (int connection = 0; outcome.available && connection < kConnections;
       ++connection) {
    // Let every waiter settle into its wait, connect, and give any extra
    // waiters time to wake before counting.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const int before = wakeups.load();
    const int accepted_before = accepted.load();
    UniqueFd client = ConnectLoopback(listener.port);
    for (int i = 0; i < 2000 && accepted.load() == accepted_before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    outcome.wakeups_per_connection.push_back(wakeups.load() - before);
  }
  stop = true;
  for (auto& poller : pollers) {
    if (Poller* p = poller.load()) (void)p->wake();
  }
  for (std::thread& thread : threads) thread.join();
  outcome.context_switches = context_switches.load();
  return outcome;
}

class ExclusiveTest : public ::testing::TestWithParam<Backend> {};

TEST_P(ExclusiveTest, EachConnectionWakesOneWaiterOnEpollAndAllOtherwise) {
  const Outcome exclusive = CountWakeups(GetParam(), Trigger::kExclusive);
  if (!exclusive.available) {
    GTEST_SKIP() << BackendName(GetParam()) << " unavailable here";
  }
  const Outcome level = CountWakeups(GetParam(), Trigger::kLevel);
  int exclusive_total = 0;
  int level_total = 0;
  for (int count : exclusive.wakeups_per_connection) {
    EXPECT_GE(count, 1) << "a connection woke nobody";
    exclusive_total += count;
  }
  for (int count : level.wakeups_per_connection) level_total += count;
  std::cout << BackendName(GetParam()) << ", " << kWaiters << " waiters, "
            << kConnections << " connections: kExclusive returned "
            << exclusive_total << " wake-ups (" << exclusive.context_switches
            << " context switches), kLevel " << level_total << " ("
            << level.context_switches << ")\n";
  if (GetParam() == Backend::kEpoll) {
    // Exactly one waiter per connection, and the herd is gone at the thread
    // level too: kLevel wakes every thread (each sleeps again), kExclusive
    // about one.
    for (int count : exclusive.wakeups_per_connection) EXPECT_EQ(count, 1);
    EXPECT_GT(level.context_switches, 2 * exclusive.context_switches);
  } else {
    // poll(2) and io_uring: kExclusive is kLevel, and every waiter wakes.
    EXPECT_GT(exclusive.context_switches, 2 * kConnections);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ExclusiveTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
