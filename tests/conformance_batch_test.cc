// Copyright 2026 The pollio Authors.
//
// The batch and its scrub, a topic of the conformance suite (fixture:
// tests/conformance.h; every backend). The result batch: at most max_events,
// nothing lost over waits, no fd starved, and del scrubbing entries of the
// current batch.

#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "absl/status/statusor.h"
#include "event/event.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/conformance.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::ConformanceTest;
using ::pollio::testing::Drain;
using ::pollio::testing::ExpectEvents;
using ::pollio::testing::ExpectNoEvents;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;
using ::pollio::testing::WaitEvents;
using ::pollio::testing::WriteBytes;

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

// Edge and oneshot fds beyond max_events, none drained: each is reported
// exactly once over the waits, though the kernel hands each transition
// over only once (a backend that takes more from the kernel than the batch
// holds must keep the rest for the next wait).
TEST_P(ConformanceTest, MoreReadyThanMaxEventsEdgeAndOneshotNoneLost) {
  for (const Trigger trigger : {Trigger::kEdge, Trigger::kOneshot}) {
    SCOPED_TRACE(TriggerName(trigger));
    std::unique_ptr<Poller> small = Make(PollerOptions{3});
    ASSERT_NE(small, nullptr);
    if (!small->supports(trigger)) continue;
    constexpr int kPairs = 10;
    std::vector<SocketPair> pairs;
    for (int i = 0; i < kPairs; ++i) {
      pairs.push_back(MakeSocketPair());
      ASSERT_TRUE(
          small->add(EventObject::Client(pairs.back().left.get()), trigger)
              .ok());
      ASSERT_TRUE(WriteBytes(pairs.back().right.get()));
    }
    std::multiset<int> delivered;
    for (int round = 0; round < 20 && delivered.size() < kPairs; ++round) {
      for (const EventObject& ev : WaitEvents(*small)) {
        delivered.insert(ev.fd);
        EXPECT_EQ(ev.events, Events::kReadable) << "fd " << ev.fd;
      }
    }
    for (const SocketPair& pair : pairs) {
      EXPECT_EQ(delivered.count(pair.left.get()), 1u) << pair.left.get();
    }
    ExpectNoEvents(*small);
  }
}

// Fds beyond max_events deleted before a later wait could report them:
// nothing of theirs comes after del returned, whatever the backend took
// from the kernel before.
TEST_P(ConformanceTest, MoreReadyThanMaxEventsDeletedOnesNeverReported) {
  for (const Trigger trigger : {Trigger::kLevel, Trigger::kEdge}) {
    SCOPED_TRACE(TriggerName(trigger));
    std::unique_ptr<Poller> single = Make(PollerOptions{1});
    ASSERT_NE(single, nullptr);
    if (!single->supports(trigger)) continue;
    constexpr int kPairs = 4;
    std::vector<SocketPair> pairs;
    for (int i = 0; i < kPairs; ++i) {
      pairs.push_back(MakeSocketPair());
      ASSERT_TRUE(
          single->add(EventObject::Client(pairs.back().left.get()), trigger)
              .ok());
      ASSERT_TRUE(WriteBytes(pairs.back().right.get()));
    }
    const std::vector<EventObject> first = WaitEvents(*single);
    ASSERT_EQ(first.size(), 1u);
    for (const SocketPair& pair : pairs) {
      if (pair.left.get() == first[0].fd) continue;
      ASSERT_TRUE(single->del(pair.left.get()).ok());
    }
    Drain(first[0].fd);
    ExpectNoEvents(*single);
  }
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

// Adds `count` socketpairs' left ends to `poller`, each made readable and
// never drained; their fds go to `live`.
void AddReadable(Poller& poller, int count, std::vector<SocketPair>* pairs,
                 std::set<int>* live) {
  for (int i = 0; i < count; ++i) {
    pairs->push_back(MakeSocketPair());
    ASSERT_TRUE(poller.add(EventObject::Client(pairs->back().left.get())).ok());
    ASSERT_TRUE(WriteBytes(pairs->back().right.get()));
    live->insert(pairs->back().left.get());
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
  ASSERT_NO_FATAL_FAILURE(AddReadable(*small, kFds, &pairs, &live));
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
  ASSERT_NO_FATAL_FAILURE(AddReadable(*small, kFds, &pairs, &live));
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

}  // namespace
}  // namespace pollio
