// Copyright 2026 The pollio Authors.
//
// io_uring specifics beyond the conformance suite: the Unavailable path,
// stale completions after del / re-add / fd reuse, ring accounting over many
// add/del cycles, more registrations than the ring has entries, and a
// single-threaded process staying single-threaded.
#include "backends/uring/uring_poller.h"

#include <errno.h>
#include <liburing.h>
#include <sys/single_threaded.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/config.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "event/event.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::Drain;
using ::pollio::testing::ExpectEvents;
using ::pollio::testing::ExpectNoEvents;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;
using ::pollio::testing::WaitEvents;
using ::pollio::testing::WriteBytes;

int RefuseWithEperm(unsigned, io_uring*, io_uring_params*) { return -EPERM; }
int RefuseWithEnosys(unsigned, io_uring*, io_uring_params*) { return -ENOSYS; }
int RefuseWithEnomem(unsigned, io_uring*, io_uring_params*) { return -ENOMEM; }

std::unique_ptr<UringPoller> MakeOrSkip(
    UringPoller::RingOptions ring_options = {}, PollerOptions options = {}) {
  absl::StatusOr<std::unique_ptr<UringPoller>> poller =
      UringPoller::Create(options, ring_options);
  if (!poller.ok()) return nullptr;
  return *std::move(poller);
}

#define SKIP_WITHOUT_URING(poller)                  \
  if ((poller) == nullptr) {                        \
    GTEST_SKIP() << "io_uring unavailable: "        \
                 << UringPoller::Create().status(); \
  }

// First in this file, which starts no thread, so that glibc's flag still
// says what this process has done: the ring's set-up thread must not count
// as a thread to glibc, or a single-threaded server's every read and write
// would take the multi-threaded path from then on.
TEST(UringThreadsTest, ASingleThreadedProcessStaysSingleThreaded) {
#ifdef ABSL_HAVE_THREAD_SANITIZER
  GTEST_SKIP() << "ThreadSanitizer builds set the ring up on a pthread";
#endif
#if !defined(__x86_64__) && !defined(__aarch64__) && \
    !(defined(__riscv) && __riscv_xlen == 64)
  GTEST_SKIP() << "this machine's builds set the ring up on a pthread";
#endif
  ASSERT_TRUE(__libc_single_threaded)
      << "a test before this one started a thread";
  {
    std::unique_ptr<UringPoller> poller = MakeOrSkip();
    SKIP_WITHOUT_URING(poller);
    EXPECT_TRUE(__libc_single_threaded);
    SocketPair pair = MakeSocketPair();
    ASSERT_TRUE(poller->add(EventObject::Client(pair.left.get())).ok());
    ASSERT_TRUE(WriteBytes(pair.right.get()));
    ExpectEvents(*poller, {EventObject::Client(pair.left.get())});
    ASSERT_TRUE(poller->del(pair.left.get()).ok());
  }
  EXPECT_TRUE(__libc_single_threaded);
}

TEST(UringUnavailableTest, RefusedSetupIsUnavailableNamingTheCause) {
  UringPoller::RingOptions eperm;
  eperm.setup = RefuseWithEperm;
  absl::Status status = UringPoller::Create({}, eperm).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find("io_uring_disabled"), std::string::npos)
      << status;
  EXPECT_NE(status.message().find("seccomp"), std::string::npos) << status;

  UringPoller::RingOptions enosys;
  enosys.setup = RefuseWithEnosys;
  status = UringPoller::Create({}, enosys).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find("ENOSYS"), std::string::npos) << status;
}

TEST(UringUnavailableTest, OtherSetupErrorsAreNotUnavailable) {
  UringPoller::RingOptions enomem;
  enomem.setup = RefuseWithEnomem;
  const absl::Status status = UringPoller::Create({}, enomem).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
}

TEST(UringStaleTest, DelThenReAddReportsOnlyTheNewRegistration) {
  std::unique_ptr<UringPoller> poller = MakeOrSkip();
  SKIP_WITHOUT_URING(poller);
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(poller->add(EventObject::Server(fd)).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(*poller, {EventObject::Server(fd)});  // re-arm now queued
  ASSERT_TRUE(poller->del(fd).ok());
  const EventObject renewed{fd, static_cast<EventKind>(7), Events::kReadable};
  ASSERT_TRUE(poller->add(renewed).ok());
  // The old request's completion (or cancellation) must not show up.
  for (int i = 0; i < 5; ++i) ExpectEvents(*poller, {renewed});
}

TEST(UringStaleTest, FdNumberReusedAfterCloseSeesNoOldEvents) {
  std::unique_ptr<UringPoller> poller = MakeOrSkip();
  SKIP_WITHOUT_URING(poller);
  SocketPair old_pair = MakeSocketPair();
  const int fd = old_pair.left.get();
  ASSERT_TRUE(poller->add(EventObject::Server(fd)).ok());
  ASSERT_TRUE(WriteBytes(old_pair.right.get()));
  ExpectEvents(*poller, {EventObject::Server(fd)});
  ASSERT_TRUE(poller->del(fd).ok());
  old_pair.left.Reset();
  old_pair.right.Reset();
  SocketPair new_pair = MakeSocketPair();  // lowest free numbers: reuses fd
  ASSERT_EQ(new_pair.left.get(), fd) << "the kernel did not reuse the fd";
  ASSERT_TRUE(poller->add(EventObject::Client(fd)).ok());
  for (int i = 0; i < 3; ++i) ExpectNoEvents(*poller);
  ASSERT_TRUE(WriteBytes(new_pair.right.get()));
  ExpectEvents(*poller, {EventObject::Client(fd)});
}

TEST(UringStaleTest, ModifyAcrossTriggersNeverDuplicatesOrMislabels) {
  std::unique_ptr<UringPoller> poller = MakeOrSkip();
  SKIP_WITHOUT_URING(poller);
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ASSERT_TRUE(poller->add(EventObject::Client(fd), Trigger::kEdge).ok());
  int kind = 10;
  for (Trigger trigger : {Trigger::kLevel, Trigger::kEdge, Trigger::kOneshot,
                          Trigger::kEdge, Trigger::kLevel}) {
    const EventObject ev{fd, static_cast<EventKind>(kind++), Events::kReadable};
    ASSERT_TRUE(poller->modify(ev, trigger).ok());
    // Still readable: every trigger reports the fd once now, with the new
    // kind and never twice in one wait.
    ExpectEvents(*poller, {ev});
  }
}

TEST(UringStaleTest, ManyCompletionsForOneFdMergeIntoOneEntry) {
  std::unique_ptr<UringPoller> poller = MakeOrSkip();
  SKIP_WITHOUT_URING(poller);
  SocketPair pair = MakeSocketPair();
  const EventObject both{pair.left.get(), EventKind::kClient,
                         Events::kReadable | Events::kWritable};
  ASSERT_TRUE(poller->add(both, Trigger::kEdge).ok());
  ExpectEvents(*poller, {EventObject{pair.left.get(), EventKind::kClient,
                                     Events::kWritable}});
  // Several wake-ups of the multishot poll before one wait.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(WriteBytes(pair.right.get()));
  const std::vector<EventObject> events = WaitEvents(*poller);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].fd, pair.left.get());
  EXPECT_TRUE(Has(events[0].events, Events::kReadable)) << events[0];
}

// Waits until every request has completed and both queues are empty.
bool Settles(UringPoller& poller, std::size_t expected_live) {
  for (int i = 0; i < 100; ++i) {
    const UringPoller::RingStats stats = poller.ring_stats();
    if (stats.live_requests == expected_live && stats.submissions_queued == 0 &&
        stats.completions_ready == 0) {
      return true;
    }
    if (!poller.wait(absl::Milliseconds(1)).ok()) return false;
  }
  return false;
}

TEST(UringAccountingTest, TenThousandAddDelCyclesLeakNothing) {
  std::unique_ptr<UringPoller> poller = MakeOrSkip();
  SKIP_WITHOUT_URING(poller);
  SocketPair quiet = MakeSocketPair();
  SocketPair ready = MakeSocketPair();
  ASSERT_TRUE(WriteBytes(ready.right.get()));
  for (int cycle = 0; cycle < 10000; ++cycle) {
    const int fd = cycle % 2 == 0 ? quiet.left.get() : ready.left.get();
    const Trigger trigger = static_cast<Trigger>(cycle % 3);
    ASSERT_TRUE(poller->add(EventObject::Client(fd), trigger).ok()) << cycle;
    if (cycle % 7 == 0) {
      ASSERT_TRUE(poller->wait(0).ok());
    }
    ASSERT_TRUE(poller->del(fd).ok()) << cycle;
    if (cycle % 11 == 0) ExpectNoEvents(*poller);  // nothing stale surfaces
  }
  EXPECT_TRUE(Settles(*poller, 0));
  const UringPoller::RingStats stats = poller->ring_stats();
  EXPECT_EQ(stats.live_requests, 0u);
  EXPECT_EQ(stats.submissions_queued, 0u);
  EXPECT_EQ(stats.completions_ready, 0u);
  EXPECT_EQ(poller->size(), 0u);
}

// The accept-loop pattern: every batch reports one client, which the loop
// then deletes (free: its level poll has completed), and the loop also drops
// and re-adds an idle client, whose armed poll must be cancelled before
// close (one io_uring_enter). The next wait pays one enter, and is not ended
// early by the cancellation left behind.
TEST(UringEnterTest, DeletingClientsEveryBatchCostsOneEnterPerWait) {
  std::unique_ptr<UringPoller> poller = MakeOrSkip();
  SKIP_WITHOUT_URING(poller);
  constexpr int kClients = 16;
  std::vector<SocketPair> pairs;
  for (int i = 0; i < kClients; ++i) {
    pairs.push_back(MakeSocketPair());
    ASSERT_TRUE(poller->add(EventObject::Client(pairs.back().left.get())).ok());
  }
  ASSERT_TRUE(poller->wait(0).ok());  // every poll armed in the kernel
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(WriteBytes(pairs[i].right.get()));
    const std::uint64_t before_wait = poller->ring_stats().enter_calls;
    absl::StatusOr<absl::Span<const EventObject>> events =
        poller->wait(absl::Seconds(5));
    ASSERT_TRUE(events.ok()) << events.status();
    ASSERT_EQ(events->size(), 1u) << "batch " << i;
    EXPECT_EQ((*events)[0].fd, pairs[i].left.get());
    EXPECT_EQ(poller->ring_stats().enter_calls - before_wait, 1u)
        << "batch " << i << ": the wait made more than one io_uring_enter";
    // Its level poll completed, so nothing in the kernel holds the file.
    const std::uint64_t before_del = poller->ring_stats().enter_calls;
    ASSERT_TRUE(poller->del(pairs[i].left.get()).ok());
    EXPECT_EQ(poller->ring_stats().enter_calls - before_del, 0u)
        << "batch " << i;
    pairs[i].left.Reset();
    // An idle client's poll is armed: cancelling it takes one enter.
    if (i + 1 < kClients) {
      const int idle = pairs[kClients - 1].left.get();
      const std::uint64_t before_idle_del = poller->ring_stats().enter_calls;
      ASSERT_TRUE(poller->del(idle).ok());
      EXPECT_EQ(poller->ring_stats().enter_calls - before_idle_del, 1u);
      ASSERT_TRUE(poller->add(EventObject::Client(idle)).ok());
    }
  }
  EXPECT_TRUE(Settles(*poller, 0));
  EXPECT_EQ(poller->ring_stats().live_requests, 0u);
}

// A wait queues the re-arms of the level polls it reported without
// submitting them: the next wait does, after the caller has handled the
// batch. A del that must enter the kernel in between (an armed poll's
// cancel) submits everything queued, so it takes those re-arms back first:
// a reported fd drained before the next wait is not reported again.
TEST(UringRearmTest, DelOfAnArmedPollDoesNotSubmitTheBatchsRearms) {
  std::unique_ptr<UringPoller> poller = MakeOrSkip();
  SKIP_WITHOUT_URING(poller);
  SocketPair reported = MakeSocketPair();
  SocketPair idle = MakeSocketPair();
  ASSERT_TRUE(poller->add(EventObject::Client(reported.left.get())).ok());
  ASSERT_TRUE(poller->add(EventObject::Client(idle.left.get())).ok());
  ASSERT_TRUE(poller->wait(0).ok());  // both polls armed in the kernel
  ASSERT_TRUE(WriteBytes(reported.right.get()));
  ExpectEvents(*poller, {EventObject::Client(reported.left.get())},
               absl::Seconds(5));
  // Still readable here: a re-arm submitted now would complete at once.
  const std::uint64_t before_del = poller->ring_stats().enter_calls;
  ASSERT_TRUE(poller->del(idle.left.get()).ok());
  EXPECT_EQ(poller->ring_stats().enter_calls - before_del, 1u);
  Drain(reported.left.get());
  ExpectNoEvents(*poller);
  // And it is re-armed all the same.
  ASSERT_TRUE(WriteBytes(reported.right.get()));
  ExpectEvents(*poller, {EventObject::Client(reported.left.get())},
               absl::Seconds(5));
  ASSERT_TRUE(poller->del(reported.left.get()).ok());
  EXPECT_TRUE(Settles(*poller, 0));
}

// A registration the kernel has not seen yet costs nothing to take back:
// its queued poll becomes a no-op, with no system call.
TEST(UringEnterTest, AddThenDelBeforeAnyWaitMakesNoSystemCall) {
  std::unique_ptr<UringPoller> poller = MakeOrSkip();
  SKIP_WITHOUT_URING(poller);
  ASSERT_TRUE(poller->wait(0).ok());
  SocketPair pair = MakeSocketPair();
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  const std::uint64_t before = poller->ring_stats().enter_calls;
  for (const Trigger trigger :
       {Trigger::kLevel, Trigger::kEdge, Trigger::kOneshot}) {
    ASSERT_TRUE(
        poller->add(EventObject::Client(pair.left.get()), trigger).ok());
    ASSERT_TRUE(poller->modify(EventObject::Server(pair.left.get())).ok());
    ASSERT_TRUE(poller->del(pair.left.get()).ok());
  }
  EXPECT_EQ(poller->ring_stats().enter_calls, before);
  EXPECT_EQ(poller->ring_stats().live_requests, 0u);
  ExpectNoEvents(*poller);  // the withdrawn polls never report
  EXPECT_TRUE(Settles(*poller, 0));
}

TEST(UringCapacityTest, MoreRegistrationsThanRingEntriesAllDelivered) {
  ::pollio::testing::RaiseFdLimit();
  UringPoller::RingOptions small_ring;
  small_ring.submission_entries = 256;
  small_ring.completion_entries = 512;  // overflow list exercised too
  std::unique_ptr<UringPoller> poller = MakeOrSkip(small_ring);
  SKIP_WITHOUT_URING(poller);
  constexpr int kPairs = 4000;  // 8,000 fds, all registered
  std::vector<SocketPair> pairs;
  pairs.reserve(kPairs);
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(MakeSocketPair());
    ASSERT_GE(pairs.back().right.get(), 0) << i;
    ASSERT_TRUE(poller->add(EventObject::Client(pairs.back().left.get())).ok());
    ASSERT_TRUE(
        poller->add(EventObject::Server(pairs.back().right.get())).ok());
  }
  EXPECT_EQ(poller->size(), 2u * kPairs);
  ExpectNoEvents(*poller);
  // Every fd readable at once: successive waits deliver each exactly once
  // (drained as reported), with the right kind.
  for (const SocketPair& pair : pairs) {
    ASSERT_TRUE(WriteBytes(pair.left.get()));
    ASSERT_TRUE(WriteBytes(pair.right.get()));
  }
  std::vector<EventKind> kind_of(
      static_cast<std::size_t>(::pollio::testing::RaiseFdLimit()));
  for (const SocketPair& pair : pairs) {
    kind_of[pair.left.get()] = EventKind::kClient;
    kind_of[pair.right.get()] = EventKind::kServer;
  }
  std::multiset<int> delivered;
  for (int round = 0; round < 200 && delivered.size() < 2u * kPairs; ++round) {
    for (const EventObject& ev : WaitEvents(*poller, absl::Milliseconds(50))) {
      if (delivered.count(ev.fd))
        fprintf(stderr, "DUP round=%d %s\n", round, ToString(ev).c_str());
      delivered.insert(ev.fd);
      EXPECT_EQ(ev.kind, kind_of[ev.fd]) << ev;
      Drain(ev.fd);
    }
  }
  ASSERT_EQ(delivered.size(), 2u * kPairs);
  for (const SocketPair& pair : pairs) {
    ASSERT_EQ(delivered.count(pair.left.get()), 1u);
    ASSERT_EQ(delivered.count(pair.right.get()), 1u);
  }
  ExpectNoEvents(*poller);
}

}  // namespace
}  // namespace pollio
