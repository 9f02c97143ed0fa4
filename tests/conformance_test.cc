// The contract of poller/poller.h, checked once on every backend.
//
// Instantiated over all four Backend values: a backend that is not compiled
// into this build, or that the kernel refuses, is skipped with the reason
// printed, never silently dropped.

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
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
using ::pollio::testing::ExpectEvents;
using ::pollio::testing::ExpectNoEvents;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;
using ::pollio::testing::Stopwatch;
using ::pollio::testing::UniqueFd;
using ::pollio::testing::WaitEvents;
using ::pollio::testing::WriteBytes;

constexpr Events kRW = Events::kReadable | Events::kWritable;

class ConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    poller_ = Make(PollerOptions{});
    if (poller_ == nullptr && !skip_reason_.empty())
      GTEST_SKIP() << skip_reason_;
    ASSERT_NE(poller_, nullptr);
  }

  // A new poller on the backend under test; null (with skip_reason_ set
  // when the backend is missing here) if it cannot be made.
  std::unique_ptr<Poller> Make(PollerOptions options) {
    absl::StatusOr<std::unique_ptr<Poller>> poller =
        NewPoller(GetParam(), options);
    if (poller.status().code() == absl::StatusCode::kUnimplemented ||
        poller.status().code() == absl::StatusCode::kUnavailable) {
      skip_reason_ = "backend " + std::string(BackendName(GetParam())) +
                     " skipped: " + poller.status().ToString();
      return nullptr;
    }
    EXPECT_TRUE(poller.ok()) << poller.status();
    return poller.ok() ? *std::move(poller) : nullptr;
  }

  // The capability query, not the backend's name: tested against what add
  // accepts by SupportsAnswersWhatAddAccepts.
  bool HasEdge() const { return poller_->supports(Trigger::kEdge); }

  Poller& poller() { return *poller_; }
  std::unique_ptr<Poller> poller_;
  std::string skip_reason_;
};

TEST_P(ConformanceTest, ReportsItsBackend) {
  EXPECT_EQ(poller().backend(), GetParam());
  EXPECT_EQ(poller().size(), 0u);
}

TEST_P(ConformanceTest, ReadableAfterWriteAndNotAfterDrain) {
  SocketPair pair = MakeSocketPair();
  ASSERT_TRUE(poller().add(EventObject::Client(pair.left.get())).ok());
  EXPECT_EQ(poller().size(), 1u);
  ExpectNoEvents(poller());

  ASSERT_TRUE(WriteBytes(pair.right.get(), 3));
  ExpectEvents(poller(), {EventObject::Client(pair.left.get())});
  // Level: still reported while data is left.
  ExpectEvents(poller(), {EventObject::Client(pair.left.get())});

  EXPECT_EQ(Drain(pair.left.get()), 3);
  ExpectNoEvents(poller());
}

TEST_P(ConformanceTest, WritableOnAFreshSocket) {
  SocketPair pair = MakeSocketPair();
  const EventObject writer{pair.left.get(), EventKind::kClient,
                           Events::kWritable};
  ASSERT_TRUE(poller().add(writer).ok());
  ExpectEvents(poller(), {writer});
}

TEST_P(ConformanceTest, ReadAndWriteInterestMergeIntoOneEntry) {
  SocketPair pair = MakeSocketPair();
  const EventObject both{pair.left.get(), EventKind::kClient, kRW};
  ASSERT_TRUE(poller().add(both).ok());
  ExpectEvents(poller(), {EventObject{pair.left.get(), EventKind::kClient,
                                      Events::kWritable}});
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {both});
}

TEST_P(ConformanceTest, EdgeFiresOncePerNewData) {
  SocketPair pair = MakeSocketPair();
  const EventObject client = EventObject::Client(pair.left.get());
  const absl::Status added = poller().add(client, Trigger::kEdge);
  if (!HasEdge()) {
    EXPECT_EQ(added.code(), absl::StatusCode::kUnimplemented) << added;
    EXPECT_EQ(poller().size(), 0u);
    return;
  }
  ASSERT_TRUE(added.ok()) << added;
  ExpectNoEvents(poller());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {client});
  ExpectNoEvents(poller());  // still readable, but no new edge
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {client});
  ExpectNoEvents(poller());
}

TEST_P(ConformanceTest, OneshotFiresOnceUntilModifyRearms) {
  SocketPair pair = MakeSocketPair();
  const EventObject client = EventObject::Client(pair.left.get());
  ASSERT_TRUE(poller().add(client, Trigger::kOneshot).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {client});
  ExpectNoEvents(poller());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectNoEvents(poller());
  EXPECT_EQ(poller().size(), 1u);  // disarmed, still registered

  ASSERT_TRUE(poller().modify(client, Trigger::kOneshot).ok());
  ExpectEvents(poller(), {client});
  ExpectNoEvents(poller());
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

// Closing one end of an AF_UNIX stream pair shuts the other end both ways
// at once (the kernel sets both shutdown bits on the survivor), so it is
// read-closed and hung up together. tests/readiness_test.cc covers TCP,
// where a close alone is only a read-side close.
TEST_P(ConformanceTest, PeerCloseGivesReadClosedAndHangup) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(poller().add(EventObject{fd, EventKind::kClient, kRW}).ok());
  pair.right.Reset();
  ExpectEvents(poller(),
               {EventObject{fd, EventKind::kClient,
                            kRW | Events::kReadClosed | Events::kHangup}});
  // With read interest only, kqueue's read filter cannot tell a close from
  // a half-close (its kHangup comes from EVFILT_WRITE).
  ASSERT_TRUE(poller().modify(EventObject::Client(fd)).ok());
  const Events read_only =
      GetParam() == Backend::kKqueue
          ? Events::kReadable | Events::kReadClosed
          : Events::kReadable | Events::kReadClosed | Events::kHangup;
  ExpectEvents(poller(), {EventObject{fd, EventKind::kClient, read_only}});
}

// A shutdown of writing closes only the read side here: read-closed,
// readable (EOF) and still writable, but not hung up. Without read interest
// there is nothing to report but writable, on io_uring too (which polls for
// the half-close whatever the interest, and drops it).
TEST_P(ConformanceTest, PeerShutdownOfWritingGivesReadClosedNotHangup) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(poller().add(EventObject{fd, EventKind::kClient, kRW}).ok());
  ASSERT_EQ(::shutdown(pair.right.get(), SHUT_WR), 0);
  ExpectEvents(poller(), {EventObject{fd, EventKind::kClient,
                                      kRW | Events::kReadClosed}});
  ASSERT_TRUE(poller().modify(EventObject::Client(fd)).ok());
  ExpectEvents(poller(),
               {EventObject{fd, EventKind::kClient,
                            Events::kReadable | Events::kReadClosed}});
  const EventObject writer{fd, EventKind::kClient, Events::kWritable};
  ASSERT_TRUE(poller().modify(writer).ok());
  ExpectEvents(poller(), {writer});
}

TEST_P(ConformanceTest, RefusedConnectGivesError) {
  // A port with no listener: take one from a listener, then close it.
  int port;
  {
    ::pollio::testing::Listener listener =
        ::pollio::testing::MakeLoopbackListener();
    port = listener.port;
  }
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address),
                           sizeof(address));
  ASSERT_TRUE(rc == 0 || errno == EINPROGRESS || errno == ECONNREFUSED);
  ASSERT_TRUE(
      poller()
          .add(EventObject{fd.get(), EventKind::kClient, Events::kWritable})
          .ok());
  const std::vector<EventObject> events =
      WaitEvents(poller(), absl::Seconds(5));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(Has(events[0].events, Events::kError)) << events[0];
}

TEST_P(ConformanceTest, ListenerBecomesReadableOnConnect) {
  ::pollio::testing::Listener listener =
      ::pollio::testing::MakeLoopbackListener();
  ASSERT_TRUE(poller().add(EventObject::Server(listener.fd.get())).ok());
  ExpectNoEvents(poller());
  UniqueFd client = ::pollio::testing::ConnectLoopback(listener.port);
  ExpectEvents(poller(), {EventObject::Server(listener.fd.get())},
               absl::Seconds(5));
}

// Level-triggered fds beyond max_events: successive waits deliver all of
// them, none twice, and none is starved while the others stay ready.
TEST_P(ConformanceTest, MoreReadyThanMaxEventsAllDeliveredOverWaits) {
  std::unique_ptr<Poller> small = Make(PollerOptions{8});
  ASSERT_NE(small, nullptr);
  constexpr int kPairs = 50;
  std::vector<SocketPair> pairs;
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(MakeSocketPair());
    ASSERT_TRUE(small->add(EventObject::Client(pairs.back().left.get())).ok());
    ASSERT_TRUE(WriteBytes(pairs.back().right.get()));
  }
  // Nothing drained: each wait must still move on to fds not yet seen.
  std::set<int> seen;
  for (int round = 0; round < (kPairs + 7) / 8; ++round) {
    std::vector<EventObject> events = WaitEvents(*small);
    EXPECT_LE(events.size(), 8u);
    std::set<int> this_wait;
    for (const EventObject& ev : events) {
      EXPECT_TRUE(this_wait.insert(ev.fd).second) << "twice in one wait";
      seen.insert(ev.fd);
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kPairs));

  // Drained as reported: every fd exactly once over all waits.
  std::multiset<int> delivered;
  for (int round = 0; round < 20 && delivered.size() < kPairs; ++round) {
    for (const EventObject& ev : WaitEvents(*small)) {
      delivered.insert(ev.fd);
      Drain(ev.fd);
    }
  }
  EXPECT_EQ(delivered.size(), static_cast<std::size_t>(kPairs));
  for (const SocketPair& pair : pairs) {
    EXPECT_EQ(delivered.count(pair.left.get()), 1u) << pair.left.get();
  }
  ExpectNoEvents(*small);
}

// Records which fds each of `waits` consecutive waits of `poller` reports,
// nothing drained, and checks that they take turns: every `window`
// consecutive waits report each fd of `live` at least once, and each is
// reported waits * max_events / live.size() times, give or take one. Result
// order is unspecified; this is what a backend must do whatever its order.
void ExpectTurns(Poller& poller, const std::set<int>& live, int max_events,
                 int waits, int window, const char* when) {
  std::vector<std::set<int>> reported;
  std::map<int, int> counts;
  for (int i = 0; i < waits; ++i) {
    std::vector<EventObject> events = WaitEvents(poller);
    EXPECT_EQ(events.size(), static_cast<std::size_t>(max_events))
        << when << ", wait " << i;
    reported.emplace_back();
    for (const EventObject& ev : events) {
      EXPECT_EQ(live.count(ev.fd), 1u) << when << ": fd " << ev.fd;
      EXPECT_TRUE(reported.back().insert(ev.fd).second) << "twice in a wait";
      ++counts[ev.fd];
    }
  }
  for (int start = 0; start + window <= waits; ++start) {
    std::set<int> seen;
    for (int i = start; i < start + window; ++i) {
      seen.insert(reported[i].begin(), reported[i].end());
    }
    if (seen != live) {
      ADD_FAILURE() << when << ": waits " << start << ".." << start + window - 1
                    << " left an fd out";
      break;
    }
  }
  const double fair = static_cast<double>(waits) * max_events / live.size();
  for (int fd : live) {
    EXPECT_NEAR(counts[fd], fair, 1.0) << when << ": fd " << fd;
  }
}

// More level-triggered fds ready than max_events, none drained: no fd is
// starved by the others, whatever order the backend reports in.
TEST_P(ConformanceTest, MoreReadyThanMaxEventsTakeTurns) {
  std::unique_ptr<Poller> small = Make(PollerOptions{2});
  ASSERT_NE(small, nullptr);
  constexpr int kFds = 5;
  std::vector<SocketPair> pairs;
  std::set<int> live;
  for (int i = 0; i < kFds; ++i) {
    pairs.push_back(MakeSocketPair());
    ASSERT_TRUE(small->add(EventObject::Client(pairs.back().left.get())).ok());
    ASSERT_TRUE(WriteBytes(pairs.back().right.get()));
    live.insert(pairs.back().left.get());
  }
  ExpectTurns(*small, live, 2, /*waits=*/50, /*window=*/kFds, "5 fds");
}

// The same after dels in mid-rotation (poll fills a deleted slot with its
// last one): the fds left still take turns.
TEST_P(ConformanceTest, MoreReadyThanMaxEventsTakeTurnsAfterDels) {
  std::unique_ptr<Poller> small = Make(PollerOptions{2});
  ASSERT_NE(small, nullptr);
  constexpr int kFds = 9;
  std::vector<SocketPair> pairs;
  std::set<int> live;
  for (int i = 0; i < kFds; ++i) {
    pairs.push_back(MakeSocketPair());
    ASSERT_TRUE(small->add(EventObject::Client(pairs.back().left.get())).ok());
    ASSERT_TRUE(WriteBytes(pairs.back().right.get()));
    live.insert(pairs.back().left.get());
  }
  // Two waits in, del one fd each of them reported, as a server closing
  // clients does, and one fd neither reported.
  std::set<int> reported;
  for (int i = 0; i < 2; ++i) {
    for (const EventObject& ev : WaitEvents(*small)) reported.insert(ev.fd);
  }
  ASSERT_EQ(reported.size(), 4u);
  std::vector<int> doomed = {*reported.begin(), *reported.rbegin()};
  for (int fd : live) {
    if (reported.count(fd) == 0) {
      doomed.push_back(fd);
      break;
    }
  }
  for (int fd : doomed) {
    ASSERT_TRUE(small->del(fd).ok());
    live.erase(fd);
  }
  ExpectTurns(*small, live, 2, /*waits=*/60, /*window=*/6, "after 3 dels");
}

TEST_P(ConformanceTest, ManyRegisteredFewActiveAllReported) {
  ::pollio::testing::RaiseFdLimit();
  constexpr int kPairs = 5000;  // 10,000 fds, inside the 20,000 hard limit
  std::vector<SocketPair> pairs;
  pairs.reserve(kPairs);
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(MakeSocketPair());
    ASSERT_GE(pairs.back().left.get(), 0) << "pair " << i;
    ASSERT_TRUE(
        poller().add(EventObject::Client(pairs.back().left.get())).ok());
  }
  EXPECT_EQ(poller().size(), static_cast<std::size_t>(kPairs));
  std::mt19937 random(20261122);
  std::vector<int> indices(kPairs);
  for (int i = 0; i < kPairs; ++i) indices[i] = i;
  std::shuffle(indices.begin(), indices.end(), random);
  std::vector<EventObject> expected;
  for (int i = 0; i < 100; ++i) {
    const SocketPair& pair = pairs[indices[i]];
    ASSERT_TRUE(WriteBytes(pair.right.get()));
    expected.push_back(EventObject::Client(pair.left.get()));
  }
  ExpectEvents(poller(), expected);
}

TEST_P(ConformanceTest, DelInsideABatchScrubsPendingEntries) {
  SocketPair first = MakeSocketPair();
  SocketPair second = MakeSocketPair();
  ASSERT_TRUE(poller().add(EventObject::Client(first.left.get())).ok());
  ASSERT_TRUE(poller().add(EventObject::Client(second.left.get())).ok());
  ASSERT_TRUE(WriteBytes(first.right.get()));
  ASSERT_TRUE(WriteBytes(second.right.get()));
  absl::StatusOr<absl::Span<const EventObject>> events = poller().wait(0);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  // Close the later one, as a server loop would on an error from the
  // earlier one, and reuse its fd number for a fresh socket.
  const int later = (*events)[1].fd;
  const int earlier = (*events)[0].fd;
  ASSERT_TRUE(poller().del(later).ok());
  EXPECT_EQ((*events)[1], (EventObject{-1, EventKind::kServer, Events::kNone}));
  EXPECT_EQ((*events)[0], EventObject::Client(earlier));
  SocketPair& owner = later == first.left.get() ? first : second;
  owner.left.Reset();
  SocketPair reuse = MakeSocketPair();  // likely takes `later`'s number
  ASSERT_TRUE(poller().add(EventObject::Server(reuse.left.get())).ok());
  EXPECT_EQ((*events)[1].fd, -1);
}

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

// Timing floors are measured on a thread of their own, with a poller made,
// used and destroyed there. Closing an io_uring (an earlier uring test on the
// main thread) makes the kernel interrupt each thread that used it once,
// ending a wait early with EINTR: allowed by the contract, but not what these
// tests measure. And a UringPoller belongs to the thread that first waits.
void OnFreshThread(const std::function<void()>& body) {
  std::thread thread(body);
  thread.join();
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

TEST_P(ConformanceTest, OneshotWithBothInterestsReportsOnceInAll) {
  // Readable first, writable later: the interest that did not fire stays
  // silent until modify, and does not end a later wait early either. On a
  // fresh thread, as a timed wait must be (see TimeoutIsNotCutShort).
  OnFreshThread([&] {
    std::unique_ptr<Poller> poller = Make(PollerOptions{});
    ASSERT_NE(poller, nullptr);
    SocketPair pair = MakeSocketPair();
    const int fd = pair.left.get();
    const EventObject both{fd, EventKind::kClient, kRW};
    const std::string chunk(65536, 'y');
    while (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {
    }
    ASSERT_TRUE(poller->add(both, Trigger::kOneshot).ok());
    ASSERT_TRUE(WriteBytes(pair.right.get()));
    ExpectEvents(*poller, {EventObject::Client(fd)});  // readable only

    Drain(pair.right.get());  // now writable too
    const absl::Duration timeout = absl::Milliseconds(50);
    Stopwatch stopwatch;
    ExpectEvents(*poller, {}, timeout);
    EXPECT_GE(stopwatch.Elapsed(), timeout);

    ASSERT_TRUE(poller->modify(both, Trigger::kOneshot).ok());
    ExpectEvents(*poller, {both});
    ExpectNoEvents(*poller);
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

TEST_P(ConformanceTest, FindReportsWhatAddAndModifySet) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  EXPECT_EQ(poller().find(fd).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(poller().find(-1).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(poller().add(EventObject::Server(fd), Trigger::kOneshot).ok());
  absl::StatusOr<Registration> found = poller().find(fd);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->fd, fd);
  EXPECT_EQ(found->kind, EventKind::kServer);
  EXPECT_EQ(found->interest, Events::kReadable);
  EXPECT_EQ(found->trigger, Trigger::kOneshot);

  ASSERT_TRUE(poller()
                  .modify(EventObject{fd, static_cast<EventKind>(77), kRW},
                          Trigger::kLevel)
                  .ok());
  found = poller().find(fd);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->kind, static_cast<EventKind>(77));
  EXPECT_EQ(found->interest, kRW);
  EXPECT_EQ(found->trigger, Trigger::kLevel);

  if (GetParam() != Backend::kKqueue) {
    const Events all = kRW | Events::kPriority;
    ASSERT_TRUE(poller().modify(EventObject{fd, EventKind::kClient, all}).ok());
    found = poller().find(fd);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->interest, all);
    EXPECT_NE(poller().DebugString().find(std::to_string(fd) + "=client RWP"),
              std::string::npos)
        << poller();
  }

  ASSERT_TRUE(poller().del(fd).ok());
  EXPECT_EQ(poller().find(fd).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(ConformanceTest, ForEachVisitsEveryRegistrationInFdOrder) {
  std::vector<SocketPair> pairs;
  for (int i = 0; i < 5; ++i) pairs.push_back(MakeSocketPair());
  for (int i = 4; i >= 0; --i) {  // added in descending order
    ASSERT_TRUE(poller()
                    .add(EventObject{pairs[i].left.get(),
                                     static_cast<EventKind>(i), kRW})
                    .ok());
  }
  ASSERT_TRUE(poller().del(pairs[2].left.get()).ok());
  std::vector<Registration> visited;
  poller().for_each([&](const Registration& registration) {
    visited.push_back(registration);
  });
  ASSERT_EQ(visited.size(), 4u);
  for (std::size_t i = 1; i < visited.size(); ++i) {
    EXPECT_LT(visited[i - 1].fd, visited[i].fd);
  }
  for (const Registration& registration : visited) {
    EXPECT_NE(registration.fd, pairs[2].left.get());
    EXPECT_EQ(registration.interest, kRW);
  }
}

TEST_P(ConformanceTest, PrintsItsBackendAndRegistrations) {
  EXPECT_EQ(poller().DebugString(),
            std::string(BackendName(GetParam())) + "{0 fds}");
  SocketPair first = MakeSocketPair();
  SocketPair second = MakeSocketPair();
  const int low = std::min(first.left.get(), second.left.get());
  const int high = std::max(first.left.get(), second.left.get());
  ASSERT_TRUE(poller().add(EventObject::Server(low)).ok());
  ASSERT_TRUE(
      poller()
          .add(EventObject{high, EventKind::kClient, kRW}, Trigger::kOneshot)
          .ok());
  const std::string expected =
      std::string(BackendName(GetParam())) + "{2 fds: " + std::to_string(low) +
      "=server R, " + std::to_string(high) + "=client RW oneshot}";
  EXPECT_EQ(poller().DebugString(), expected);
  std::ostringstream os;
  os << poller();
  EXPECT_EQ(os.str(), expected);

  // Long tables are cut after 32 entries, and the rest counted.
  std::vector<SocketPair> many;
  for (int i = 0; i < 38; ++i) {
    many.push_back(MakeSocketPair());
    ASSERT_TRUE(poller().add(EventObject::Client(many.back().left.get())).ok());
  }
  const std::string long_form = poller().DebugString();
  EXPECT_EQ(long_form.rfind(", ... 8 more}"), long_form.size() - 13)
      << long_form;
}

INSTANTIATE_TEST_SUITE_P(Backends, ConformanceTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
