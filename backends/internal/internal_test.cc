// Copyright 2026 The pollio Authors.
//
// Unit tests of the shared pieces: timeout rounding, error wording, the
// registration table with its batch, and the wake fd.
#include <errno.h>
#include <poll.h>

#include <climits>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "backends/internal/errors.h"
#include "backends/internal/poll_events.h"
#include "backends/internal/registration_table.h"
#include "backends/internal/timeout.h"
#include "backends/internal/wake_fd.h"
#include "gtest/gtest.h"
#include "poller/poller.h"

namespace pollio {
namespace internal {
namespace {

TEST(TimeoutTest, TimespecRoundsUpAndKeepsZero) {
  timespec storage;
  const timespec* ts = ToTimespec(absl::ZeroDuration(), &storage);
  ASSERT_NE(ts, nullptr);
  EXPECT_EQ(ts->tv_sec, 0);
  EXPECT_EQ(ts->tv_nsec, 0);

  ts = ToTimespec(absl::Milliseconds(-5), &storage);
  ASSERT_NE(ts, nullptr);
  EXPECT_EQ(ts->tv_nsec, 0);

  // A quarter nanosecond is still a wait: one whole nanosecond, not zero.
  ts = ToTimespec(absl::Nanoseconds(1) / 4, &storage);
  ASSERT_NE(ts, nullptr);
  EXPECT_EQ(ts->tv_nsec, 1);

  ts = ToTimespec(absl::Seconds(3) + absl::Microseconds(200), &storage);
  ASSERT_NE(ts, nullptr);
  EXPECT_EQ(ts->tv_sec, 3);
  EXPECT_EQ(ts->tv_nsec, 200000);
}

TEST(TimeoutTest, TimespecForeverForInfiniteAndHuge) {
  timespec storage;
  EXPECT_EQ(ToTimespec(absl::InfiniteDuration(), &storage), nullptr);
  EXPECT_EQ(ToTimespec(absl::Hours(24 * 365 * 100), &storage), nullptr);
  EXPECT_NE(ToTimespec(absl::Hours(24 * 365), &storage), nullptr);
  EXPECT_EQ(storage.tv_sec, 3600 * 24 * 365);
}

TEST(TimeoutTest, MillisecondsRoundUpKeepZeroAndMapHugeToForever) {
  EXPECT_EQ(ToMilliseconds(absl::ZeroDuration()), 0);
  EXPECT_EQ(ToMilliseconds(absl::Seconds(-1)), 0);
  EXPECT_EQ(ToMilliseconds(absl::Microseconds(200)), 1);
  EXPECT_EQ(ToMilliseconds(absl::Nanoseconds(1)), 1);
  EXPECT_EQ(ToMilliseconds(absl::Milliseconds(20)), 20);
  EXPECT_EQ(ToMilliseconds(absl::Microseconds(20001)), 21);
  EXPECT_EQ(ToMilliseconds(absl::InfiniteDuration()), -1);
  EXPECT_EQ(ToMilliseconds(absl::Hours(24 * 365)), -1);
  EXPECT_EQ(ToMilliseconds(absl::Milliseconds(INT_MAX)), INT_MAX);
}

TEST(ErrorsTest, ErrnoErrorNamesCallOpAndFdAndCarriesErrno) {
  const absl::Status status = ErrnoError(EPERM, "epoll_ctl", "ADD", 7);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "epoll_ctl(ADD, fd=7): Operation not permitted");
  EXPECT_EQ(ErrnoFromStatus(status), EPERM);

  const absl::Status no_fd = ErrnoError(EMFILE, "epoll_create1");
  EXPECT_EQ(no_fd.message(), "epoll_create1(): Too many open files");
  EXPECT_EQ(ErrnoFromStatus(no_fd), EMFILE);

  const absl::Status lost =
      ErrnoError(ENOMEM, "epoll_ctl", "ADD", 7, "fd 7 is no longer registered");
  EXPECT_EQ(lost.message(),
            "epoll_ctl(ADD, fd=7): Cannot allocate memory; fd 7 is no longer "
            "registered");
  EXPECT_EQ(ErrnoFromStatus(lost), ENOMEM);
}

TEST(ErrorsTest, CallErrorHasNoErrno) {
  const absl::Status status =
      CallError(absl::StatusCode::kNotFound, "del", 9, "fd is not registered");
  EXPECT_EQ(status.message(), "del(fd=9): fd is not registered");
  EXPECT_EQ(ErrnoFromStatus(status), std::nullopt);
}

TEST(ErrorsTest, CheckOptionsBounds) {
  EXPECT_TRUE(CheckOptions("epoll", PollerOptions{1}).ok());
  EXPECT_TRUE(
      CheckOptions("epoll", PollerOptions{PollerOptions::kMaxEvents}).ok());
  EXPECT_EQ(CheckOptions("epoll", PollerOptions{0}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckOptions("epoll", PollerOptions{-3}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckOptions("epoll", PollerOptions{PollerOptions::kMaxEvents + 1})
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PollEventsTest, TranslatesBitForBit) {
  static_assert(ToPollMask(Events::kReadable) == (POLLIN | kPollReadHangup));
  static_assert(ToPollMask(Events::kWritable) == POLLOUT);
  static_assert(ToPollMask(Events::kPriority) == POLLPRI);
  static_assert(ToPollMask(Events::kWritable | Events::kPriority) ==
                (POLLOUT | POLLPRI));
  static_assert(FromPollMask(POLLIN) == Events::kReadable);
  static_assert(FromPollMask(POLLOUT) == Events::kWritable);
  static_assert(FromPollMask(POLLHUP) == Events::kHangup);
  static_assert(FromPollMask(POLLERR) == Events::kError);
  static_assert(FromPollMask(POLLNVAL) == Events::kError);
  static_assert(FromPollMask(POLLPRI) == Events::kPriority);
#if defined(POLLRDHUP)
  static_assert(FromPollMask(POLLIN | POLLRDHUP) ==
                (Events::kReadable | Events::kReadClosed));
  // A hangup is not a read-side close, nor the other way round.
  static_assert(!Has(FromPollMask(POLLHUP), Events::kReadClosed));
  static_assert(!Has(FromPollMask(POLLRDHUP), Events::kHangup));
#endif
}

// A backend's per-fd state, as the table keeps it.
struct TestState {
  std::uint32_t generation = 0;
};
using Table = RegistrationTable<TestState>;

TEST(RegistrationTableTest, ChecksInContractOrder) {
  Table table(4);
  EXPECT_EQ(table.CheckAdd(EventObject::Client(-1), Trigger::kLevel).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table
                .CheckAdd(EventObject{3, EventKind::kClient, Events::kHangup},
                          Trigger::kLevel)
                .code(),
            absl::StatusCode::kInvalidArgument);
  // Result bits have no place in an interest, alone or not.
  EXPECT_EQ(table
                .CheckAdd(EventObject{3, EventKind::kClient,
                                      Events::kReadable | Events::kHangup},
                          Trigger::kLevel)
                .code(),
            absl::StatusCode::kInvalidArgument);
  for (const Events extra :
       {Events::kReadClosed, Events::kError, static_cast<Events>(64),
        static_cast<Events>(128)}) {
    const absl::Status status = table.CheckAdd(
        EventObject{3, EventKind::kClient, Events::kWritable | extra},
        Trigger::kLevel);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << EventsName(extra);
    EXPECT_NE(status.message().find(EventsName(extra)), std::string::npos)
        << status;
  }
  // kPriority is an interest of its own, alone or with the others.
  EXPECT_TRUE(
      table
          .CheckAdd(EventObject{3, EventKind::kClient, Events::kPriority},
                    Trigger::kLevel)
          .ok());
  EXPECT_TRUE(table
                  .CheckAdd(EventObject{3, EventKind::kClient,
                                        Events::kReadable | Events::kWritable |
                                            Events::kPriority},
                            Trigger::kLevel)
                  .ok());
  EXPECT_EQ(
      table.CheckAdd(EventObject::Client(3), static_cast<Trigger>(7)).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table.CheckModify(EventObject::Client(3), Trigger::kLevel).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(table.CheckDel(3).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(table.CheckDel(-2).code(), absl::StatusCode::kInvalidArgument);

  table.Insert(EventObject::Client(3), Trigger::kEdge);
  EXPECT_EQ(table.CheckAdd(EventObject::Client(3), Trigger::kLevel).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(table.CheckModify(EventObject::Server(3), Trigger::kLevel).ok());
  EXPECT_TRUE(table.CheckDel(3).ok());
  EXPECT_EQ(table.size(), 1u);
}

TEST(RegistrationTableTest, InsertUpdateEraseKeepState) {
  Table table(4);
  table.Insert(EventObject{100, EventKind::kClient,
                           Events::kReadable | Events::kHangup, 77},
               Trigger::kOneshot);
  const Table::Entry* entry = table.Find(100);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->registration.interest, Events::kReadable);  // masked
  EXPECT_EQ(entry->registration.trigger, Trigger::kOneshot);
  EXPECT_EQ(entry->registration.token, 77u);
  EXPECT_EQ(table.Find(99), nullptr);
  EXPECT_EQ(table.Find(1000), nullptr);
  EXPECT_EQ(table.Find(-1), nullptr);

  table.Update(EventObject{100, static_cast<EventKind>(9),
                           Events::kWritable | Events::kPriority, 78},
               Trigger::kLevel);
  EXPECT_EQ(entry->registration.kind, static_cast<EventKind>(9));
  EXPECT_EQ(entry->registration.interest,
            Events::kWritable | Events::kPriority);
  EXPECT_EQ(entry->registration.trigger, Trigger::kLevel);
  EXPECT_EQ(entry->registration.token, 78u);

  table.Find(100)->state.generation = 41;
  table.Erase(100);
  EXPECT_EQ(table.Find(100), nullptr);
  EXPECT_EQ(table.size(), 0u);
  ASSERT_NE(table.KeptState(100), nullptr);
  EXPECT_EQ(table.KeptState(100)->generation, 41u);
  EXPECT_EQ(table.KeptState(5000), nullptr);
  // The state outlives the registration, for the next one to advance.
  EXPECT_EQ(
      table.Insert(EventObject::Client(100), Trigger::kLevel).state.generation,
      41u);
  EXPECT_EQ(table.Find(100)->registration.token, 0u);
}

TEST(RegistrationTableTest, ReportMergesCarriesTokensAndEraseScrubs) {
  Table table(4);
  table.Insert(EventObject::Client(5, 500), Trigger::kLevel);
  table.Insert(EventObject::Client(6, 600), Trigger::kLevel);
  table.BeginBatch();
  table.Report(*table.Find(5), Events::kReadable);
  table.Report(*table.Find(6), Events::kReadable);
  table.Report(*table.Find(5), Events::kWritable);
  ASSERT_EQ(table.batch().size(), 2u);
  EXPECT_EQ(table.batch()[0],
            (EventObject{5, EventKind::kClient,
                         Events::kReadable | Events::kWritable, 500}));
  EXPECT_EQ(table.batch()[1].token, 600u);

  table.Erase(6);
  EXPECT_EQ(table.batch()[1],
            (EventObject{-1, EventKind::kServer, Events::kNone, 0}));
  EXPECT_EQ(table.batch()[0].fd, 5);

  // A new batch forgets old positions: erasing 5 now touches nothing.
  table.BeginBatch();
  table.ReportUnknown(7, EventKind::kClient, Events::kReadable);
  table.Erase(5);
  ASSERT_EQ(table.batch().size(), 1u);
  EXPECT_EQ(table.batch()[0],
            (EventObject{7, EventKind::kClient, Events::kReadable, 0}));
}

TEST(RegistrationTableTest, EntriesArePowerOfTwoSized) {
  static_assert(sizeof(Table::Entry) == 32);
  static_assert(alignof(Table::Entry) == 32);
  struct LargeState {
    std::uint64_t words[2];
  };
  static_assert(sizeof(RegistrationTable<LargeState>::Entry) == 64);
}

TEST(RegistrationTableTest, FillerAddsMergesAndKeepsPositionsForTheScrub) {
  Table table(4);
  table.Insert(EventObject{5, EventKind::kClient, Events::kReadable, 500},
               Trigger::kLevel);
  table.Insert(
      EventObject{6, static_cast<EventKind>(7), Events::kWritable, 600},
      Trigger::kEdge);
  table.Insert(EventObject::Server(9, 900), Trigger::kLevel);
  table.BeginBatch();
  {
    Table::Filler filler(table);
    const std::uint64_t offset = Table::Filler::OffsetOf(Encode(6, {}));
    ASSERT_TRUE(filler.Reaches(offset));
    EXPECT_EQ(&filler.At(offset), table.Find(6));
    EXPECT_FALSE(filler.Reaches(Table::Filler::OffsetOf(Encode(1 << 20, {}))));
    EXPECT_FALSE(filler.Reaches(Table::Filler::OffsetOf(~std::uint64_t{0})));
    filler.AddFirst(*table.Find(6), Events::kWritable | Events::kHangup);
    filler.AddUnknown(8, EventKind::kClient, Events::kError);
    filler.Add(*table.Find(5), Events::kReadable);
    filler.Add(*table.Find(5), Events::kReadClosed);  // merges
    EXPECT_TRUE(filler.InBatch(*table.Find(5)));
    EXPECT_FALSE(filler.InBatch(*table.Find(9)));
    EXPECT_FALSE(filler.full());
    filler.AddFirst(*table.Find(9), Events::kReadable);
    EXPECT_TRUE(filler.full());
  }
  ASSERT_EQ(table.batch().size(), 4u);
  // The results carry the registration's fd, kind and token, the interest
  // replaced by the readiness.
  EXPECT_EQ(table.batch()[0],
            (EventObject{6, static_cast<EventKind>(7),
                         Events::kWritable | Events::kHangup, 600}));
  EXPECT_EQ(table.batch()[1],
            (EventObject{8, EventKind::kClient, Events::kError, 0}));
  EXPECT_EQ(table.batch()[2],
            (EventObject{5, EventKind::kClient,
                         Events::kReadable | Events::kReadClosed, 500}));
  EXPECT_EQ(table.batch()[3].token, 900u);
  EXPECT_EQ(Table::BatchIndex(*table.Find(5)), 2u);

  table.Erase(5);
  EXPECT_EQ(table.batch()[2],
            (EventObject{-1, EventKind::kServer, Events::kNone, 0}));
  EXPECT_EQ(table.batch()[3].fd, 9);
  // A later batch goes on where a Filler of this one left off.
  table.BeginBatch();
  { Table::Filler(table).AddFirst(*table.Find(9), Events::kReadable); }
  table.Report(*table.Find(6), Events::kWritable);
  ASSERT_EQ(table.batch().size(), 2u);
  EXPECT_EQ(table.batch()[1].fd, 6);
  table.Erase(9);
  EXPECT_EQ(table.batch()[0].fd, -1);
}

TEST(RegistrationTableTest, BatchFullAtMaxEvents) {
  Table table(2);
  table.Insert(EventObject::Client(1), Trigger::kLevel);
  table.Insert(EventObject::Client(2), Trigger::kLevel);
  table.BeginBatch();
  EXPECT_FALSE(table.batch_full());
  table.Report(*table.Find(1), Events::kReadable);
  table.Report(*table.Find(2), Events::kReadable);
  EXPECT_TRUE(table.batch_full());
  EXPECT_TRUE(table.CanReport(2));  // merges
  EXPECT_FALSE(table.CanReport(3));
}

bool Readable(int fd) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, 0) == 1 && (entry.revents & POLLIN) != 0;
}

TEST(WakeFdTest, SignalsCoalesceAndDrainResets) {
  absl::StatusOr<WakeFd> wake = WakeFd::Create();
  ASSERT_TRUE(wake.ok()) << wake.status();
  EXPECT_FALSE(Readable(wake->read_fd()));
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(wake->Signal().ok());
  EXPECT_TRUE(Readable(wake->read_fd()));
  wake->Drain();
  EXPECT_FALSE(Readable(wake->read_fd()));
}

}  // namespace
}  // namespace internal
}  // namespace pollio
