// Copyright 2026 The pollio Authors.
//
// PollerOptions::registration_from_any_thread, on every backend: add,
// modify and del from other threads while one thread is blocked in wait
// take effect for that wait; after del returns, no wait that starts later
// reports the registration, and close releases the file; nothing is lost;
// no result carries the kind or token of another registration. Run under
// TSan in CI.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

using ::pollio::testing::Listener;
using ::pollio::testing::MakeLoopbackListener;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;
using ::pollio::testing::Stopwatch;
using ::pollio::testing::WriteBytes;

class AnyThreadTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    PollerOptions options;
    options.registration_from_any_thread = true;
    absl::StatusOr<std::unique_ptr<Poller>> poller =
        NewPoller(GetParam(), options);
    if (poller.status().code() == absl::StatusCode::kUnimplemented ||
        poller.status().code() == absl::StatusCode::kUnavailable) {
      GTEST_SKIP() << poller.status();
    }
    ASSERT_TRUE(poller.ok()) << poller.status();
    poller_ = *std::move(poller);
  }

  // Runs one wait(timeout) on a thread of its own; Join() returns its
  // results (scrubbed entries left out) and how long it took.
  class BackgroundWait {
   public:
    BackgroundWait(Poller& poller, absl::Duration timeout)
        : thread_([this, &poller, timeout] {
            Stopwatch stopwatch;
            absl::StatusOr<absl::Span<const EventObject>> events =
                poller.wait(timeout);
            elapsed_ = stopwatch.Elapsed();
            ok_ = events.ok();
            if (events.ok()) {
              for (const EventObject& ev : *events) {
                if (ev.fd >= 0) events_.push_back(ev);
              }
            }
          }) {}
    std::vector<EventObject> Join(absl::Duration* elapsed) {
      thread_.join();
      EXPECT_TRUE(ok_);
      *elapsed = elapsed_;
      return events_;
    }

   private:
    std::vector<EventObject> events_;
    absl::Duration elapsed_;
    bool ok_ = false;
    std::thread thread_;
  };

  std::unique_ptr<Poller> poller_;
};

TEST_P(AnyThreadTest, BlockedInfiniteWaitPicksUpAReadyFdAddedElsewhere) {
  SocketPair pair = MakeSocketPair();
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  // An infinite wait in effect: the timeout only bounds a failing test.
  BackgroundWait waiter(*poller_, absl::Seconds(20));
  absl::SleepFor(absl::Milliseconds(50));  // let it block
  ASSERT_TRUE(poller_->add(EventObject::Client(pair.left.get(), 77)).ok());
  absl::Duration elapsed;
  const std::vector<EventObject> events = waiter.Join(&elapsed);
  ASSERT_EQ(events.size(), 1u) << "after " << elapsed;
  EXPECT_EQ(events[0].fd, pair.left.get());
  EXPECT_EQ(events[0].token, 77u);
  EXPECT_LT(elapsed, absl::Seconds(10)) << "the add did not reach the wait";
}

TEST_P(AnyThreadTest, BlockedWaitSeesAnFdThatBecomesReadyAfterItsAdd) {
  SocketPair pair = MakeSocketPair();
  BackgroundWait waiter(*poller_, absl::Seconds(20));
  absl::SleepFor(absl::Milliseconds(30));
  ASSERT_TRUE(poller_->add(EventObject::Client(pair.left.get(), 5)).ok());
  absl::SleepFor(absl::Milliseconds(30));
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  absl::Duration elapsed;
  const std::vector<EventObject> events = waiter.Join(&elapsed);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].token, 5u);
  EXPECT_LT(elapsed, absl::Seconds(10));
}

TEST_P(AnyThreadTest, ModifyElsewhereRearmsAFiredOneshotForTheWaitInProgress) {
  SocketPair pair = MakeSocketPair();
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ASSERT_TRUE(
      poller_->add(EventObject::Client(pair.left.get(), 1), Trigger::kOneshot)
          .ok());
  // Both waits on one thread (an io_uring belongs to the thread that waits).
  std::atomic<bool> fired{false};
  std::vector<EventObject> second;
  absl::Duration elapsed;
  std::thread waiter([&] {
    absl::StatusOr<absl::Span<const EventObject>> first =
        poller_->wait(absl::Seconds(5));
    // Fired, now disarmed though still ready.
    fired.store(first.ok() && first->size() == 1);
    Stopwatch stopwatch;
    absl::StatusOr<absl::Span<const EventObject>> events =
        poller_->wait(absl::Seconds(20));
    elapsed = stopwatch.Elapsed();
    if (events.ok()) second.assign(events->begin(), events->end());
  });
  for (int i = 0; i < 500 && !fired.load(); ++i) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  absl::SleepFor(absl::Milliseconds(50));  // the second wait blocks
  ASSERT_TRUE(
      poller_
          ->modify(EventObject::Client(pair.left.get(), 2), Trigger::kOneshot)
          .ok());
  waiter.join();
  ASSERT_TRUE(fired.load());
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].token, 2u) << "the kind and token modify gave";
  EXPECT_LT(elapsed, absl::Seconds(10));
}

TEST_P(AnyThreadTest, DelElsewhereDuringAWaitReleasesTheFileAtOnce) {
  Listener listener = MakeLoopbackListener();
  ASSERT_TRUE(poller_->add(EventObject::Server(listener.fd.get())).ok());
  SocketPair other = MakeSocketPair();
  ASSERT_TRUE(poller_->add(EventObject::Client(other.left.get(), 9)).ok());
  BackgroundWait waiter(*poller_, absl::Seconds(20));
  absl::SleepFor(absl::Milliseconds(50));
  const int fd = listener.fd.get();
  ASSERT_TRUE(poller_->del(fd).ok());
  EXPECT_FALSE(poller_->find(fd).ok());
  listener.fd.Reset();
  // Bound again at once: nothing in the poller holds the old socket.
  const int again = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(listener.port));
  EXPECT_EQ(
      ::bind(again, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0)
      << "port " << listener.port << " still held: " << std::strerror(errno);
  ::close(again);
  ASSERT_TRUE(WriteBytes(other.right.get()));  // ends the wait
  absl::Duration elapsed;
  for (const EventObject& ev : waiter.Join(&elapsed)) {
    EXPECT_EQ(ev.token, 9u) << "only the other fd may report";
  }
}

// Workers register, re-arm and delete their own connections while one
// thread waits; fd numbers are reused across threads as they close. Every
// registration has a token of its own whose kind is token % 200.
TEST_P(AnyThreadTest, WorkersChurnWhileOneThreadWaits) {
  constexpr int kWorkers = 4;
  constexpr int kCyclesPerWorker = 150;
  constexpr int kTokens = kWorkers * kCyclesPerWorker + 1;
  std::vector<std::atomic<std::uint64_t>> deleted_at(kTokens);
  std::vector<std::atomic<bool>> reported(kTokens);
  std::atomic<std::uint64_t> sequence{0};
  std::atomic<int> violations{0};
  std::atomic<int> lost{0};
  std::atomic<bool> done{false};

  std::thread waiter([&] {
    while (!done.load()) {
      const std::uint64_t start = sequence.load();
      absl::StatusOr<absl::Span<const EventObject>> events =
          poller_->wait(absl::Milliseconds(20));
      if (!events.ok()) {
        violations.fetch_add(1);
        return;
      }
      for (const EventObject& ev : *events) {
        if (ev.fd < 0) continue;
        if (ev.token == 0 || ev.token >= static_cast<std::uint64_t>(kTokens) ||
            ev.kind != static_cast<EventKind>(ev.token % 200)) {
          violations.fetch_add(1);  // not a registration's own token / kind
          continue;
        }
        const std::uint64_t deleted = deleted_at[ev.token].load();
        // Deleted before this wait began: must not be reported.
        if (deleted != 0 && deleted <= start) violations.fetch_add(1);
        reported[ev.token].store(true);
      }
    }
  });

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      for (int cycle = 0; cycle < kCyclesPerWorker; ++cycle) {
        const std::uint64_t token =
            1 + static_cast<std::uint64_t>(w * kCyclesPerWorker + cycle);
        SocketPair pair = MakeSocketPair();
        const EventObject ev{pair.left.get(),
                             static_cast<EventKind>(token % 200),
                             Events::kReadable, token};
        const Trigger trigger =
            cycle % 2 == 0 ? Trigger::kLevel : Trigger::kOneshot;
        if (!poller_->add(ev, trigger).ok()) {
          violations.fetch_add(1);
          continue;
        }
        WriteBytes(pair.right.get());
        // Nothing lost: the waiter reports it within a bounded time.
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!reported[token].load() &&
               std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        if (!reported[token].load()) lost.fetch_add(1);
        if (cycle % 3 == 0 &&
            !poller_
                 ->modify(
                     EventObject{ev.fd, ev.kind,
                                 Events::kReadable | Events::kWritable, token},
                     trigger)
                 .ok()) {
          violations.fetch_add(1);
        }
        if (!poller_->del(ev.fd).ok()) violations.fetch_add(1);
        deleted_at[token].store(sequence.fetch_add(1) + 1);
        // The pair closes here; its numbers go to whichever thread opens
        // next.
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  done.store(true);
  waiter.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(lost.load(), 0);
  EXPECT_EQ(poller_->size(), 0u);
}

// Several threads add, modify and delete the same two fds at once: each
// call gets a status that is right for some order of the calls, results
// carry only tokens a call really registered (with their kinds), and at the
// end the table, the kernel and a last wait agree.
TEST_P(AnyThreadTest, ThreadsRacingOnTheSameFdsStayConsistent) {
  constexpr int kThreads = 4;
  constexpr int kOps = 300;
  constexpr std::uint64_t kTokens = kThreads * kOps + 1;
  SocketPair pairs[2] = {MakeSocketPair(), MakeSocketPair()};
  for (SocketPair& pair : pairs) ASSERT_TRUE(WriteBytes(pair.right.get()));
  std::vector<std::atomic<bool>> registered_ever(kTokens);
  std::atomic<int> violations{0};
  std::atomic<bool> done{false};
  std::size_t found = 0;
  int lost = 0;

  // Waits, and at the end checks the end state, on one thread (an io_uring
  // belongs to the thread that waits): what find says is what the kernel
  // reports.
  std::thread waiter([&] {
    while (!done.load()) {
      absl::StatusOr<absl::Span<const EventObject>> events =
          poller_->wait(absl::Milliseconds(5));
      if (!events.ok()) {
        violations.fetch_add(1);
        return;
      }
      for (const EventObject& ev : *events) {
        if (ev.fd < 0) continue;
        if (ev.token == 0 || ev.token >= kTokens ||
            !registered_ever[ev.token].load() ||
            ev.kind != static_cast<EventKind>(ev.token % 200)) {
          violations.fetch_add(1);
        }
      }
    }
    for (SocketPair& pair : pairs) {
      absl::StatusOr<Registration> registration =
          poller_->find(pair.left.get());
      if (!registration.ok()) {
        if (registration.status().code() != absl::StatusCode::kNotFound) {
          violations.fetch_add(1);
        }
        continue;
      }
      ++found;
      bool reported = false;
      for (int wait = 0; wait < 3 && !reported; ++wait) {
        absl::StatusOr<absl::Span<const EventObject>> events =
            poller_->wait(absl::Milliseconds(100));
        if (!events.ok()) break;
        for (const EventObject& ev : *events) {
          if (ev.fd != pair.left.get()) continue;
          if (ev.token != registration->token) violations.fetch_add(1);
          reported = true;
        }
      }
      if (!reported) ++lost;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int op = 0; op < kOps; ++op) {
        const std::uint64_t token =
            1 + static_cast<std::uint64_t>(t * kOps + op);
        const int fd = pairs[(t + op) % 2].left.get();
        const EventObject ev{fd, static_cast<EventKind>(token % 200),
                             Events::kReadable, token};
        // Marked first: a result may come as soon as the call is made.
        registered_ever[token].store(true);
        absl::Status status;
        absl::StatusCode allowed;
        switch ((op * 7 + t) % 3) {
          case 0:
            status = poller_->add(ev);
            allowed = absl::StatusCode::kAlreadyExists;
            break;
          case 1:
            status = poller_->modify(ev);
            allowed = absl::StatusCode::kNotFound;
            break;
          default:
            status = poller_->del(fd);
            allowed = absl::StatusCode::kNotFound;
            break;
        }
        if (!status.ok() && status.code() != allowed) violations.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  done.store(true);
  waiter.join();
  EXPECT_EQ(violations.load(), 0);

  EXPECT_EQ(lost, 0) << "a ready registration the kernel lost";
  EXPECT_EQ(poller_->size(), found);
}

INSTANTIATE_TEST_SUITE_P(Backends, AnyThreadTest,
                         ::testing::ValuesIn(kAllBackends),
                         testing::BackendTestName());

}  // namespace
}  // namespace pollio
