// Copyright 2026 The pollio Authors.
//
// Poller::ReinitAfterFork() with a real fork(), on every backend: the child
// rebuilds its poller and keeps its registrations, and the parent's poller
// is left exactly as it was.
//
// The child never uses gtest (its assertions would run in a copy of the
// parent's test state): it reports through its exit status alone, one code
// per check, and says on stderr which check failed. Every wait in either
// process has a finite timeout and every loop a bound, so a hung child is
// killed and reported rather than hanging the test.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
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
using ::pollio::testing::Stopwatch;
using ::pollio::testing::UniqueFd;
using ::pollio::testing::WriteBytes;

constexpr absl::Duration kStep = absl::Milliseconds(100);
constexpr int kHandshakeTimeoutMs = 10'000;
constexpr absl::Duration kChildTimeout = absl::Seconds(30);

// What the waits of one Collect() saw of one fd: its events merged, the
// kind and token of its last result, and in how many waits it came back.
struct Seen {
  Events events = Events::kNone;
  EventKind kind = EventKind::kServer;
  std::uint64_t token = 0;
  int reports = 0;
};

// `waits` waits of up to `timeout` each, by fd (scrubbed entries left out);
// false on a wait error. Usable in the child: no gtest.
bool Collect(Poller& poller, int waits, std::map<int, Seen>* seen,
             absl::Duration timeout = kStep) {
  seen->clear();
  for (int i = 0; i < waits; ++i) {
    absl::StatusOr<absl::Span<const EventObject>> events = poller.wait(timeout);
    if (!events.ok()) {
      std::fprintf(stderr, "wait: %s\n", events.status().ToString().c_str());
      return false;
    }
    for (const EventObject& ev : *events) {
      if (ev.fd < 0) continue;
      Seen& entry = (*seen)[ev.fd];
      entry.events |= ev.events;
      entry.kind = ev.kind;
      entry.token = ev.token;
      ++entry.reports;
    }
  }
  return true;
}

// Whether `seen` has `ev.fd` with exactly `ev`'s events, kind and token.
bool SawExactly(const std::map<int, Seen>& seen, const EventObject& ev) {
  const auto it = seen.find(ev.fd);
  return it != seen.end() && it->second.events == ev.events &&
         it->second.kind == ev.kind && it->second.token == ev.token;
}

int Reports(const std::map<int, Seen>& seen, int fd) {
  const auto it = seen.find(fd);
  return it == seen.end() ? 0 : it->second.reports;
}

// Whether find(fd) returns exactly `expected`.
bool Registered(const Poller& poller, const Registration& expected) {
  absl::StatusOr<Registration> found = poller.find(expected.fd);
  return found.ok() && found->fd == expected.fd &&
         found->kind == expected.kind && found->interest == expected.interest &&
         found->trigger == expected.trigger && found->token == expected.token;
}

// Waits up to kHandshakeTimeoutMs for one byte on `fd`.
bool AwaitByte(int fd) {
  pollfd entry{fd, POLLIN, 0};
  char byte;
  return ::poll(&entry, 1, kHandshakeTimeoutMs) == 1 &&
         ::read(fd, &byte, 1) == 1;
}

bool SendByte(int fd) { return ::write(fd, "x", 1) == 1; }

// Ends the child with exit status `code` unless `ok`.
void Require(bool ok, int code, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fork child, check %d failed: %s\n", code, what);
  std::fflush(stderr);
  ::_exit(code);
}

// Waits for `child` for at most kChildTimeout, killing it after that;
// its wait status, or -1 if it had to be killed.
int WaitForChild(pid_t child) {
  const Stopwatch stopwatch;
  while (stopwatch.Elapsed() < kChildTimeout) {
    int status = 0;
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) return status;
    if (done < 0 && errno != EINTR) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  return -1;
}

std::string DescribeChildStatus(int status) {
  if (status == -1) return "the child hung and was killed";
  if (WIFEXITED(status)) {
    return "the child exited with " + std::to_string(WEXITSTATUS(status)) +
           " (the number of its failed check; its stderr says which)";
  }
  if (WIFSIGNALED(status)) {
    return "the child died of signal " + std::to_string(WTERMSIG(status));
  }
  return "wait status " + std::to_string(status);
}

class ForkTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Poller>> poller =
        NewPoller(GetParam(), PollerOptions{});
    if (poller.status().code() == absl::StatusCode::kUnimplemented ||
        poller.status().code() == absl::StatusCode::kUnavailable) {
      GTEST_SKIP() << "backend " << BackendName(GetParam())
                   << " skipped: " << poller.status();
    }
    ASSERT_TRUE(poller.ok()) << poller.status();
    poller_ = *std::move(poller);
  }

  Poller& poller() { return *poller_; }

  std::unique_ptr<Poller> poller_;
};

// The registrations the main test forks with, one socketpair each (the
// left end registered, the right end the peer that makes it readable).
struct Fixture {
  SocketPair level;    // kLevel, read
  SocketPair edge;     // kEdge, read (where supports(kEdge))
  SocketPair oneshot;  // kOneshot, read; fired before the fork
  SocketPair deleted;  // kLevel, read; the child deletes it
  SocketPair changed;  // kLevel, read; the child makes it write, new token

  EventObject Level() const {
    return EventObject{level.left.get(), EventKind::kClient, Events::kReadable,
                       101};
  }
  EventObject Edge() const {
    return EventObject{edge.left.get(), static_cast<EventKind>(7),
                       Events::kReadable, 202};
  }
  EventObject Oneshot() const {
    return EventObject{oneshot.left.get(), static_cast<EventKind>(9),
                       Events::kReadable, 303};
  }
  EventObject Deleted() const {
    return EventObject{deleted.left.get(), EventKind::kServer,
                       Events::kReadable, 505};
  }
  EventObject Changed() const {
    return EventObject{changed.left.get(), EventKind::kClient,
                       Events::kReadable, 606};
  }
  // What the child modifies Changed() into.
  EventObject ChangedInChild() const {
    return EventObject{changed.left.get(), EventKind::kServer,
                       Events::kWritable, 6060};
  }
};

Registration RegistrationOf(const EventObject& ev, Trigger trigger) {
  return Registration{ev.fd, ev.kind, ev.events, trigger, ev.token};
}

// Two registrations, level and oneshot, with the oneshot fired (reported
// once, so silent until modify) and nothing readable: the state the
// rebuild tests fork in.
struct LevelAndFiredOneshot {
  SocketPair level = MakeSocketPair();
  SocketPair oneshot = MakeSocketPair();
  EventObject level_ev;
  EventObject oneshot_ev;
};

void AddLevelAndFireOneshot(Poller& poller, std::uint64_t level_token,
                            std::uint64_t oneshot_token,
                            LevelAndFiredOneshot* out) {
  out->level_ev = EventObject{out->level.left.get(), EventKind::kClient,
                              Events::kReadable, level_token};
  out->oneshot_ev = EventObject{out->oneshot.left.get(), EventKind::kClient,
                                Events::kReadable, oneshot_token};
  ASSERT_TRUE(poller.add(out->level_ev).ok());
  ASSERT_TRUE(poller.add(out->oneshot_ev, Trigger::kOneshot).ok());
  ASSERT_TRUE(WriteBytes(out->oneshot.right.get()));
  std::map<int, Seen> seen;
  ASSERT_TRUE(Collect(poller, 2, &seen));
  ASSERT_TRUE(SawExactly(seen, out->oneshot_ev));
}

// The child's side of ChildRebuildsAndParentKeepsItsRegistrations. Never
// returns. `ready` tells the parent that the child has rebuilt its poller
// and called wake() on it; `go` is the parent's answer once it has checked
// that neither reached its own poller.
[[noreturn]] void RunChild(Poller& poller, const Fixture& fx, bool has_edge,
                           int ready, int go) {
  Require(poller.ReinitAfterFork().ok(), 1, "ReinitAfterFork");

  const std::size_t registered = has_edge ? 5 : 4;
  Require(poller.size() == registered, 2, "size() after the rebuild");
  Require(Registered(poller, RegistrationOf(fx.Level(), Trigger::kLevel)), 3,
          "find(level)");
  Require(!has_edge ||
              Registered(poller, RegistrationOf(fx.Edge(), Trigger::kEdge)),
          4, "find(edge)");
  Require(Registered(poller, RegistrationOf(fx.Oneshot(), Trigger::kOneshot)),
          5, "find(oneshot)");
  Require(Registered(poller, RegistrationOf(fx.Deleted(), Trigger::kLevel)), 6,
          "find(deleted)");
  Require(Registered(poller, RegistrationOf(fx.Changed(), Trigger::kLevel)), 7,
          "find(changed)");
  Require(
      poller.ReinitAfterFork().code() == absl::StatusCode::kFailedPrecondition,
      8, "a second ReinitAfterFork is FailedPrecondition");

  // Nothing is ready but the fired oneshot, which must stay silent: not
  // reported, and not ending a wait early either.
  std::map<int, Seen> seen;
  {
    const Stopwatch stopwatch;
    Require(Collect(poller, 2, &seen, absl::Milliseconds(50)), 9, "wait");
    Require(seen.empty(), 10, "nothing reported before any data (oneshot)");
    Require(stopwatch.Elapsed() >= absl::Milliseconds(90), 10,
            "quiet waits last their timeout (oneshot)");
  }

  // The child's wake() ends the child's own wait, and only once. It stays
  // pending (unconsumed) until the parent has checked that it did not make
  // the parent's poller wakeable: a wake fd still shared would be readable
  // there for as long as the child does not drain it.
  Require(poller.wake().ok(), 11, "wake()");
  Require(SendByte(ready), 12, "handshake: ready");
  Require(AwaitByte(go), 13, "handshake: go");
  {
    const Stopwatch stopwatch;
    absl::StatusOr<absl::Span<const EventObject>> events =
        poller.wait(absl::Seconds(5));
    Require(events.ok() && events->empty(), 14, "woken wait is empty");
    Require(stopwatch.Elapsed() < absl::Seconds(2), 15, "wake() ends the wait");
  }
  {
    const Stopwatch stopwatch;
    absl::StatusOr<absl::Span<const EventObject>> events = poller.wait(kStep);
    Require(events.ok() && events->empty(), 16, "wait after the wake");
    Require(stopwatch.Elapsed() >= absl::Milliseconds(90), 17,
            "the wake was consumed");
  }

  // Readiness, with each registration's token and kind (the data is in
  // the sockets the parent shares: the child never drains them).
  Require(WriteBytes(fx.level.right.get()), 18, "write");
  Require(!has_edge || WriteBytes(fx.edge.right.get()), 18, "write");
  Require(WriteBytes(fx.deleted.right.get()), 18, "write");
  Require(Collect(poller, 3, &seen), 19, "wait");
  Require(
      SawExactly(seen, fx.Level()) && Reports(seen, fx.level.left.get()) >= 2,
      20, "level: reported in every wait, with its token");
  Require(!has_edge || (SawExactly(seen, fx.Edge()) &&
                        Reports(seen, fx.edge.left.get()) == 1),
          21, "edge: reported once, with its token");
  Require(SawExactly(seen, fx.Deleted()), 22, "deleted: reported");
  Require(Reports(seen, fx.oneshot.left.get()) == 0, 23,
          "the fired oneshot stays silent");
  Require(seen.size() == (has_edge ? 3u : 2u), 24, "nothing else reported");

  if (has_edge) {
    Require(WriteBytes(fx.edge.right.get()), 25, "write");
    Require(Collect(poller, 2, &seen), 25, "wait");
    Require(
        SawExactly(seen, fx.Edge()) && Reports(seen, fx.edge.left.get()) == 1,
        26, "edge: a new edge is reported once");
  }

  // modify re-arms the fired oneshot: reported once, then silent again.
  Require(poller.modify(fx.Oneshot(), Trigger::kOneshot).ok(), 27,
          "modify(oneshot)");
  Require(Collect(poller, 3, &seen), 28, "wait");
  Require(SawExactly(seen, fx.Oneshot()) &&
              Reports(seen, fx.oneshot.left.get()) == 1,
          29, "re-armed oneshot: reported once, with its token");

  // del and modify change the child's registrations only.
  Require(poller.del(fx.deleted.left.get()).ok(), 30, "del(deleted)");
  Require(poller.size() == registered - 1, 31, "size() after del");
  Require(poller.find(fx.deleted.left.get()).status().code() ==
              absl::StatusCode::kNotFound,
          32, "find(deleted) after del");
  Require(poller.modify(fx.ChangedInChild(), Trigger::kLevel).ok(), 33,
          "modify(changed)");
  Require(
      Registered(poller, RegistrationOf(fx.ChangedInChild(), Trigger::kLevel)),
      34, "find(changed) after modify");
  Require(Collect(poller, 2, &seen), 35, "wait");
  Require(Reports(seen, fx.deleted.left.get()) == 0, 36,
          "deleted: no longer reported");
  Require(SawExactly(seen, fx.ChangedInChild()), 37,
          "changed: writable, with the new kind and token");
  Require(SawExactly(seen, fx.Level()), 38, "level: still reported");
  ::_exit(0);
}

TEST_P(ForkTest, ChildRebuildsAndParentKeepsItsRegistrations) {
  const bool has_edge = poller().supports(Trigger::kEdge);
  Fixture fx;
  fx.level = MakeSocketPair();
  fx.edge = MakeSocketPair();
  fx.oneshot = MakeSocketPair();
  fx.deleted = MakeSocketPair();
  fx.changed = MakeSocketPair();

  // The level registration starts with token 100 and gets 101 from a
  // modify after the last wait, and `changed` is added after it: on
  // io_uring the fork then finds a cancellation queued in the shared
  // submission queue and a poll not yet queued, besides armed polls.
  EventObject level_before = fx.Level();
  level_before.token = 100;
  ASSERT_TRUE(poller().add(level_before).ok());
  if (has_edge) {
    ASSERT_TRUE(poller().add(fx.Edge(), Trigger::kEdge).ok());
  }
  ASSERT_TRUE(poller().add(fx.Oneshot(), Trigger::kOneshot).ok());
  ASSERT_TRUE(poller().add(fx.Deleted()).ok());
  // Fire the oneshot, and leave its byte unread: it stays readable.
  ASSERT_TRUE(WriteBytes(fx.oneshot.right.get()));
  std::map<int, Seen> seen;
  ASSERT_TRUE(Collect(poller(), 2, &seen));
  ASSERT_TRUE(SawExactly(seen, fx.Oneshot()));
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_TRUE(poller().modify(fx.Level()).ok());
  ASSERT_TRUE(poller().add(fx.Changed()).ok());
  const std::string before = poller().DebugString();

  int ready[2];
  int go[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
  const UniqueFd ready_read(ready[0]);
  const UniqueFd ready_write(ready[1]);
  const UniqueFd go_read(go[0]);
  const UniqueFd go_write(go[1]);

  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    RunChild(poller(), fx, has_edge, ready_write.get(), go_read.get());
  }

  // The child has rebuilt its poller and called wake() on it, and will not
  // consume that wake before `go`. Neither may have reached this poller: a
  // wait here times out with nothing (no wake, and no oneshot re-armed or
  // registration added behind the parent's back).
  const bool child_ready = AwaitByte(ready_read.get());
  EXPECT_TRUE(child_ready) << "the child did not get through its rebuild";
  if (child_ready) {
    const Stopwatch stopwatch;
    absl::StatusOr<absl::Span<const EventObject>> events = poller().wait(kStep);
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_TRUE(events->empty()) << "the child's rebuild or wake() reached "
                                    "the parent's poller";
    EXPECT_GE(stopwatch.Elapsed(), absl::Milliseconds(90));
    EXPECT_TRUE(SendByte(go_write.get()));
  }
  const int status = WaitForChild(child);
  ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeChildStatus(status);

  // The child's del and modify left the parent's registrations alone.
  EXPECT_EQ(poller().DebugString(), before);
  EXPECT_EQ(poller().size(), has_edge ? 5u : 4u);

  // The child wrote a byte to level, edge and deleted (twice to edge):
  // the sockets are shared, and the parent's poller reports them, with
  // the parent's tokens; the oneshot stays disarmed, and changed (still
  // read interest only here, no data) is silent.
  ASSERT_TRUE(Collect(poller(), 3, &seen));
  EXPECT_TRUE(SawExactly(seen, fx.Level()));
  EXPECT_GE(Reports(seen, fx.level.left.get()), 2);
  if (has_edge) {
    EXPECT_TRUE(SawExactly(seen, fx.Edge()));
  }
  EXPECT_TRUE(SawExactly(seen, fx.Deleted()))
      << "the child's del reached the parent's poller";
  EXPECT_EQ(Reports(seen, fx.oneshot.left.get()), 0);
  EXPECT_EQ(Reports(seen, fx.changed.left.get()), 0)
      << "the child's modify reached the parent's poller";
  EXPECT_EQ(seen.size(), has_edge ? 3u : 2u);

  // changed reports with the parent's interest, kind and token.
  ASSERT_TRUE(WriteBytes(fx.changed.right.get()));
  ASSERT_TRUE(Collect(poller(), 2, &seen));
  EXPECT_TRUE(SawExactly(seen, fx.Changed()));

  // The parent's modify re-arms its own oneshot, which the child's modify
  // did not.
  ASSERT_TRUE(poller().modify(fx.Oneshot(), Trigger::kOneshot).ok());
  ASSERT_TRUE(Collect(poller(), 3, &seen));
  EXPECT_TRUE(SawExactly(seen, fx.Oneshot()));
  EXPECT_EQ(Reports(seen, fx.oneshot.left.get()), 1);

  // The kernel object (on io_uring, the ring) still takes new work.
  SocketPair fresh = MakeSocketPair();
  const EventObject added{fresh.left.get(), EventKind::kClient,
                          Events::kReadable, 707};
  ASSERT_TRUE(poller().add(added).ok());
  ASSERT_TRUE(WriteBytes(fresh.right.get()));
  ASSERT_TRUE(Collect(poller(), 1, &seen));
  EXPECT_TRUE(SawExactly(seen, added));
  ASSERT_TRUE(poller().del(fresh.left.get()).ok());
  ASSERT_TRUE(Collect(poller(), 1, &seen));
  EXPECT_EQ(Reports(seen, fresh.left.get()), 0);

  // Once drained, the parent's poller is quiet: a wait times out.
  for (const SocketPair* pair :
       {&fx.level, &fx.edge, &fx.oneshot, &fx.deleted, &fx.changed}) {
    Drain(pair->left.get());
  }
  const Stopwatch stopwatch;
  absl::StatusOr<absl::Span<const EventObject>> events = poller().wait(kStep);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_TRUE(events->empty());
  EXPECT_GE(stopwatch.Elapsed(), absl::Milliseconds(90));
}

TEST_P(ForkTest, ReinitAfterForkInTheCreatorChangesNothing) {
  LevelAndFiredOneshot fx;
  ASSERT_NO_FATAL_FAILURE(AddLevelAndFireOneshot(poller(), 11, 22, &fx));
  const SocketPair& level = fx.level;
  const EventObject& level_ev = fx.level_ev;
  std::map<int, Seen> seen;
  const std::string before = poller().DebugString();

  const absl::Status status = poller().ReinitAfterFork();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(poller().DebugString(), before);
  EXPECT_EQ(poller().size(), 2u);

  // The kernel side is unchanged too: readiness as before, the fired
  // oneshot silent, wake() working.
  ASSERT_TRUE(WriteBytes(level.right.get()));
  ASSERT_TRUE(Collect(poller(), 2, &seen));
  EXPECT_TRUE(SawExactly(seen, level_ev));
  EXPECT_EQ(seen.size(), 1u);
  Drain(level.left.get());
  ASSERT_TRUE(poller().wake().ok());
  const Stopwatch stopwatch;
  absl::StatusOr<absl::Span<const EventObject>> events =
      poller().wait(absl::Seconds(5));
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_TRUE(events->empty());
  EXPECT_LT(stopwatch.Elapsed(), absl::Seconds(2));
}

// Forks while the parent has results it could not take yet: two ready fds
// and max_events 1, so one wait reported one of them and the other waits
// (on io_uring, as a completion in the ring that both processes map). The
// child either rebuilds or destroys its poller; the parent must then still
// report both, and the child (if it rebuilt) too.
void ForkWithResultsPending(Backend backend, bool rebuild) {
  PollerOptions options;
  options.max_events = 1;
  absl::StatusOr<std::unique_ptr<Poller>> made = NewPoller(backend, options);
  ASSERT_TRUE(made.ok()) << made.status();
  std::unique_ptr<Poller> poller = *std::move(made);
  SocketPair first = MakeSocketPair();
  SocketPair second = MakeSocketPair();
  const EventObject first_ev{first.left.get(), EventKind::kClient,
                             Events::kReadable, 41};
  const EventObject second_ev{second.left.get(), EventKind::kClient,
                              Events::kReadable, 42};
  ASSERT_TRUE(poller->add(first_ev).ok());
  ASSERT_TRUE(poller->add(second_ev).ok());
  ASSERT_TRUE(WriteBytes(first.right.get()));
  ASSERT_TRUE(WriteBytes(second.right.get()));
  std::map<int, Seen> seen;
  ASSERT_TRUE(Collect(*poller, 1, &seen));
  ASSERT_EQ(seen.size(), 1u);

  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    if (!rebuild) {
      poller.reset();
      ::_exit(0);
    }
    Require(poller->ReinitAfterFork().ok(), 1, "ReinitAfterFork");
    Require(Collect(*poller, 4, &seen), 2, "wait");
    Require(SawExactly(seen, first_ev) && SawExactly(seen, second_ev), 3,
            "both fds reported in the child");
    ::_exit(0);
  }
  const int status = WaitForChild(child);
  ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeChildStatus(status);

  ASSERT_TRUE(Collect(*poller, 4, &seen));
  EXPECT_TRUE(SawExactly(seen, first_ev));
  EXPECT_TRUE(SawExactly(seen, second_ev))
      << "the parent lost a result it had not taken yet";
}

TEST_P(ForkTest, ChildLeavesTheParentsPendingResultsAlone) {
  ForkWithResultsPending(GetParam(), /*rebuild=*/true);
}

// A child that only exits may destroy the poller without rebuilding it:
// that closes the child's references and takes or submits nothing
// (io_uring's destructor cancels and reaps only in the owner process).
TEST_P(ForkTest, DestroyingInAChildLeavesTheParentAlone) {
  ForkWithResultsPending(GetParam(), /*rebuild=*/false);
}

// An fd the child closes (without del) before the rebuild does not make it
// fail: it stays registered, as an fd closed without del does, until del.
TEST_P(ForkTest, AnFdClosedInTheChildStaysRegisteredUntilDel) {
  SocketPair closed = MakeSocketPair();
  SocketPair kept = MakeSocketPair();
  const EventObject closed_ev{closed.left.get(), EventKind::kClient,
                              Events::kReadable, 61};
  const EventObject kept_ev{kept.left.get(), EventKind::kClient,
                            Events::kReadable, 62};
  ASSERT_TRUE(poller().add(closed_ev).ok());
  ASSERT_TRUE(poller().add(kept_ev).ok());

  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    ::close(closed_ev.fd);  // the child's copy only
    Require(poller().ReinitAfterFork().ok(), 1, "ReinitAfterFork");
    Require(poller().size() == 2, 2, "size()");
    Require(Registered(poller(), RegistrationOf(closed_ev, Trigger::kLevel)), 3,
            "find(closed)");
    Require(WriteBytes(kept.right.get()), 4, "write");
    std::map<int, Seen> seen;
    Require(Collect(poller(), 2, &seen), 5, "wait");
    Require(SawExactly(seen, kept_ev), 6, "kept: reported");
    Require(poller().del(closed_ev.fd).ok(), 7, "del(closed)");
    Require(poller().size() == 1, 8, "size() after del");
    Require(Collect(poller(), 1, &seen), 9, "wait");
    Require(Reports(seen, closed_ev.fd) == 0, 10, "closed: gone after del");
    ::_exit(0);
  }
  const int status = WaitForChild(child);
  ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeChildStatus(status);

  // The parent's copy of the fd is open and registered as before.
  ASSERT_TRUE(WriteBytes(closed.right.get()));
  std::map<int, Seen> seen;
  ASSERT_TRUE(Collect(poller(), 2, &seen));
  EXPECT_TRUE(SawExactly(seen, closed_ev));
  EXPECT_EQ(seen.size(), 2u);  // and kept, which the child wrote to
}

// A child of the child rebuilds again from the child's poller: a oneshot
// that fired before the first fork is still silent in the grandchild.
TEST_P(ForkTest, AGrandchildRebuildsToo) {
  LevelAndFiredOneshot fx;
  ASSERT_NO_FATAL_FAILURE(AddLevelAndFireOneshot(poller(), 71, 72, &fx));
  const SocketPair& level = fx.level;
  const EventObject& level_ev = fx.level_ev;
  const EventObject& oneshot_ev = fx.oneshot_ev;
  std::map<int, Seen> seen;

  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    Require(poller().ReinitAfterFork().ok(), 1, "ReinitAfterFork (child)");
    Require(Collect(poller(), 1, &seen) && seen.empty(), 2,
            "the oneshot is silent in the child");
    const pid_t grandchild = ::fork();
    Require(grandchild >= 0, 3, "fork (child)");
    if (grandchild == 0) {
      Require(poller().ReinitAfterFork().ok(), 11,
              "ReinitAfterFork (grandchild)");
      Require(WriteBytes(level.right.get()), 12, "write");
      Require(Collect(poller(), 2, &seen), 13, "wait");
      Require(SawExactly(seen, level_ev) && seen.size() == 1, 14,
              "level reported, the oneshot silent in the grandchild");
      Require(poller().modify(oneshot_ev, Trigger::kOneshot).ok(), 15,
              "modify(oneshot)");
      Require(Collect(poller(), 2, &seen), 16, "wait");
      Require(SawExactly(seen, oneshot_ev) && Reports(seen, oneshot_ev.fd) == 1,
              17, "the re-armed oneshot is reported once");
      ::_exit(0);
    }
    const int status = WaitForChild(grandchild);
    ::_exit(status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : 4);
  }
  const int status = WaitForChild(child);
  ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeChildStatus(status);
  // The parent's oneshot is still its own: disarmed.
  ASSERT_TRUE(Collect(poller(), 2, &seen));
  EXPECT_EQ(Reports(seen, oneshot_ev.fd), 0);
  EXPECT_TRUE(SawExactly(seen, level_ev));
}

// A rebuild that cannot open its fds (RLIMIT_NOFILE at 3 in the child)
// fails with the OS error naming the call, leaves a poller that can still
// be destroyed, and refuses a second try; the parent's poller is unchanged.
TEST_P(ForkTest, FailedRebuildNamesTheCall) {
  SocketPair pair = MakeSocketPair();
  const EventObject ev{pair.left.get(), EventKind::kClient, Events::kReadable,
                       51};
  ASSERT_TRUE(poller().add(ev).ok());
  std::map<int, Seen> seen;
  ASSERT_TRUE(Collect(poller(), 1, &seen));
  ASSERT_TRUE(seen.empty());

  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    rlimit limit{};
    Require(::getrlimit(RLIMIT_NOFILE, &limit) == 0, 1, "getrlimit");
    limit.rlim_cur = 3;  // stdin, stdout and stderr: no new fd fits
    Require(::setrlimit(RLIMIT_NOFILE, &limit) == 0, 1, "setrlimit");
    const absl::Status status = poller().ReinitAfterFork();
    std::fprintf(stderr, "fork child: %s\n", status.ToString().c_str());
    const std::string_view message(status.message().data(),
                                   status.message().size());
    Require(!status.ok(), 2, "ReinitAfterFork fails without fds");
    Require(ErrnoFromStatus(status) == EMFILE, 3, "the errno is EMFILE");
    Require(
        message.rfind("ReinitAfterFork: ", 0) == 0 &&
            message.find("(): Too many open files") != std::string_view::npos &&
            message.find("unusable") != std::string_view::npos,
        4, "the message names the call, the error and the consequence");
    Require(poller().ReinitAfterFork().code() ==
                absl::StatusCode::kFailedPrecondition,
            5, "no second try");
    poller_.reset();
    ::_exit(0);
  }
  const int status = WaitForChild(child);
  ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeChildStatus(status);

  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ASSERT_TRUE(Collect(poller(), 2, &seen));
  EXPECT_TRUE(SawExactly(seen, ev));
  EXPECT_EQ(Reports(seen, pair.left.get()), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, ForkTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
