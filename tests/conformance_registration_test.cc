// Copyright 2026 The pollio Authors.
//
// Registration and errors, a topic of the conformance suite (fixture:
// tests/conformance.h; every backend). add, modify and del, and every error of
// the contract: each failed call names the call and fd and leaves the poller
// exactly as it was.

#include <errno.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "event/event.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/conformance.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::ConformanceTest;
using ::pollio::testing::ExpectEvents;
using ::pollio::testing::ExpectNoEvents;
using ::pollio::testing::kRW;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;
using ::pollio::testing::UniqueFd;
using ::pollio::testing::WaitEvents;
using ::pollio::testing::WriteBytes;

TEST_P(ConformanceTest, ReportsItsBackend) {
  EXPECT_EQ(poller().backend(), GetParam());
  EXPECT_EQ(poller().size(), 0u);
}

TEST_P(ConformanceTest, ModifyChangesInterestKindAndTrigger) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(poller().add(EventObject::Server(fd)).ok());
  ExpectNoEvents(poller());

  const EventObject writer{fd, static_cast<EventKind>(42), Events::kWritable};
  ASSERT_TRUE(poller().modify(writer).ok());
  ExpectEvents(poller(), {writer});

  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ASSERT_TRUE(poller().modify(EventObject::Client(fd)).ok());
  ExpectEvents(poller(), {EventObject::Client(fd)});

  ASSERT_TRUE(poller().modify(EventObject::Client(fd), Trigger::kOneshot).ok());
  ExpectEvents(poller(), {EventObject::Client(fd)});
  ExpectNoEvents(poller());
  ASSERT_TRUE(poller().modify(EventObject::Client(fd), Trigger::kLevel).ok());
  ExpectEvents(poller(), {EventObject::Client(fd)});
  ExpectEvents(poller(), {EventObject::Client(fd)});
  EXPECT_EQ(poller().size(), 1u);
}

TEST_P(ConformanceTest, DelStopsEvents) {
  SocketPair pair = MakeSocketPair();
  ASSERT_TRUE(poller().add(EventObject::Client(pair.left.get())).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {EventObject::Client(pair.left.get())});
  ASSERT_TRUE(poller().del(pair.left.get()).ok());
  EXPECT_EQ(poller().size(), 0u);
  ExpectNoEvents(poller());
  // And it can be added again.
  ASSERT_TRUE(poller().add(EventObject::Client(pair.left.get())).ok());
  ExpectEvents(poller(), {EventObject::Client(pair.left.get())});
}

// Every error of the contract, each leaving the poller exactly as it was:
// the same size, and the one live registration still reporting as before.
TEST_P(ConformanceTest, BadInputGetsItsStatusAndChangesNothing) {
  SocketPair live = MakeSocketPair();
  const EventObject live_client = EventObject::Client(live.left.get());
  ASSERT_TRUE(poller().add(live_client).ok());
  ASSERT_TRUE(WriteBytes(live.right.get()));
  SocketPair spare = MakeSocketPair();
  UniqueFd closed(::dup(spare.left.get()));
  const int closed_fd = closed.get();
  closed.Reset();

  auto expect_unchanged = [&](const absl::Status& status, absl::StatusCode code,
                              const char* what) {
    EXPECT_EQ(status.code(), code) << what << ": " << status;
    EXPECT_FALSE(status.message().empty()) << what;
    EXPECT_EQ(poller().size(), 1u) << what;
    ExpectEvents(poller(), {live_client});
  };

  expect_unchanged(poller().add(EventObject::Client(-1)),
                   absl::StatusCode::kInvalidArgument, "add(-1)");
  expect_unchanged(poller().add(EventObject{spare.left.get(),
                                            EventKind::kClient, Events::kNone}),
                   absl::StatusCode::kInvalidArgument,
                   "add with empty interest");
  expect_unchanged(
      poller().add(EventObject{spare.left.get(), EventKind::kClient,
                               Events::kHangup | Events::kError}),
      absl::StatusCode::kInvalidArgument, "add with only output bits");
  expect_unchanged(
      poller().add(EventObject{spare.left.get(), EventKind::kClient,
                               Events::kReadable | Events::kHangup}),
      absl::StatusCode::kInvalidArgument, "add with an output bit");
  expect_unchanged(
      poller().modify(EventObject{live.left.get(), EventKind::kClient,
                                  Events::kReadable | Events::kReadClosed}),
      absl::StatusCode::kInvalidArgument, "modify with an output bit");
  expect_unchanged(poller().add(EventObject::Client(spare.left.get()),
                                static_cast<Trigger>(9)),
                   absl::StatusCode::kInvalidArgument,
                   "add with a bad trigger");
  expect_unchanged(poller().add(EventObject::Server(live.left.get())),
                   absl::StatusCode::kAlreadyExists, "add twice");
  expect_unchanged(poller().modify(EventObject::Client(spare.left.get())),
                   absl::StatusCode::kNotFound, "modify unregistered");
  expect_unchanged(poller().modify(EventObject{
                       live.left.get(), EventKind::kServer, Events::kNone}),
                   absl::StatusCode::kInvalidArgument,
                   "modify to empty interest");
  expect_unchanged(poller().modify(EventObject::Client(-5)),
                   absl::StatusCode::kInvalidArgument, "modify(-5)");
  expect_unchanged(poller().del(spare.left.get()), absl::StatusCode::kNotFound,
                   "del unregistered");
  expect_unchanged(poller().del(-1), absl::StatusCode::kInvalidArgument,
                   "del(-1)");

  const absl::Status closed_status =
      poller().add(EventObject::Client(closed_fd));
  EXPECT_EQ(ErrnoFromStatus(closed_status), EBADF) << closed_status;
  expect_unchanged(closed_status, absl::StatusCode::kFailedPrecondition,
                   "add of a closed fd");

  const EventObject priority{spare.left.get(), EventKind::kClient,
                             Events::kPriority};
  const EventObject live_priority{live.left.get(), EventKind::kClient,
                                  Events::kReadable | Events::kPriority};
  if (!poller().supports_priority()) {
    expect_unchanged(poller().add(priority), absl::StatusCode::kUnimplemented,
                     "add with kPriority on kqueue");
    expect_unchanged(poller().modify(live_priority),
                     absl::StatusCode::kUnimplemented,
                     "modify to kPriority on kqueue");
  }
  if (GetParam() == Backend::kEpoll) {
    expect_unchanged(poller().add(priority, Trigger::kExclusive),
                     absl::StatusCode::kUnimplemented,
                     "add with kPriority and kExclusive on epoll");
    expect_unchanged(poller().modify(live_priority, Trigger::kExclusive),
                     absl::StatusCode::kUnimplemented,
                     "modify to kPriority and kExclusive on epoll");
  }

  if (!HasEdge()) {
    expect_unchanged(
        poller().add(EventObject::Client(spare.left.get()), Trigger::kEdge),
        absl::StatusCode::kUnimplemented, "add with edge on poll");
    expect_unchanged(poller().modify(live_client, Trigger::kEdge),
                     absl::StatusCode::kUnimplemented,
                     "modify to edge on poll");
  }
}

TEST_P(ConformanceTest, SupportsAnswersWhatAddAccepts) {
  for (const Trigger trigger : {Trigger::kLevel, Trigger::kEdge,
                                Trigger::kOneshot, Trigger::kExclusive}) {
    SocketPair pair = MakeSocketPair();
    const absl::Status added =
        poller().add(EventObject::Client(pair.left.get()), trigger);
    EXPECT_EQ(poller().supports(trigger),
              added.code() != absl::StatusCode::kUnimplemented)
        << TriggerName(trigger) << ": " << added;
    if (added.ok()) {
      ASSERT_TRUE(poller().del(pair.left.get()).ok());
    }
  }
  EXPECT_FALSE(poller().supports(static_cast<Trigger>(9)));
  EXPECT_FALSE(poller().supports(static_cast<Trigger>(200)));
  SocketPair pair = MakeSocketPair();
  const absl::Status added = poller().add(
      EventObject{pair.left.get(), EventKind::kClient, Events::kPriority});
  EXPECT_EQ(poller().supports_priority(),
            added.code() != absl::StatusCode::kUnimplemented)
      << added;
  // Only poll lacks edge, only kqueue lacks priority.
  EXPECT_EQ(poller().supports(Trigger::kEdge), GetParam() != Backend::kPoll);
  EXPECT_EQ(poller().supports_priority(), GetParam() != Backend::kKqueue);
}

TEST_P(ConformanceTest, OsErrorsNameTheCallAndFd) {
  // A regular file: epoll refuses it with EPERM; poll(2) accepts it (always
  // ready), which is this backend's documented difference.
  char path[] = "/tmp/pollio_regular_XXXXXX";
  UniqueFd file(::mkstemp(path));
  ASSERT_GE(file.get(), 0);
  ::unlink(path);
  const absl::Status status = poller().add(EventObject::Client(file.get()));
  if (GetParam() == Backend::kEpoll) {
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
    EXPECT_EQ(ErrnoFromStatus(status), EPERM);
    EXPECT_NE(status.message().find("fd=" + std::to_string(file.get())),
              absl::string_view::npos)
        << status;
    EXPECT_EQ(poller().size(), 0u);
  } else if (GetParam() == Backend::kPoll) {
    EXPECT_TRUE(status.ok()) << status;
    ExpectEvents(poller(), {EventObject::Client(file.get())});
  }
}

TEST_P(ConformanceTest, EveryKindRoundTripsThroughARealWait) {
  std::vector<SocketPair> pairs;
  std::vector<EventObject> expected;
  for (int k = 0; k <= 255; ++k) {
    pairs.push_back(MakeSocketPair());
    const EventObject ev{pairs.back().left.get(), static_cast<EventKind>(k),
                         Events::kReadable};
    ASSERT_TRUE(poller().add(ev).ok()) << k;
    ASSERT_TRUE(WriteBytes(pairs.back().right.get()));
    expected.push_back(ev);
  }
  ExpectEvents(poller(), expected);
}

TEST_P(ConformanceTest, LargeFdRoundTrips) {
  const int limit = ::pollio::testing::RaiseFdLimit();
  SocketPair pair = MakeSocketPair();
  const int large = limit - 1;
  ASSERT_EQ(::dup2(pair.left.get(), large), large) << std::strerror(errno);
  UniqueFd large_fd(large);
  const EventObject ev{large, static_cast<EventKind>(200), kRW};
  ASSERT_TRUE(poller().add(ev).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {ev});
  ASSERT_TRUE(poller().del(large).ok());
}

TEST_P(ConformanceTest, DelOfAClosedFdForgetsIt) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(poller().add(EventObject::Client(fd)).ok());
  pair.left.Reset();  // closed without del: a caller mistake to recover from
  EXPECT_TRUE(poller().del(fd).ok());
  EXPECT_EQ(poller().size(), 0u);
  ExpectNoEvents(poller());
}

TEST_P(ConformanceTest, UncheckedAddReportsAClosedFdAsAnError) {
  PollerOptions options;
  options.check_fd_on_add = false;
  std::unique_ptr<Poller> unchecked = Make(options);
  ASSERT_NE(unchecked, nullptr);
  SocketPair pair = MakeSocketPair();
  UniqueFd closed(::dup(pair.left.get()));
  const int closed_fd = closed.get();
  closed.Reset();
  const absl::Status added = unchecked->add(EventObject::Client(closed_fd));
  if (GetParam() == Backend::kEpoll || GetParam() == Backend::kKqueue) {
    // epoll_ctl and kevent check for free: the option changes nothing.
    EXPECT_EQ(ErrnoFromStatus(added), EBADF) << added;
    EXPECT_EQ(unchecked->size(), 0u);
    return;
  }
  ASSERT_TRUE(added.ok()) << added;
  std::vector<EventObject> events;
  for (int i = 0; i < 10 && events.empty(); ++i) {
    events = WaitEvents(*unchecked, absl::Milliseconds(100));
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].fd, closed_fd);
  EXPECT_TRUE(Has(events[0].events, Events::kError)) << events[0];
  EXPECT_TRUE(unchecked->del(closed_fd).ok());
  EXPECT_EQ(unchecked->size(), 0u);
}

}  // namespace
}  // namespace pollio
