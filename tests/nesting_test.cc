// Copyright 2026 The pollio Authors.
//
// Poller::native_handle(): each backend nested inside an EpollPoller, a
// PollPoller and plain poll(2). A ready fd in the inner poller makes the
// outer wait return, and an inner wait(0) then reports it; fds added after
// the handle was taken are covered too (io_uring submits them at once from
// then on). poll has no handle: Unimplemented.

#include <poll.h>

#include <functional>
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

using ::pollio::testing::Drain;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;
using ::pollio::testing::WaitEvents;
using ::pollio::testing::WriteBytes;

enum class Outer { kEpoll, kPoll, kRawPoll };

struct Case {
  Backend inner;
  Outer outer;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  const char* outer = info.param.outer == Outer::kEpoll  ? "in_epoll"
                      : info.param.outer == Outer::kPoll ? "in_poll"
                                                         : "in_raw_poll";
  return std::string(BackendName(info.param.inner)) + "_" + outer;
}

// The outer loop: whether `fd` becomes readable within `timeout`.
class OuterLoop {
 public:
  OuterLoop(Outer kind, int fd) : kind_(kind), fd_(fd) {
    if (kind == Outer::kRawPoll) return;
    absl::StatusOr<std::unique_ptr<Poller>> poller =
        NewPoller(kind == Outer::kEpoll ? Backend::kEpoll : Backend::kPoll);
    EXPECT_TRUE(poller.ok()) << poller.status();
    if (!poller.ok()) return;
    poller_ = *std::move(poller);
    EXPECT_TRUE(poller_->add(EventObject::Server(fd, 0xabc)).ok());
  }

  bool Readable(absl::Duration timeout) {
    if (kind_ == Outer::kRawPoll) {
      pollfd entry{fd_, POLLIN, 0};
      return ::poll(&entry, 1,
                    static_cast<int>(absl::ToInt64Milliseconds(timeout))) ==
                 1 &&
             (entry.revents & POLLIN) != 0;
    }
    if (poller_ == nullptr) return false;
    for (const EventObject& ev : WaitEvents(*poller_, timeout)) {
      if (ev.fd == fd_ && Has(ev.events, Events::kReadable)) {
        EXPECT_EQ(ev.token, 0xabcu);
        return true;
      }
    }
    return false;
  }

 private:
  Outer kind_;
  int fd_;
  std::unique_ptr<Poller> poller_;
};

class NestingTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Poller>> inner = NewPoller(GetParam().inner);
    if (inner.status().code() == absl::StatusCode::kUnimplemented ||
        inner.status().code() == absl::StatusCode::kUnavailable) {
      GTEST_SKIP() << inner.status();
    }
    ASSERT_TRUE(inner.ok()) << inner.status();
    inner_ = *std::move(inner);
  }

  // Inner wait(0) results for `fd`.
  int ReportsFor(int fd, std::uint64_t token) {
    int found = 0;
    for (const EventObject& ev : WaitEvents(*inner_)) {
      if (ev.fd != fd) continue;
      EXPECT_EQ(ev.token, token);
      ++found;
    }
    return found;
  }

  std::unique_ptr<Poller> inner_;
};

TEST_P(NestingTest, InnerReadinessWakesTheOuterLoop) {
  SocketPair before = MakeSocketPair();
  ASSERT_TRUE(inner_->add(EventObject::Client(before.left.get(), 1)).ok());
  absl::StatusOr<int> handle = inner_->native_handle();
  if (GetParam().inner == Backend::kPoll) {
    EXPECT_EQ(handle.status().code(), absl::StatusCode::kUnimplemented)
        << handle.status();
    return;
  }
  ASSERT_TRUE(handle.ok()) << handle.status();
  EXPECT_GE(*handle, 0);
  EXPECT_EQ(*inner_->native_handle(), *handle) << "one handle for life";
  SocketPair after = MakeSocketPair();
  ASSERT_TRUE(inner_->add(EventObject::Client(after.left.get(), 2)).ok());
  OuterLoop outer(GetParam().outer, *handle);

  // Quiet once the inner poller has collected what it had.
  EXPECT_EQ(ReportsFor(before.left.get(), 1), 0);
  EXPECT_FALSE(outer.Readable(absl::Milliseconds(50)))
      << "readable with nothing ready in the inner poller";

  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    SocketPair& pair = round % 2 == 0 ? before : after;
    const std::uint64_t token = round % 2 == 0 ? 1 : 2;
    ASSERT_TRUE(WriteBytes(pair.right.get()));
    EXPECT_TRUE(outer.Readable(absl::Seconds(5)))
        << "the outer loop did not see the inner fd become ready";
    EXPECT_EQ(ReportsFor(pair.left.get(), token), 1);
    Drain(pair.left.get());
    if (GetParam().inner == Backend::kUring) {
      // Re-armed before the drain (so the outer loop could block): one
      // more report of the old readiness may come, as poller.h says.
      EXPECT_LE(ReportsFor(pair.left.get(), token), 1);
    }
    // Drained and collected: the level registration has nothing more.
    EXPECT_EQ(ReportsFor(pair.left.get(), token), 0);
  }
  EXPECT_FALSE(outer.Readable(absl::Milliseconds(50)));

  // Readiness that arrives while the outer loop is blocked wakes it.
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    WriteBytes(after.right.get());
  });
  const bool woke = outer.Readable(absl::Seconds(5));
  writer.join();
  EXPECT_TRUE(woke) << "the outer loop slept through the inner readiness";
  EXPECT_EQ(ReportsFor(after.left.get(), 2), 1);
  Drain(after.left.get());
  int reports = 1;
  for (int wait = 0; wait < 3 && reports != 0; ++wait) {
    reports = ReportsFor(after.left.get(), 2);
  }
  EXPECT_EQ(reports, 0);

  // A wake makes it readable too (spurious for the outer loop: the inner
  // wait reports nothing).
  ASSERT_TRUE(inner_->wake().ok());
  EXPECT_TRUE(outer.Readable(absl::Seconds(5)));
  EXPECT_TRUE(WaitEvents(*inner_).empty());
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (Backend inner : kAllBackends) {
    for (Outer outer : {Outer::kEpoll, Outer::kPoll, Outer::kRawPoll}) {
      cases.push_back(Case{inner, outer});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Backends, NestingTest, ::testing::ValuesIn(AllCases()),
                         CaseName);

}  // namespace
}  // namespace pollio
