// Copyright 2026 The pollio Authors.
//
// The user token of poller/poller.h, on every backend: each result carries
// its registration's token unchanged, `modify` changes it, introspection
// shows it, and no result ever carries the token of an older registration
// of the same fd number (del and re-add across waits and inside one batch,
// modify, and, on epoll, a file closed without del that a dup keeps alive).

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
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

using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;
using ::pollio::testing::UniqueFd;
using ::pollio::testing::WaitEvents;
using ::pollio::testing::WriteBytes;

constexpr std::uint64_t kBigToken = std::numeric_limits<std::uint64_t>::max();

class TokenTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Poller>> poller = NewPoller(GetParam());
    if (poller.status().code() == absl::StatusCode::kUnimplemented ||
        poller.status().code() == absl::StatusCode::kUnavailable) {
      GTEST_SKIP() << poller.status();
    }
    ASSERT_TRUE(poller.ok()) << poller.status();
    poller_ = *std::move(poller);
  }

  // The token of the one result for `fd` in `events`; fails the test if
  // there is not exactly one.
  static std::uint64_t TokenOf(const std::vector<EventObject>& events, int fd) {
    int found = 0;
    std::uint64_t token = 0;
    for (const EventObject& ev : events) {
      if (ev.fd != fd) continue;
      ++found;
      token = ev.token;
    }
    EXPECT_EQ(found, 1) << "results for fd " << fd;
    return token;
  }

  std::unique_ptr<Poller> poller_;
};

TEST_P(TokenTest, EveryResultCarriesItsRegistrationsToken) {
  for (const Trigger trigger :
       {Trigger::kLevel, Trigger::kEdge, Trigger::kOneshot}) {
    if (!poller_->supports(trigger)) continue;
    SCOPED_TRACE(TriggerName(trigger));
    SocketPair a = MakeSocketPair();
    SocketPair b = MakeSocketPair();
    SocketPair c = MakeSocketPair();
    ASSERT_TRUE(
        poller_->add(EventObject::Client(a.left.get(), 0), trigger).ok());
    ASSERT_TRUE(
        poller_->add(EventObject::Client(b.left.get(), 42), trigger).ok());
    ASSERT_TRUE(
        poller_
            ->add(EventObject{c.left.get(), static_cast<EventKind>(200),
                              Events::kReadable | Events::kWritable, kBigToken},
                  trigger)
            .ok());
    ASSERT_TRUE(WriteBytes(a.right.get()));
    ASSERT_TRUE(WriteBytes(b.right.get()));
    const std::vector<EventObject> events = WaitEvents(*poller_);
    EXPECT_EQ(TokenOf(events, a.left.get()), 0u);
    EXPECT_EQ(TokenOf(events, b.left.get()), 42u);
    EXPECT_EQ(TokenOf(events, c.left.get()), kBigToken);
    for (const EventObject& ev : events) {
      if (ev.fd == c.left.get()) {
        EXPECT_EQ(ev.kind, static_cast<EventKind>(200));
      }
    }
    for (const SocketPair* pair : {&a, &b, &c}) {
      ASSERT_TRUE(poller_->del(pair->left.get()).ok());
    }
  }
}

TEST_P(TokenTest, ModifyChangesTheTokenAndIntrospectionShowsIt) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(poller_->add(EventObject::Client(fd, 7)).ok());
  absl::StatusOr<Registration> found = poller_->find(fd);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->token, 7u);
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  EXPECT_EQ(TokenOf(WaitEvents(*poller_), fd), 7u);

  ASSERT_TRUE(poller_->modify(EventObject::Client(fd, 8)).ok());
  EXPECT_EQ(TokenOf(WaitEvents(*poller_), fd), 8u);
  found = poller_->find(fd);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->token, 8u);
  std::uint64_t visited = 0;
  poller_->for_each([&](const Registration& registration) {
    if (registration.fd == fd) visited = registration.token;
  });
  EXPECT_EQ(visited, 8u);
  EXPECT_NE(poller_->DebugString().find("token=8"), std::string::npos)
      << poller_->DebugString();

  // Back to 0: no token in the text.
  ASSERT_TRUE(poller_->modify(EventObject::Client(fd, 0)).ok());
  EXPECT_EQ(poller_->DebugString().find("token="), std::string::npos);
  EXPECT_EQ(TokenOf(WaitEvents(*poller_), fd), 0u);
}

TEST_P(TokenTest, DelAndReAddOfTheSameFdAcrossWaitsCarriesOnlyTheNewToken) {
  for (const Trigger trigger :
       {Trigger::kLevel, Trigger::kEdge, Trigger::kOneshot}) {
    if (!poller_->supports(trigger)) continue;
    SCOPED_TRACE(TriggerName(trigger));
    SocketPair pair = MakeSocketPair();
    const int fd = pair.left.get();
    ASSERT_TRUE(WriteBytes(pair.right.get()));
    for (std::uint64_t token = 1; token <= 20; ++token) {
      ASSERT_TRUE(poller_->add(EventObject::Client(fd, token), trigger).ok());
      if (token % 2 == 0) {
        // Armed and fired in the kernel before the del.
        EXPECT_EQ(TokenOf(WaitEvents(*poller_), fd), token);
      }
      ASSERT_TRUE(poller_->del(fd).ok());
    }
    ASSERT_TRUE(poller_->add(EventObject::Client(fd, 99), trigger).ok());
    for (int wait = 0; wait < 3; ++wait) {
      for (const EventObject& ev : WaitEvents(*poller_)) {
        EXPECT_EQ(ev.token, 99u) << "a result of an older registration";
      }
      if (trigger != Trigger::kLevel) break;
    }
    ASSERT_TRUE(poller_->del(fd).ok());
  }
}

TEST_P(TokenTest, ModifyBetweenWaitsNeverLeavesTheOldTokenBehind) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ASSERT_TRUE(poller_->add(EventObject::Client(fd, 1)).ok());
  EXPECT_EQ(TokenOf(WaitEvents(*poller_), fd), 1u);
  for (std::uint64_t token = 2; token < 30; ++token) {
    const Trigger trigger = token % 3 == 0 && poller_->supports(Trigger::kEdge)
                                ? Trigger::kEdge
                            : token % 3 == 1 ? Trigger::kOneshot
                                             : Trigger::kLevel;
    ASSERT_TRUE(poller_->modify(EventObject::Client(fd, token), trigger).ok());
    EXPECT_EQ(TokenOf(WaitEvents(*poller_), fd), token);
  }
}

// The accept-loop hazard: inside one batch, the loop closes a client and a
// new connection gets the same fd number.
TEST_P(TokenTest, FdNumberReusedInsideOneBatchNeverCarriesTheOldToken) {
  SocketPair first = MakeSocketPair();
  SocketPair second = MakeSocketPair();
  ASSERT_TRUE(poller_->add(EventObject::Client(first.left.get(), 1)).ok());
  ASSERT_TRUE(poller_->add(EventObject::Client(second.left.get(), 2)).ok());
  ASSERT_TRUE(WriteBytes(first.right.get()));
  ASSERT_TRUE(WriteBytes(second.right.get()));
  absl::StatusOr<absl::Span<const EventObject>> batch =
      poller_->wait(absl::ZeroDuration());
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->size(), 2u);

  // While reading the batch: close whichever came second, and give its
  // number to a fresh, ready socket registered with a new token.
  const int reused = (*batch)[1].fd;
  SocketPair& closed = reused == first.left.get() ? first : second;
  ASSERT_TRUE(poller_->del(reused).ok());
  SocketPair fresh = MakeSocketPair();
  ASSERT_EQ(::dup2(fresh.left.get(), reused), reused);  // closes the old one
  fresh.left.Reset();
  closed.left.Release();  // `reused` is the fresh socket now
  UniqueFd reused_fd(reused);
  ASSERT_TRUE(poller_->add(EventObject::Client(reused, 3)).ok());
  ASSERT_TRUE(WriteBytes(fresh.right.get()));
  EXPECT_EQ((*batch)[1].fd, -1) << "del scrubs the rest of the batch";
  EXPECT_EQ((*batch)[1].token, 0u);

  const std::vector<EventObject> next = WaitEvents(*poller_);
  EXPECT_EQ(TokenOf(next, reused), 3u);
  ASSERT_TRUE(poller_->del(reused).ok());
}

// epoll tracks open file descriptions: a file closed without del while a
// dup of it lives stays in the interest list and keeps reporting under its
// old number. Once the number is registered again, those reports must not
// carry the new registration's token.
TEST_P(TokenTest, ClosedWithoutDelUnderEpollNeverBorrowsANewToken) {
  if (GetParam() != Backend::kEpoll) {
    GTEST_SKIP() << "only epoll keeps a closed fd's registration alive";
  }
  SocketPair old_pair = MakeSocketPair();
  const int number = old_pair.left.get();
  ASSERT_TRUE(poller_->add(EventObject::Client(number, 1)).ok());
  UniqueFd dup_of_old(::dup(number));
  ASSERT_GE(dup_of_old.get(), 0);
  old_pair.left.Reset();  // closed without del; the dup keeps it registered
  ASSERT_TRUE(poller_->del(number).ok());         // forgets it (EBADF)
  ASSERT_TRUE(WriteBytes(old_pair.right.get()));  // the zombie is readable

  SocketPair new_pair = MakeSocketPair();
  ASSERT_EQ(::dup2(new_pair.left.get(), number), number);
  UniqueFd new_fd(number);
  ASSERT_TRUE(poller_->add(EventObject::Client(number, 2)).ok());
  ASSERT_TRUE(WriteBytes(new_pair.right.get()));

  const std::vector<EventObject> events = WaitEvents(*poller_);
  int with_new_token = 0;
  for (const EventObject& ev : events) {
    ASSERT_EQ(ev.fd, number);
    EXPECT_TRUE(ev.token == 2 || ev.token == 0) << ev;
    if (ev.token == 2) ++with_new_token;
  }
  EXPECT_EQ(with_new_token, 1) << "the new registration reports once";
  EXPECT_EQ(events.size(), 2u) << "and the zombie once, with token 0";
  ASSERT_TRUE(poller_->del(number).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, TokenTest, ::testing::ValuesIn(kAllBackends),
                         testing::BackendTestName());

}  // namespace
}  // namespace pollio
