// Copyright 2026 The pollio Authors.
//
// Contract probes: sentences of poller/poller.h, event/event.h and the
// backend headers that the rest of the suite does not check yet, each
// turned into a test on every backend (fixture: tests/backend_test.h). A
// test whose comment says "found here" failed when it was written, and the
// library was fixed.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "event/event.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/backend_test.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::BackendTest;
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

class ContractProbeTest : public BackendTest {};

// Timed waits run on a thread of their own with a poller made there (see
// tests/conformance.h: an io_uring closed earlier on a thread interrupts it
// once, and a UringPoller belongs to the thread that first waits).
void OnFreshThread(const std::function<void()>& body) {
  std::thread thread(body);
  thread.join();
}

// Sends until the kernel refuses: `fd` is then not writable.
void FillSendBuffer(int fd) {
  const std::string chunk(65536, 'f');
  while (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {
  }
}

int CountFd(const std::vector<EventObject>& events, int fd) {
  int count = 0;
  for (const EventObject& ev : events) count += ev.fd == fd ? 1 : 0;
  return count;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Registers the left ends of `first` and `second` as clients (tokens 1 and
// 2), makes both readable and waits: the caller checks for a batch of two.
absl::StatusOr<absl::Span<const EventObject>> WaitForTwoReadyClients(
    Poller& poller, const SocketPair& first, const SocketPair& second,
    absl::Duration timeout) {
  if (!poller.add(EventObject::Client(first.left.get(), 1)).ok() ||
      !poller.add(EventObject::Client(second.left.get(), 2)).ok() ||
      !WriteBytes(first.right.get()) || !WriteBytes(second.right.get())) {
    return absl::InternalError("setting up two ready clients failed");
  }
  return poller.wait(timeout);
}

// A closed fd number (nothing else opens it before the caller uses it,
// single-threaded).
int ClosedFdNumber() {
  UniqueFd doomed(::dup(STDERR_FILENO));
  const int number = doomed.get();
  doomed.Reset();
  return number;
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

// poller.h, Errors: "other: the OS error, with the call and fd in the
// message"; ErrnoFromStatus(): "The errno behind a status that a failed
// system call produced".
TEST_P(ContractProbeTest, OsErrorOfAddNamesTheCallAndTheFd) {
  const int closed = ClosedFdNumber();
  const absl::Status status = poller().add(EventObject::Client(closed));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(ErrnoFromStatus(status), EBADF) << status;
  const std::string message(status.message());
  EXPECT_TRUE(Contains(message, "fd=" + std::to_string(closed))) << message;
  const std::size_t paren = message.find('(');
  ASSERT_NE(paren, std::string::npos) << "no call named: " << message;
  EXPECT_GT(paren, 0u) << "no call named: " << message;
  EXPECT_EQ(poller().size(), 0u);
  EXPECT_EQ(poller().find(closed).status().code(), absl::StatusCode::kNotFound);
}

// ErrnoFromStatus(): "nullopt for statuses pollio made itself
// (InvalidArgument, AlreadyExists, NotFound, ...)", taken from real calls.
TEST_P(ContractProbeTest, PollioMadeErrorsCarryNoErrnoAndNameTheFd) {
  SocketPair pair = MakeSocketPair();
  SocketPair spare = MakeSocketPair();
  const int fd = pair.left.get();
  const int other = spare.left.get();
  ASSERT_TRUE(poller().add(EventObject::Client(fd)).ok());
  struct Probe {
    const char* what;
    absl::Status status;
    absl::StatusCode code;
    int fd;
  };
  std::vector<Probe> probes = {
      {"add twice", poller().add(EventObject::Client(fd)),
       absl::StatusCode::kAlreadyExists, fd},
      {"modify unregistered", poller().modify(EventObject::Client(other)),
       absl::StatusCode::kNotFound, other},
      {"del unregistered", poller().del(other), absl::StatusCode::kNotFound,
       other},
      {"add empty interest",
       poller().add(EventObject{other, EventKind::kClient, Events::kNone}),
       absl::StatusCode::kInvalidArgument, other},
      {"add(-3)", poller().add(EventObject::Client(-3)),
       absl::StatusCode::kInvalidArgument, -3},
      {"del(-3)", poller().del(-3), absl::StatusCode::kInvalidArgument, -3},
  };
  if (!poller().supports(Trigger::kEdge)) {
    probes.push_back({"add edge",
                      poller().add(EventObject::Client(other), Trigger::kEdge),
                      absl::StatusCode::kUnimplemented, other});
  }
  if (!poller().supports_priority()) {
    probes.push_back({"add priority",
                      poller().add(EventObject{other, EventKind::kClient,
                                               Events::kPriority}),
                      absl::StatusCode::kUnimplemented, other});
  }
  for (const Probe& probe : probes) {
    SCOPED_TRACE(probe.what);
    EXPECT_EQ(probe.status.code(), probe.code) << probe.status;
    EXPECT_EQ(ErrnoFromStatus(probe.status), std::nullopt) << probe.status;
    EXPECT_TRUE(
        Contains(std::string(probe.status.message()), std::to_string(probe.fd)))
        << probe.status;
  }
  EXPECT_EQ(poller().size(), 1u);
}

// poller.h: "a failed call changes nothing", including the token and a fired
// oneshot's disarmed state (a failed modify must not re-arm it).
void ExpectFailedCallsChangeNothing(Poller& poller, Backend backend) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  const EventObject original{fd, static_cast<EventKind>(9), Events::kReadable,
                             7};
  ASSERT_TRUE(poller.add(original, Trigger::kOneshot).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller, {original});
  ExpectNoEvents(poller);  // fired, still readable

  const EventObject renamed{fd, EventKind::kClient, Events::kReadable, 1234};
  std::vector<std::pair<const char*, absl::Status>> failures;
  failures.emplace_back("add twice", poller.add(renamed, Trigger::kLevel));
  failures.emplace_back(
      "modify to empty interest",
      poller.modify(EventObject{fd, EventKind::kClient, Events::kNone, 55},
                    Trigger::kOneshot));
  failures.emplace_back(
      "modify with a result bit",
      poller.modify(EventObject{fd, EventKind::kClient,
                                Events::kReadable | Events::kError, 56},
                    Trigger::kOneshot));
  failures.emplace_back("modify with a trigger outside the enum",
                        poller.modify(renamed, static_cast<Trigger>(17)));
  if (!poller.supports(Trigger::kEdge)) {
    failures.emplace_back("modify to edge",
                          poller.modify(renamed, Trigger::kEdge));
  }
  if (!poller.supports_priority()) {
    failures.emplace_back(
        "modify to priority",
        poller.modify(EventObject{fd, EventKind::kClient,
                                  Events::kReadable | Events::kPriority, 57},
                      Trigger::kOneshot));
  }
  if (backend == Backend::kEpoll) {
    failures.emplace_back("modify to priority + exclusive",
                          poller.modify(EventObject{fd, EventKind::kClient,
                                                    Events::kPriority, 58},
                                        Trigger::kExclusive));
  }
  for (const auto& [what, status] : failures) {
    SCOPED_TRACE(what);
    EXPECT_FALSE(status.ok());
    absl::StatusOr<Registration> found = poller.find(fd);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->kind, original.kind);
    EXPECT_EQ(found->interest, Events::kReadable);
    EXPECT_EQ(found->trigger, Trigger::kOneshot);
    EXPECT_EQ(found->token, 7u);
    ExpectNoEvents(poller);  // still disarmed
  }
  EXPECT_EQ(poller.size(), 1u);
  // A valid modify re-arms it, with the new token.
  ASSERT_TRUE(poller.modify(renamed, Trigger::kOneshot).ok());
  ExpectEvents(poller, {renamed});
  ExpectNoEvents(poller);
}

TEST_P(ContractProbeTest, FailedCallsKeepTheTokenAndLeaveAFiredOneshotSilent) {
  ExpectFailedCallsChangeNothing(poller(), GetParam());
}

// With registration_from_any_thread: "Each call returns its own status
// synchronously, and a failed call changes nothing."
TEST_P(ContractProbeTest, AnyThreadOptionFailedCallsChangeNothing) {
  OnFreshThread([&] {
    PollerOptions options;
    options.registration_from_any_thread = true;
    std::unique_ptr<Poller> shared = Make(options);
    ASSERT_NE(shared, nullptr);
    ExpectFailedCallsChangeNothing(*shared, GetParam());
  });
}

// poller.h, Registration keys: find / del / modify of fd numbers far beyond
// any table answer NotFound (not registered), never touching memory there.
TEST_P(ContractProbeTest, HugeUnregisteredFdNumbersAreNotFound) {
  for (const int fd : {INT_MAX, INT_MAX - 1, 1 << 24, 20000, 19999}) {
    SCOPED_TRACE(fd);
    EXPECT_EQ(poller().find(fd).status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(poller().del(fd).code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(poller().modify(EventObject::Client(fd)).code(),
              absl::StatusCode::kNotFound);
  }
  EXPECT_EQ(poller().find(INT_MIN).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(poller().del(INT_MIN).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(poller().add(EventObject::Client(INT_MIN)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(poller().size(), 0u);
}

// Runs `body` in a forked child whose address space is capped (so a huge
// allocation fails fast instead of eating the machine) and returns its exit
// status as waitpid reports it, or -1 if it did not finish in 60 s (then
// killed). `body` returns the child's exit code; it writes what went wrong
// to `report` (a pipe the parent prints).
int RunCappedChild(const std::function<int(int report)>& body,
                   std::string* report_text) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return -1;
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    // The current size plus 1 GiB.
    long pages = 0;
    if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
      std::fclose(statm);
    }
    const rlim_t cap = static_cast<rlim_t>(pages) * ::sysconf(_SC_PAGESIZE) +
                       (rlim_t{1} << 30);
    rlimit limit{cap, cap};
    ::setrlimit(RLIMIT_AS, &limit);
    int code = 99;
    try {
      code = body(pipe_fds[1]);
    } catch (const std::bad_alloc& e) {
      const std::string text =
          std::string("std::bad_alloc escaped the call: ") + e.what() + "\n";
      (void)!::write(pipe_fds[1], text.data(), text.size());
      code = 97;
    } catch (const std::exception& e) {
      const std::string text =
          std::string("an exception escaped the call: ") + e.what() + "\n";
      (void)!::write(pipe_fds[1], text.data(), text.size());
      code = 98;
    }
    ::_exit(code);
  }
  ::close(pipe_fds[1]);
  int status = -1;
  bool done = false;
  for (int i = 0; i < 600 && !done; ++i) {
    const pid_t reaped = ::waitpid(child, &status, WNOHANG);
    done = reaped == child;
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!done) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    status = -1;
  }
  char buffer[512];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0) {
    report_text->append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  return status;
}

void Report(int fd, const std::string& text) {
  (void)!::write(fd, text.data(), text.size());
}

// RunCappedChild's child exited with 0; otherwise how it ended and what it
// reported.
void ExpectChildPassed(int status, const std::string& report) {
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "child status " << status
      << (WIFSIGNALED(status)
              ? " (killed by signal " + std::to_string(WTERMSIG(status)) + ")"
              : std::string())
      << (WIFEXITED(status)
              ? " (exit " + std::to_string(WEXITSTATUS(status)) + ")"
              : std::string())
      << ": " << report;
}

// poller.h, add: the OS error for an fd that is not open ("add(closed fd)":
// FailedPrecondition, EBADF), for any non-negative int. INT_MAX is a legal
// fd argument (event/event.h: "bits 8..39 the fd (any non-negative int)").
// (Found here when epoll reached the table to the fd, INT_MAX + 1 entries,
// before epoll_ctl could say EBADF: std::bad_alloc.)
TEST_P(ContractProbeTest, AddOfTheLargestFdNumberFailsCleanly) {
  const Backend backend = GetParam();
  std::string report;
  const int status = RunCappedChild(
      [backend](int out) {
        absl::StatusOr<std::unique_ptr<Poller>> poller = NewPoller(backend);
        if (!poller.ok()) return 0;
        const absl::Status added = (*poller)->add(EventObject::Client(INT_MAX));
        if (added.code() != absl::StatusCode::kFailedPrecondition ||
            ErrnoFromStatus(added) != EBADF) {
          Report(out, "add(INT_MAX): " + added.ToString() + "\n");
          return 1;
        }
        if ((*poller)->size() != 0) return 2;
        return 0;
      },
      &report);
  ExpectChildPassed(status, report);
}

// PollerOptions::check_fd_on_add = false: "a bad fd then shows up as kError
// from wait instead" (poll, io_uring; epoll and kqueue check for free).
// Table growth to the fd again (epoll: as above).
// (Found here: std::bad_alloc on poll and io_uring too.)
TEST_P(ContractProbeTest, UncheckedAddOfTheLargestFdNumberFailsOrReportsError) {
  const Backend backend = GetParam();
  std::string report;
  const int status = RunCappedChild(
      [backend](int out) {
        PollerOptions options;
        options.check_fd_on_add = false;
        absl::StatusOr<std::unique_ptr<Poller>> poller =
            NewPoller(backend, options);
        if (!poller.ok()) return 0;
        const absl::Status added = (*poller)->add(EventObject::Client(INT_MAX));
        if (!added.ok()) {
          if ((*poller)->size() != 0) {
            Report(out, "failed add changed size\n");
            return 3;
          }
          // PollerOptions::check_fd_on_add: a closed number of 65,536 or
          // more above the table fails with EBADF whatever the option says.
          if (ErrnoFromStatus(added) != EBADF) {
            Report(out, "add(INT_MAX): " + added.ToString() + "\n");
            return 7;
          }
          return 0;
        }
        for (int i = 0; i < 20; ++i) {
          absl::StatusOr<absl::Span<const EventObject>> events =
              (*poller)->wait(absl::Milliseconds(50));
          if (!events.ok()) {
            Report(out, "wait: " + events.status().ToString() + "\n");
            return 4;
          }
          for (const EventObject& ev : *events) {
            if (ev.fd == INT_MAX && Has(ev.events, Events::kError)) {
              return (*poller)->del(INT_MAX).ok() ? 0 : 5;
            }
          }
        }
        Report(out, "added, but no kError reported for fd INT_MAX\n");
        return 6;
      },
      &report);
  ExpectChildPassed(status, report);
}

// ---------------------------------------------------------------------------
// fd numbers and sharing
// ---------------------------------------------------------------------------

// fd 0 is a valid fd like any other (Encode packs it as 0 in the fd bits).
TEST_P(ContractProbeTest, FdZeroRoundTrips) {
  UniqueFd saved_stdin(::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3));
  ASSERT_GE(saved_stdin.get(), 0);
  SocketPair pair = MakeSocketPair();
  ASSERT_EQ(::dup2(pair.left.get(), 0), 0);
  const EventObject zero{0, static_cast<EventKind>(3), Events::kReadable, 77};
  ASSERT_TRUE(poller().add(zero).ok());
  ExpectNoEvents(poller());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {zero});
  absl::StatusOr<Registration> found = poller().find(0);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->token, 77u);
  ASSERT_TRUE(poller().del(0).ok());
  ExpectNoEvents(poller());
  ASSERT_EQ(::dup2(saved_stdin.get(), 0), 0);
}

// Two registrations of one file under two fd numbers (a dup): each is its
// own registration, reported once per wait with its own kind and token;
// del of one leaves the other.
TEST_P(ContractProbeTest, DupedFdsAreSeparateRegistrations) {
  SocketPair pair = MakeSocketPair();
  UniqueFd dup(::fcntl(pair.left.get(), F_DUPFD_CLOEXEC, 0));
  ASSERT_GE(dup.get(), 0);
  const EventObject first{pair.left.get(), EventKind::kClient,
                          Events::kReadable, 1};
  const EventObject second{dup.get(), static_cast<EventKind>(5),
                           Events::kReadable, 2};
  ASSERT_TRUE(poller().add(first).ok());
  ASSERT_TRUE(poller().add(second).ok());
  EXPECT_EQ(poller().size(), 2u);
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {first, second});
  ASSERT_TRUE(poller().del(first.fd).ok());
  ExpectEvents(poller(), {second});
  // del, then close: the dup's registration is untouched.
  pair.left.Reset();
  ExpectEvents(poller(), {second});
  ASSERT_TRUE(poller().del(second.fd).ok());
  ExpectNoEvents(poller());
}

// One fd in two pollers (same backend, and poll(2) beside it): each reports
// it by its own registration; del, oneshot and modify in one leave the
// other alone.
TEST_P(ContractProbeTest, OneFdInTwoPollersIsTwoIndependentRegistrations) {
  std::unique_ptr<Poller> twin = Make(PollerOptions{});
  ASSERT_NE(twin, nullptr);
  absl::StatusOr<std::unique_ptr<Poller>> other = NewPoller(Backend::kPoll);
  ASSERT_TRUE(other.ok()) << other.status();
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  const EventObject a{fd, EventKind::kClient, Events::kReadable, 10};
  const EventObject b{fd, EventKind::kServer, Events::kReadable, 20};
  const EventObject c{fd, static_cast<EventKind>(30), Events::kReadable, 30};
  ASSERT_TRUE(poller().add(a, Trigger::kOneshot).ok());
  ASSERT_TRUE(twin->add(b).ok());
  ASSERT_TRUE((*other)->add(c).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {a});
  ExpectEvents(*twin, {b});
  ExpectEvents(**other, {c});
  ExpectNoEvents(poller());  // its oneshot fired; the others are level
  ExpectEvents(*twin, {b});
  ExpectEvents(**other, {c});
  ASSERT_TRUE(twin->del(fd).ok());
  ExpectNoEvents(*twin);
  ExpectEvents(**other, {c});
  ASSERT_TRUE(poller().modify(a, Trigger::kLevel).ok());
  ExpectEvents(poller(), {a});
  ExpectEvents(**other, {c});
}

// Destroying a poller with registrations (and a batch outstanding) closes
// none of the caller's fds: they stay open, connected, and can be
// registered elsewhere.
TEST_P(ContractProbeTest, DestroyingAPollerLeavesTheCallersFdsOpen) {
  std::vector<SocketPair> pairs;
  for (int i = 0; i < 4; ++i) pairs.push_back(MakeSocketPair());
  {
    std::unique_ptr<Poller> doomed = Make(PollerOptions{});
    ASSERT_NE(doomed, nullptr);
    ASSERT_TRUE(doomed->add(EventObject::Client(pairs[0].left.get())).ok());
    ASSERT_TRUE(
        doomed->add(EventObject::Client(pairs[1].left.get()), Trigger::kOneshot)
            .ok());
    ASSERT_TRUE(
        doomed
            ->add(EventObject{pairs[2].left.get(), EventKind::kClient, kRW},
                  Trigger::kExclusive)
            .ok());
    if (doomed->supports(Trigger::kEdge)) {
      ASSERT_TRUE(
          doomed->add(EventObject::Client(pairs[3].left.get()), Trigger::kEdge)
              .ok());
    }
    for (SocketPair& pair : pairs) ASSERT_TRUE(WriteBytes(pair.right.get()));
    absl::StatusOr<absl::Span<const EventObject>> events = doomed->wait(0);
    ASSERT_TRUE(events.ok());
    EXPECT_FALSE(events->empty());
  }
  for (SocketPair& pair : pairs) {
    EXPECT_GE(::fcntl(pair.left.get(), F_GETFD), 0) << "fd closed by ~Poller";
    ASSERT_TRUE(poller().add(EventObject::Client(pair.left.get())).ok());
  }
  std::vector<EventObject> expected;
  for (SocketPair& pair : pairs) {
    expected.push_back(EventObject::Client(pair.left.get()));
  }
  ExpectEvents(poller(), expected);
  // The peer sees no EOF: the connection is still open both ways.
  for (SocketPair& pair : pairs) {
    ASSERT_TRUE(WriteBytes(pair.left.get()));
    char byte;
    EXPECT_EQ(::recv(pair.right.get(), &byte, 1, 0), 1);
  }
}

// ---------------------------------------------------------------------------
// The batch: modify and del inside it, its lifetime
// ---------------------------------------------------------------------------

// poller.h, modify: "Results of this fd already in the current batch keep
// what they were reported with; every later result carries the new kind and
// token."
TEST_P(ContractProbeTest, ModifyInsideABatchKeepsTheReportedEntry) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  const EventObject before{fd, EventKind::kClient, Events::kReadable, 5};
  const EventObject after{fd, static_cast<EventKind>(200), Events::kReadable,
                          6};
  ASSERT_TRUE(poller().add(before).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  absl::StatusOr<absl::Span<const EventObject>> events = poller().wait(0);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  ASSERT_TRUE(poller().modify(after).ok());
  EXPECT_EQ((*events)[0], before);
  ExpectEvents(poller(), {after});
}

// poller.h, del: "Entries for `fd` still waiting in the current result
// batch are scrubbed (fd = -1, events = kNone, token = 0)": a merged R|W
// entry with a token too, and the other entries are left as they were.
TEST_P(ContractProbeTest, DelScrubsAMergedEntryAndItsToken) {
  SocketPair doomed = MakeSocketPair();
  SocketPair kept = MakeSocketPair();
  const EventObject both{doomed.left.get(), static_cast<EventKind>(9), kRW,
                         0xfeedULL};
  const EventObject other{kept.left.get(), EventKind::kClient, kRW, 5};
  ASSERT_TRUE(poller().add(both).ok());
  ASSERT_TRUE(poller().add(other).ok());
  ASSERT_TRUE(WriteBytes(doomed.right.get()));
  ASSERT_TRUE(WriteBytes(kept.right.get()));
  absl::StatusOr<absl::Span<const EventObject>> events = poller().wait(0);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  int doomed_at = (*events)[0].fd == both.fd ? 0 : 1;
  EXPECT_EQ((*events)[doomed_at], both);
  EXPECT_EQ((*events)[1 - doomed_at], other);
  ASSERT_TRUE(poller().del(both.fd).ok());
  EXPECT_EQ((*events)[doomed_at],
            (EventObject{-1, EventKind::kServer, Events::kNone, 0}));
  EXPECT_EQ((*events)[1 - doomed_at], other);
  // A failed del scrubs nothing.
  EXPECT_EQ(poller().del(both.fd).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(poller().del(-1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*events)[1 - doomed_at], other);
}

// The scrub also happens when the caller closed the fd before its del (the
// recovery path of poller.h: "`del` of an fd you already closed still
// succeeds and forgets it").
TEST_P(ContractProbeTest, DelOfAnFdClosedInsideTheBatchStillScrubs) {
  SocketPair first = MakeSocketPair();
  SocketPair second = MakeSocketPair();
  absl::StatusOr<absl::Span<const EventObject>> events =
      WaitForTwoReadyClients(poller(), first, second, absl::ZeroDuration());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  const int victim = (*events)[1].fd;
  (victim == first.left.get() ? first : second).left.Reset();
  ASSERT_TRUE(poller().del(victim).ok());
  EXPECT_EQ((*events)[1],
            (EventObject{-1, EventKind::kServer, Events::kNone, 0}));
  EXPECT_NE((*events)[0].fd, -1);
  EXPECT_EQ(poller().size(), 1u);
}

// The scrub bookkeeping after a number is reused inside one batch: the
// re-added fd was not in this batch, so its del and modify touch no entry
// (the surviving entry of the other fd stays exactly as reported).
TEST_P(ContractProbeTest, ReusedNumberInsideABatchTouchesNoOtherEntry) {
  SocketPair first = MakeSocketPair();
  SocketPair second = MakeSocketPair();
  absl::StatusOr<absl::Span<const EventObject>> events =
      WaitForTwoReadyClients(poller(), first, second, absl::ZeroDuration());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  const int victim_at = 1;
  const int victim = (*events)[victim_at].fd;
  const EventObject survivor = (*events)[1 - victim_at];
  ASSERT_TRUE(poller().del(victim).ok());
  SocketPair& owner = victim == first.left.get() ? first : second;
  owner.left.Reset();
  SocketPair reuse = MakeSocketPair();  // takes the victim's number
  EXPECT_EQ(reuse.left.get(), victim);
  const int number = reuse.left.get();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(poller().add(EventObject::Server(number, 50u + i)).ok());
    ASSERT_TRUE(
        poller()
            .modify(EventObject{number, EventKind::kClient, kRW, 60u + i})
            .ok());
    ASSERT_TRUE(poller().del(number).ok());
  }
  EXPECT_EQ((*events)[victim_at],
            (EventObject{-1, EventKind::kServer, Events::kNone, 0}));
  EXPECT_EQ((*events)[1 - victim_at], survivor);
  // The survivor can still be deleted, and scrubs its own entry only.
  for (int i = 0; i < 2; ++i) {
    const int fd = (*events)[i].fd;
    if (fd == -1) continue;
    ASSERT_TRUE(poller().del(fd).ok());
    EXPECT_EQ((*events)[i].fd, -1);
  }
  EXPECT_EQ(poller().size(), 0u);
}

// poller.h: "The span stays valid until the next `wait` or destruction":
// adds (growing every table), modifies and dels of other fds while the
// caller reads the batch leave its entries as they were.
TEST_P(ContractProbeTest, BatchSurvivesRegistrationChurnOfOtherFds) {
  std::vector<SocketPair> ready;
  std::vector<EventObject> expected;
  for (int i = 0; i < 3; ++i) {
    ready.push_back(MakeSocketPair());
    const EventObject ev{ready.back().left.get(), static_cast<EventKind>(i),
                         Events::kReadable, 100u + i};
    ASSERT_TRUE(poller().add(ev).ok());
    ASSERT_TRUE(WriteBytes(ready.back().right.get()));
    expected.push_back(ev);
  }
  absl::StatusOr<absl::Span<const EventObject>> events = poller().wait(0);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  const std::vector<EventObject> snapshot(events->begin(), events->end());
  std::vector<SocketPair> churn;
  for (int i = 0; i < 60; ++i) {  // 120 fds, higher numbers than the batch's
    churn.push_back(MakeSocketPair());
    ASSERT_TRUE(
        poller().add(EventObject::Client(churn.back().left.get())).ok());
  }
  for (int i = 0; i < 60; i += 2) {
    ASSERT_TRUE(poller()
                    .modify(EventObject{churn[i].left.get(), EventKind::kServer,
                                        kRW, 9})
                    .ok());
  }
  for (int i = 1; i < 60; i += 2) {
    ASSERT_TRUE(poller().del(churn[i].left.get()).ok());
  }
  EXPECT_EQ(std::vector<EventObject>(events->begin(), events->end()), snapshot);
  std::vector<EventObject> sorted_expected = expected;
  std::vector<EventObject> seen(events->begin(), events->end());
  auto by_fd = [](const EventObject& x, const EventObject& y) {
    return x.fd < y.fd;
  };
  std::sort(seen.begin(), seen.end(), by_fd);
  std::sort(sorted_expected.begin(), sorted_expected.end(), by_fd);
  EXPECT_EQ(seen, sorted_expected);
}

// With registration_from_any_thread: "A `del` on the waiting thread scrubs
// as before."
TEST_P(ContractProbeTest, AnyThreadOptionDelOnTheWaitingThreadStillScrubs) {
  OnFreshThread([&] {
    PollerOptions options;
    options.registration_from_any_thread = true;
    std::unique_ptr<Poller> shared = Make(options);
    ASSERT_NE(shared, nullptr);
    SocketPair first = MakeSocketPair();
    SocketPair second = MakeSocketPair();
    absl::StatusOr<absl::Span<const EventObject>> events =
        WaitForTwoReadyClients(*shared, first, second, absl::Seconds(5));
    ASSERT_TRUE(events.ok()) << events.status();
    ASSERT_EQ(events->size(), 2u);
    const int later = (*events)[1].fd;
    ASSERT_TRUE(shared->del(later).ok());
    EXPECT_EQ((*events)[1],
              (EventObject{-1, EventKind::kServer, Events::kNone, 0}));
    EXPECT_NE((*events)[0].fd, -1);
  });
}

// ---------------------------------------------------------------------------
// max_events
// ---------------------------------------------------------------------------

TEST_P(ContractProbeTest, MaxEventsLimitsAreAccepted) {
  for (const int max_events : {1, PollerOptions::kMaxEvents}) {
    SCOPED_TRACE(max_events);
    std::unique_ptr<Poller> sized = Make(PollerOptions{max_events});
    ASSERT_NE(sized, nullptr);
    SocketPair a = MakeSocketPair();
    SocketPair b = MakeSocketPair();
    ASSERT_TRUE(sized->add(EventObject::Client(a.left.get())).ok());
    ASSERT_TRUE(sized->add(EventObject::Client(b.left.get())).ok());
    ASSERT_TRUE(WriteBytes(a.right.get()));
    ASSERT_TRUE(WriteBytes(b.right.get()));
    const std::vector<EventObject> events = WaitEvents(*sized);
    EXPECT_EQ(events.size(), max_events == 1 ? 1u : 2u);
  }
}

// max_events = 1 with fds that stay ready: "later waits report the others
// first", so N consecutive waits report N different fds, twice over.
TEST_P(ContractProbeTest, MaxEventsOneRotatesThroughEveryReadyFd) {
  std::unique_ptr<Poller> single = Make(PollerOptions{1});
  ASSERT_NE(single, nullptr);
  constexpr int kFds = 4;
  std::vector<SocketPair> pairs;
  for (int i = 0; i < kFds; ++i) {
    pairs.push_back(MakeSocketPair());
    ASSERT_TRUE(single->add(EventObject::Client(pairs.back().left.get())).ok());
    ASSERT_TRUE(WriteBytes(pairs.back().right.get()));
  }
  for (int round = 0; round < 2; ++round) {
    std::set<int> seen;
    for (int i = 0; i < kFds; ++i) {
      const std::vector<EventObject> events = WaitEvents(*single);
      ASSERT_EQ(events.size(), 1u);
      seen.insert(events[0].fd);
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(kFds)) << "round " << round;
  }
}

// Edge and oneshot fds beyond max_events: "more are reported by later
// calls, none lost", and "later waits report the others first": with room
// for one entry, N fds that each got several separate writes are reported
// by N consecutive waits, each once, then nothing.
TEST_P(ContractProbeTest, MaxEventsOneReportsEachEdgeAndOneshotFdOnce) {
  for (const Trigger trigger : {Trigger::kEdge, Trigger::kOneshot}) {
    std::unique_ptr<Poller> single = Make(PollerOptions{1});
    ASSERT_NE(single, nullptr);
    if (!single->supports(trigger)) continue;
    SCOPED_TRACE(TriggerName(trigger));
    constexpr int kFds = 3;
    std::vector<SocketPair> pairs;
    for (int i = 0; i < kFds; ++i) {
      pairs.push_back(MakeSocketPair());
      ASSERT_TRUE(
          single->add(EventObject::Client(pairs.back().left.get()), trigger)
              .ok());
    }
    // Separate writes, so that io_uring's multishot poll completes on each.
    for (int round = 0; round < 3; ++round) {
      for (SocketPair& pair : pairs) ASSERT_TRUE(WriteBytes(pair.right.get()));
    }
    std::vector<int> order;
    for (int i = 0; i < kFds; ++i) {
      const std::vector<EventObject> events = WaitEvents(*single);
      ASSERT_EQ(events.size(), 1u) << "wait " << i;
      order.push_back(events[0].fd);
    }
    EXPECT_EQ(std::set<int>(order.begin(), order.end()).size(),
              static_cast<std::size_t>(kFds))
        << "reported: " << order[0] << ", " << order[1] << ", " << order[2];
    ExpectNoEvents(*single);
  }
}

// A deleted fd that was left out of a full batch never shows up later, and
// every other ready fd still does.
TEST_P(ContractProbeTest, DeletedFdLeftOutOfAFullBatchNeverShowsUpLater) {
  std::unique_ptr<Poller> small = Make(PollerOptions{2});
  ASSERT_NE(small, nullptr);
  std::vector<SocketPair> pairs;
  std::set<int> live;
  for (int i = 0; i < 5; ++i) {
    pairs.push_back(MakeSocketPair());
    ASSERT_TRUE(small->add(EventObject::Client(pairs.back().left.get())).ok());
    ASSERT_TRUE(WriteBytes(pairs.back().right.get()));
    live.insert(pairs.back().left.get());
  }
  const std::vector<EventObject> first = WaitEvents(*small);
  ASSERT_EQ(first.size(), 2u);
  int doomed = -1;
  for (int fd : live) {
    if (CountFd(first, fd) == 0) doomed = fd;
  }
  ASSERT_NE(doomed, -1);
  ASSERT_TRUE(small->del(doomed).ok());
  live.erase(doomed);
  std::set<int> seen;
  for (int i = 0; i < 12; ++i) {
    for (const EventObject& ev : WaitEvents(*small)) {
      EXPECT_NE(ev.fd, doomed) << "deleted fd reported";
      seen.insert(ev.fd);
    }
  }
  EXPECT_EQ(seen, live);
}

// "Readable and writable come merged into one entry per fd per `wait`",
// whatever max_events is: with room for one entry, an fd that is readable
// and writable is reported as R|W.
// (kqueue: found here when its kevent buffer held max_events kernel
// events, one per filter; it now holds two per batch entry.)
TEST_P(ContractProbeTest, MaxEventsOneStillMergesReadableAndWritable) {
  std::unique_ptr<Poller> single = Make(PollerOptions{1});
  ASSERT_NE(single, nullptr);
  SocketPair pair = MakeSocketPair();
  const EventObject both{pair.left.get(), EventKind::kClient, kRW, 3};
  ASSERT_TRUE(single->add(both).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  for (int i = 0; i < 3; ++i) {
    ExpectEvents(*single, {both});
  }
}

// kqueue_poller.h: "With both filters, a oneshot fd is reported once in
// all": with room for one entry too, then silent until modify.
TEST_P(ContractProbeTest, MaxEventsOneOneshotWithBothInterestsReportsOnce) {
  std::unique_ptr<Poller> single = Make(PollerOptions{1});
  ASSERT_NE(single, nullptr);
  SocketPair pair = MakeSocketPair();
  const EventObject both{pair.left.get(), EventKind::kClient, kRW, 8};
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ASSERT_TRUE(single->add(both, Trigger::kOneshot).ok());
  int reports = 0;
  for (int i = 0; i < 4; ++i) {
    for (const EventObject& ev : WaitEvents(*single)) {
      EXPECT_EQ(ev.fd, both.fd);
      EXPECT_EQ(ev.token, 8u);
      ++reports;
    }
  }
  EXPECT_EQ(reports, 1);
  ASSERT_TRUE(single->modify(both, Trigger::kOneshot).ok());
  reports = 0;
  for (int i = 0; i < 4; ++i) reports += WaitEvents(*single).size();
  EXPECT_EQ(reports, 1);
}

// No starvation with both interests: max_events = 1 and three fds that are
// readable and writable: three consecutive waits report three different
// fds.
TEST_P(ContractProbeTest, MaxEventsOneRotatesThroughReadWriteFds) {
  std::unique_ptr<Poller> single = Make(PollerOptions{1});
  ASSERT_NE(single, nullptr);
  constexpr int kFds = 3;
  std::vector<SocketPair> pairs;
  for (int i = 0; i < kFds; ++i) {
    pairs.push_back(MakeSocketPair());
    ASSERT_TRUE(
        single
            ->add(EventObject{pairs.back().left.get(), EventKind::kClient, kRW})
            .ok());
    ASSERT_TRUE(WriteBytes(pairs.back().right.get()));
  }
  std::vector<int> order;
  std::set<int> seen;
  for (int i = 0; i < kFds; ++i) {
    const std::vector<EventObject> events = WaitEvents(*single);
    ASSERT_EQ(events.size(), 1u);
    order.push_back(events[0].fd);
    seen.insert(events[0].fd);
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kFds))
      << "fds reported: " << order[0] << ", " << order[1] << ", " << order[2];
}

// ---------------------------------------------------------------------------
// Registration sequences before a wait (io_uring queues them)
// ---------------------------------------------------------------------------

// Several modifies before one wait: one entry, with the last kind, token,
// interest and trigger.
TEST_P(ContractProbeTest, ManyModifiesBeforeAWaitReportOnceWithTheLast) {
  for (const Trigger last : {Trigger::kLevel, Trigger::kEdge, Trigger::kOneshot,
                             Trigger::kExclusive}) {
    if (!poller().supports(last)) continue;
    SCOPED_TRACE(TriggerName(last));
    SocketPair pair = MakeSocketPair();
    const int fd = pair.left.get();
    FillSendBuffer(fd);  // not writable: only the read interest can fire
    ASSERT_TRUE(WriteBytes(pair.right.get()));
    ASSERT_TRUE(
        poller()
            .add(EventObject{fd, EventKind::kClient, Events::kReadable, 1})
            .ok());
    ASSERT_TRUE(poller()
                    .modify(EventObject{fd, EventKind::kServer, kRW, 2},
                            Trigger::kOneshot)
                    .ok());
    ASSERT_TRUE(poller()
                    .modify(EventObject{fd, static_cast<EventKind>(3),
                                        Events::kWritable, 3})
                    .ok());
    const EventObject final_ev{fd, static_cast<EventKind>(4), Events::kReadable,
                               4};
    ASSERT_TRUE(poller().modify(final_ev, last).ok());
    ExpectEvents(poller(), {final_ev});
    if (last == Trigger::kLevel || last == Trigger::kExclusive) {
      ExpectEvents(poller(), {final_ev});
    } else {
      ExpectNoEvents(poller());
    }
    ASSERT_TRUE(poller().del(fd).ok());
    ExpectNoEvents(poller());
  }
}

// add, del, add again (new kind and token) before any wait: one entry, the
// new registration's.
TEST_P(ContractProbeTest, AddDelAddBeforeAWaitReportsOnlyTheNewRegistration) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ASSERT_TRUE(poller().add(EventObject::Client(fd, 1)).ok());
  ASSERT_TRUE(poller().del(fd).ok());
  const EventObject again{fd, static_cast<EventKind>(8), Events::kReadable, 2};
  ASSERT_TRUE(poller().add(again).ok());
  ExpectEvents(poller(), {again});
  // And after a wait that armed it in the kernel.
  ASSERT_TRUE(poller().del(fd).ok());
  const EventObject third{fd, static_cast<EventKind>(9), Events::kReadable, 3};
  ASSERT_TRUE(poller().add(third, Trigger::kOneshot).ok());
  ExpectEvents(poller(), {third});
  ExpectNoEvents(poller());
}

// A oneshot that fired, deleted and added again, is armed again.
TEST_P(ContractProbeTest, ReAddOfAFiredOneshotIsArmed) {
  SocketPair pair = MakeSocketPair();
  const EventObject client = EventObject::Client(pair.left.get(), 4);
  ASSERT_TRUE(poller().add(client, Trigger::kOneshot).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {client});
  ExpectNoEvents(poller());
  ASSERT_TRUE(poller().del(client.fd).ok());
  ASSERT_TRUE(poller().add(client, Trigger::kOneshot).ok());
  ExpectEvents(poller(), {client});
  ExpectNoEvents(poller());
}

// modify of a oneshot that has not fired yet: it reports once, as the new
// registration.
TEST_P(ContractProbeTest, ModifyOfAnUnfiredOneshotChangesWhatItReports) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(poller().add(EventObject::Client(fd, 1), Trigger::kOneshot).ok());
  ExpectNoEvents(poller());
  const EventObject renamed{fd, static_cast<EventKind>(66), Events::kReadable,
                            2};
  ASSERT_TRUE(poller().modify(renamed, Trigger::kOneshot).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {renamed});
  ExpectNoEvents(poller());
}

// "kReadable, kWritable and kPriority come only with that interest", and
// modify replaces the interest: the old one stops reporting at once.
TEST_P(ContractProbeTest, ModifyReplacesTheInterest) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  FillSendBuffer(fd);
  ASSERT_TRUE(WriteBytes(pair.right.get()));  // readable, not writable
  const EventObject reader{fd, EventKind::kClient, Events::kReadable};
  const EventObject writer{fd, EventKind::kClient, Events::kWritable};
  ASSERT_TRUE(poller().add(reader).ok());
  ExpectEvents(poller(), {reader});
  ASSERT_TRUE(poller().modify(writer).ok());
  ExpectNoEvents(poller());
  ExpectNoEvents(poller());
  ASSERT_TRUE(poller().modify(EventObject{fd, EventKind::kClient, kRW}).ok());
  ExpectEvents(poller(), {reader});
  // Now writable and not readable.
  Drain(fd);
  Drain(pair.right.get());
  ExpectEvents(poller(), {writer});
  ASSERT_TRUE(poller().modify(reader).ok());
  ExpectNoEvents(poller());
  ExpectNoEvents(poller());
}

// A write-only registration never reports kReadable, however much data
// waits.
TEST_P(ContractProbeTest, WriteOnlyInterestNeverReportsReadable) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  FillSendBuffer(fd);
  ASSERT_TRUE(WriteBytes(pair.right.get(), 100));
  const EventObject writer{fd, EventKind::kClient, Events::kWritable};
  for (const Trigger trigger :
       {Trigger::kLevel, Trigger::kEdge, Trigger::kOneshot}) {
    if (!poller().supports(trigger)) continue;
    SCOPED_TRACE(TriggerName(trigger));
    ASSERT_TRUE(poller().add(writer, trigger).ok());
    ExpectNoEvents(poller());
    ExpectEvents(poller(), {}, absl::Milliseconds(20));
    ASSERT_TRUE(poller().del(fd).ok());
  }
}

void ExpectModifyOfAClosedFdFailsWithoutChangingIt(
    Poller& poller, std::initializer_list<Trigger> targets);

// modify of an fd the caller closed without del (a caller error): if the
// backend refuses it, the OS error names the call and fd and the
// registration is exactly as it was (kqueue rolls back the filter it
// changed, epoll checks kExclusive before its DEL); either way del forgets
// it.
TEST_P(ContractProbeTest, ModifyOfAClosedFdFailsWithoutChangingIt) {
  ExpectModifyOfAClosedFdFailsWithoutChangingIt(
      poller(), {Trigger::kLevel, Trigger::kOneshot});
}

// The same into kExclusive. The caller's fd number is closed, so the OS
// error is EBADF ("other: the OS error, with the call and fd").
// (epoll: found here when Readd()'s scratch epoll instance took the closed
// fd's number and its check ADDed the instance to itself: EINVAL.)
TEST_P(ContractProbeTest, ModifyToExclusiveOfAClosedFdReportsEbadf) {
  ExpectModifyOfAClosedFdFailsWithoutChangingIt(poller(),
                                                {Trigger::kExclusive});
}

void ExpectModifyOfAClosedFdFailsWithoutChangingIt(
    Poller& poller, std::initializer_list<Trigger> targets) {
  for (const Trigger target : targets) {
    for (const bool widen : {false, true}) {
      SCOPED_TRACE(std::string(TriggerName(target)) +
                   (widen ? " R -> RW" : " RW -> R"));
      SocketPair pair = MakeSocketPair();
      const int fd = pair.left.get();
      const EventObject original{fd, EventKind::kClient,
                                 widen ? Events::kReadable : kRW, 21};
      ASSERT_TRUE(poller.add(original).ok());
      pair.left.Reset();
      const EventObject changed{fd, static_cast<EventKind>(44),
                                widen ? kRW : Events::kReadable, 22};
      const absl::Status status = poller.modify(changed, target);
      absl::StatusOr<Registration> found = poller.find(fd);
      ASSERT_TRUE(found.ok()) << found.status();
      if (!status.ok()) {
        EXPECT_EQ(ErrnoFromStatus(status), EBADF) << status;
        EXPECT_TRUE(
            Contains(std::string(status.message()), "fd=" + std::to_string(fd)))
            << status;
        EXPECT_EQ(found->kind, original.kind);
        EXPECT_EQ(found->interest, original.events);
        EXPECT_EQ(found->trigger, Trigger::kLevel);
        EXPECT_EQ(found->token, 21u);
      } else {
        EXPECT_EQ(found->kind, changed.kind);
        EXPECT_EQ(found->token, 22u);
      }
      EXPECT_TRUE(poller.del(fd).ok());
      EXPECT_EQ(poller.size(), 0u);
      ExpectNoEvents(poller);
    }
  }
}

// A full batch of fds that are readable and writable: every entry reported
// carries both bits (the merge does not depend on room in the batch).
// (kqueue: found here, as above.)
TEST_P(ContractProbeTest, FullBatchOfReadWriteFdsReportsMergedEntries) {
  constexpr int kFds = 4;
  std::unique_ptr<Poller> small = Make(PollerOptions{kFds});
  ASSERT_NE(small, nullptr);
  std::vector<SocketPair> pairs;
  for (int i = 0; i < kFds; ++i) {
    pairs.push_back(MakeSocketPair());
    ASSERT_TRUE(
        small
            ->add(EventObject{pairs.back().left.get(), EventKind::kClient, kRW})
            .ok());
    ASSERT_TRUE(WriteBytes(pairs.back().right.get()));
  }
  for (int round = 0; round < 3; ++round) {
    for (const EventObject& ev : WaitEvents(*small)) {
      EXPECT_EQ(ev.events, kRW) << "round " << round << ": " << ev;
    }
  }
}

// A wake() taken by a zero-timeout wait is spent: the wait after it runs to
// its timeout ("Does not return before `timeout` unless something is
// ready, woken or interrupted").
TEST_P(ContractProbeTest, WakeSpentByAZeroWaitDoesNotEndTheNextWait) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> woken = Make(PollerOptions{});
    ASSERT_NE(woken, nullptr);
    SocketPair idle = MakeSocketPair();
    ASSERT_TRUE(woken->add(EventObject::Client(idle.left.get())).ok());
    for (int round = 0; round < 3; ++round) {
      SCOPED_TRACE(round);
      ASSERT_TRUE(woken->wake().ok());
      ASSERT_TRUE(woken->wake().ok());
      absl::StatusOr<absl::Span<const EventObject>> events = woken->wait(0);
      ASSERT_TRUE(events.ok()) << events.status();
      EXPECT_TRUE(events->empty());
      Stopwatch stopwatch;
      events = woken->wait(absl::Milliseconds(30));
      ASSERT_TRUE(events.ok()) << events.status();
      EXPECT_TRUE(events->empty());
      EXPECT_GE(stopwatch.Elapsed(), absl::Milliseconds(30));
    }
  });
}

// poller.h, wait and wake: "A wait that wake() ends returns the fds ready by
// then ... either way that wake is spent." A wake and a ready fd at once:
// the wait reports the fd, and once it is drained the next wait runs to its
// timeout.
TEST_P(ContractProbeTest, WakeWithAReadyFdReportsItAndIsSpent) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> woken = Make(PollerOptions{});
    ASSERT_NE(woken, nullptr);
    SocketPair pair = MakeSocketPair();
    const EventObject ev{pair.left.get(), EventKind::kClient, Events::kReadable,
                         5};
    ASSERT_TRUE(woken->add(ev).ok());
    for (int round = 0; round < 3; ++round) {
      SCOPED_TRACE(round);
      ASSERT_TRUE(WriteBytes(pair.right.get()));
      ASSERT_TRUE(woken->wake().ok());
      ExpectEvents(*woken, {ev});
      Drain(pair.left.get());
      Stopwatch stopwatch;
      absl::StatusOr<absl::Span<const EventObject>> events =
          woken->wait(absl::Milliseconds(30));
      ASSERT_TRUE(events.ok()) << events.status();
      EXPECT_TRUE(events->empty());
      EXPECT_GE(stopwatch.Elapsed(), absl::Milliseconds(30));
    }
  });
}

// ---------------------------------------------------------------------------
// Triggers
// ---------------------------------------------------------------------------

// event.h, kExclusive: "level ... poll(2) and io_uring ... treat it as
// kLevel"; on epoll "no EPOLLRDHUP, so no kReadClosed on half-close".
TEST_P(ContractProbeTest, ExclusiveIsLevelWithTheDocumentedHalfClose) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  const EventObject client = EventObject::Client(fd, 11);
  ASSERT_TRUE(poller().add(client, Trigger::kExclusive).ok());
  ExpectNoEvents(poller());
  ASSERT_TRUE(WriteBytes(pair.right.get(), 2));
  ExpectEvents(poller(), {client});
  ExpectEvents(poller(), {client});
  Drain(fd);
  ExpectNoEvents(poller());
  ASSERT_EQ(::shutdown(pair.right.get(), SHUT_WR), 0);
  const Events half_closed = GetParam() == Backend::kEpoll
                                 ? Events::kReadable
                                 : Events::kReadable | Events::kReadClosed;
  ExpectEvents(poller(),
               {EventObject{fd, EventKind::kClient, half_closed, 11}});
  // Out of kExclusive and back (epoll: DEL + ADD) keeps the registration.
  ASSERT_TRUE(poller().modify(client, Trigger::kOneshot).ok());
  ExpectEvents(poller(),
               {EventObject{fd, EventKind::kClient,
                            Events::kReadable | Events::kReadClosed, 11}});
  ExpectNoEvents(poller());
  ASSERT_TRUE(poller().modify(client, Trigger::kExclusive).ok());  // re-arms
  ExpectEvents(poller(),
               {EventObject{fd, EventKind::kClient, half_closed, 11}});
  EXPECT_EQ(poller().find(fd)->trigger, Trigger::kExclusive);
}

// epoll_poller.h: modify into kExclusive of an epoll instance "fails with
// InvalidArgument (EINVAL, "epoll_ctl(ADD, fd=7): ...") and changes
// nothing".
TEST_P(ContractProbeTest, EpollRefusesExclusiveForAnEpollFdAndChangesNothing) {
  if (GetParam() != Backend::kEpoll) {
    GTEST_SKIP() << "epoll only: the others treat kExclusive as kLevel";
  }
  std::unique_ptr<Poller> inner = Make(PollerOptions{});
  ASSERT_NE(inner, nullptr);
  absl::StatusOr<int> handle = inner->native_handle();
  ASSERT_TRUE(handle.ok());
  const EventObject nested{*handle, EventKind::kServer, Events::kReadable, 3};
  const absl::Status added = poller().add(nested, Trigger::kExclusive);
  EXPECT_EQ(added.code(), absl::StatusCode::kInvalidArgument) << added;
  EXPECT_EQ(poller().size(), 0u);
  ASSERT_TRUE(poller().add(nested).ok());
  const absl::Status modified = poller().modify(nested, Trigger::kExclusive);
  EXPECT_EQ(modified.code(), absl::StatusCode::kInvalidArgument) << modified;
  EXPECT_EQ(ErrnoFromStatus(modified), EINVAL);
  EXPECT_TRUE(Contains(std::string(modified.message()),
                       "epoll_ctl(ADD, fd=" + std::to_string(*handle) + ")"))
      << modified;
  absl::StatusOr<Registration> found = poller().find(*handle);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->trigger, Trigger::kLevel);
  SocketPair pair = MakeSocketPair();
  ASSERT_TRUE(inner->add(EventObject::Client(pair.left.get())).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {nested});
}

// Edge with both interests: the first wait after both became ready reports
// one R|W entry, then nothing until a new edge.
TEST_P(ContractProbeTest, EdgeWithBothInterestsReportsOneMergedEntry) {
  if (!poller().supports(Trigger::kEdge)) GTEST_SKIP() << "no kEdge";
  SocketPair pair = MakeSocketPair();
  const EventObject both{pair.left.get(), EventKind::kClient, kRW, 12};
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ASSERT_TRUE(poller().add(both, Trigger::kEdge).ok());
  ExpectEvents(poller(), {both});
  ExpectNoEvents(poller());
  ExpectNoEvents(poller());
}

// A chain of trigger changes on an fd that stays readable: each modify
// takes effect at once (kOneshot re-armed: once; kLevel: every wait; kEdge
// on an fd already ready: at most once, as whether a modify is an edge is
// the backend's), and none of the bookkeeping ends a later wait early.
TEST_P(ContractProbeTest, TriggerChangesOnAReadyFdTakeEffectAtOnce) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> chain = Make(PollerOptions{});
    ASSERT_NE(chain, nullptr);
    SocketPair pair = MakeSocketPair();
    const int fd = pair.left.get();
    ASSERT_TRUE(WriteBytes(pair.right.get()));
    auto reports = [&](int waits) {
      int count = 0;
      for (int i = 0; i < waits; ++i) {
        for (const EventObject& ev : WaitEvents(*chain)) {
          EXPECT_EQ(ev.fd, fd);
          EXPECT_EQ(ev.token,
                    static_cast<std::uint64_t>(static_cast<unsigned>(ev.kind)));
          ++count;
        }
      }
      return count;
    };
    auto as = [fd](int n) {
      return EventObject{fd, static_cast<EventKind>(n), Events::kReadable,
                         static_cast<std::uint64_t>(n)};
    };
    ASSERT_TRUE(chain->add(as(1)).ok());
    EXPECT_EQ(reports(3), 3);
    if (chain->supports(Trigger::kEdge)) {
      ASSERT_TRUE(chain->modify(as(2), Trigger::kEdge).ok());
      EXPECT_LE(reports(3), 1);
      ASSERT_TRUE(WriteBytes(pair.right.get()));  // a new edge
      EXPECT_EQ(reports(3), 1);
    }
    ASSERT_TRUE(chain->modify(as(3), Trigger::kOneshot).ok());
    EXPECT_EQ(reports(3), 1);
    ASSERT_TRUE(chain->modify(as(4), Trigger::kExclusive).ok());
    EXPECT_EQ(reports(3), 3);
    ASSERT_TRUE(chain->modify(as(5), Trigger::kOneshot).ok());
    EXPECT_EQ(reports(3), 1);
    ASSERT_TRUE(chain->modify(as(6), Trigger::kLevel).ok());
    EXPECT_EQ(reports(3), 3);
    Drain(fd);
    EXPECT_EQ(reports(1), 0);
    Stopwatch stopwatch;
    ExpectEvents(*chain, {}, absl::Milliseconds(40));
    EXPECT_GE(stopwatch.Elapsed(), absl::Milliseconds(40));
  });
}

// ---------------------------------------------------------------------------
// Introspection
// ---------------------------------------------------------------------------

// find(): "what add / modify set, whether or not a oneshot has fired since".
TEST_P(ContractProbeTest, FindShowsAFiredOneshotAsItWasSet) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  const EventObject ev{fd, static_cast<EventKind>(250), kRW, 99};
  ASSERT_TRUE(poller().add(ev, Trigger::kOneshot).ok());
  ExpectEvents(poller(),
               {EventObject{fd, ev.kind, Events::kWritable, ev.token}});
  ExpectNoEvents(poller());
  absl::StatusOr<Registration> found = poller().find(fd);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->fd, fd);
  EXPECT_EQ(found->kind, ev.kind);
  EXPECT_EQ(found->interest, kRW);
  EXPECT_EQ(found->trigger, Trigger::kOneshot);
  EXPECT_EQ(found->token, 99u);
  int visited = 0;
  poller().for_each([&](const Registration& r) {
    ++visited;
    EXPECT_EQ(r.token, 99u);
    EXPECT_EQ(r.trigger, Trigger::kOneshot);
  });
  EXPECT_EQ(visited, 1);
}

// DebugString(): the header's own example form,
// "epoll{3 fds: 5=server R, 7=client RW edge token=42, 9=9 WP oneshot}".
TEST_P(ContractProbeTest, DebugStringHasTheHeadersForm) {
  std::vector<SocketPair> pairs;
  for (int i = 0; i < 3; ++i) pairs.push_back(MakeSocketPair());
  std::vector<int> fds;
  for (SocketPair& pair : pairs) fds.push_back(pair.left.get());
  std::sort(fds.begin(), fds.end());
  const bool edge = poller().supports(Trigger::kEdge);
  const bool priority = poller().supports_priority();
  ASSERT_TRUE(poller().add(EventObject::Server(fds[0])).ok());
  ASSERT_TRUE(poller()
                  .add(EventObject{fds[1], EventKind::kClient, kRW, 42},
                       edge ? Trigger::kEdge : Trigger::kExclusive)
                  .ok());
  ASSERT_TRUE(
      poller()
          .add(EventObject{fds[2], static_cast<EventKind>(9),
                           priority ? Events::kWritable | Events::kPriority
                                    : Events::kWritable},
               Trigger::kOneshot)
          .ok());
  const std::string expected = std::string(BackendName(GetParam())) +
                               "{3 fds: " + std::to_string(fds[0]) +
                               "=server R, " + std::to_string(fds[1]) +
                               "=client RW " + (edge ? "edge" : "exclusive") +
                               " token=42, " + std::to_string(fds[2]) + "=9 " +
                               (priority ? "WP" : "W") + " oneshot}";
  EXPECT_EQ(poller().DebugString(), expected);
}

// DebugString(): "after 32 entries the rest are counted": 32 are all
// listed, the 33rd is "... 1 more".
TEST_P(ContractProbeTest, DebugStringListsThirtyTwoAndCountsTheRest) {
  std::vector<SocketPair> pairs;
  for (int i = 0; i < 32; ++i) {
    pairs.push_back(MakeSocketPair());
    ASSERT_TRUE(
        poller().add(EventObject::Client(pairs.back().left.get())).ok());
  }
  std::string text = poller().DebugString();
  EXPECT_FALSE(Contains(text, "more")) << text;
  EXPECT_TRUE(Contains(text, "{32 fds: ")) << text;
  for (SocketPair& pair : pairs) {
    EXPECT_TRUE(Contains(text, std::to_string(pair.left.get()) + "=client R"))
        << pair.left.get() << " missing from " << text;
  }
  pairs.push_back(MakeSocketPair());
  ASSERT_TRUE(poller().add(EventObject::Client(pairs.back().left.get())).ok());
  text = poller().DebugString();
  EXPECT_TRUE(Contains(text, "{33 fds: ")) << text;
  EXPECT_EQ(text.substr(text.size() - 13), ", ... 1 more}") << text;
}

// native_handle(): one fd, stable until destruction, owned by the poller
// (never one of the caller's registrations, never in results), readable
// while something is ready; poll: Unimplemented.
TEST_P(ContractProbeTest, NativeHandleIsStableAndNeverReported) {
  absl::StatusOr<int> handle = poller().native_handle();
  if (GetParam() == Backend::kPoll) {
    EXPECT_EQ(handle.status().code(), absl::StatusCode::kUnimplemented);
    return;
  }
  ASSERT_TRUE(handle.ok()) << handle.status();
  EXPECT_GE(*handle, 0);
  SocketPair pair = MakeSocketPair();
  ASSERT_TRUE(poller().add(EventObject::Client(pair.left.get())).ok());
  absl::StatusOr<int> again = poller().native_handle();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *handle);
  EXPECT_NE(*handle, pair.left.get());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  bool readable = false;
  for (int i = 0; i < 50 && !readable; ++i) {
    pollfd outer{*handle, POLLIN, 0};
    readable = ::poll(&outer, 1, 100) == 1 && (outer.revents & POLLIN) != 0;
  }
  EXPECT_TRUE(readable) << "native handle not readable while an fd is ready";
  ASSERT_TRUE(poller().wake().ok());
  for (int i = 0; i < 3; ++i) {
    for (const EventObject& ev : WaitEvents(poller())) {
      EXPECT_NE(ev.fd, *handle);
      EXPECT_EQ(ev.fd, pair.left.get());
    }
  }
}

// ---------------------------------------------------------------------------
// Timeouts, wake, signals
// ---------------------------------------------------------------------------

// An empty registration set: wait(0) returns at once, a timed wait runs to
// its timeout, and wake() ends a long one.
TEST_P(ContractProbeTest, EmptyPollerHonoursTimeoutsAndWake) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> empty = Make(PollerOptions{});
    ASSERT_NE(empty, nullptr);
    Stopwatch now;
    absl::StatusOr<absl::Span<const EventObject>> events = empty->wait(0);
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_TRUE(events->empty());
    EXPECT_LT(now.Elapsed(), absl::Seconds(1));

    Stopwatch timed;
    events = empty->wait(absl::Milliseconds(30));
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_TRUE(events->empty());
    EXPECT_GE(timed.Elapsed(), absl::Milliseconds(30));

    std::thread waker([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      EXPECT_TRUE(empty->wake().ok());
    });
    Stopwatch woken;
    events = empty->wait(absl::Seconds(10));
    const absl::Duration elapsed = woken.Elapsed();
    waker.join();
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_TRUE(events->empty());
    EXPECT_LT(elapsed, absl::Seconds(5)) << "wake() did not end the wait";
  });
}

// "timeouts are rounded up to the OS's precision, never down": odd
// sub-millisecond and just-over-a-millisecond timeouts.
TEST_P(ContractProbeTest, OddTimeoutsAreNeverCutShort) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> timed = Make(PollerOptions{});
    ASSERT_NE(timed, nullptr);
    SocketPair idle = MakeSocketPair();
    ASSERT_TRUE(timed->add(EventObject::Client(idle.left.get())).ok());
    for (const absl::Duration timeout :
         {absl::Nanoseconds(1), absl::Microseconds(1), absl::Microseconds(999),
          absl::Milliseconds(1) + absl::Nanoseconds(1),
          absl::Microseconds(1500), absl::Microseconds(750),
          absl::Milliseconds(7) + absl::Microseconds(3)}) {
      SCOPED_TRACE(absl::FormatDuration(timeout));
      Stopwatch stopwatch;
      absl::StatusOr<absl::Span<const EventObject>> events =
          timed->wait(timeout);
      const absl::Duration elapsed = stopwatch.Elapsed();
      ASSERT_TRUE(events.ok()) << events.status();
      EXPECT_TRUE(events->empty());
      EXPECT_GE(elapsed, timeout);
    }
  });
}

// Long finite timeouts ("anything longer than the OS can express waits
// forever") never turn into short ones: each wait lasts until the wake.
TEST_P(ContractProbeTest, HugeTimeoutsWaitUntilWoken) {
  struct Case {
    const char* what;
    std::function<absl::StatusOr<absl::Span<const EventObject>>(Poller&)> wait;
  };
  const std::vector<Case> cases = {
      {"2^32 ms + 5 ms",
       [](Poller& p) { return p.wait(absl::Milliseconds((1LL << 32) + 5)); }},
      {"INT_MAX ms + 1 ms",
       [](Poller& p) {
         return p.wait(absl::Milliseconds(std::int64_t{INT_MAX} + 1));
       }},
      {"100 years", [](Poller& p) { return p.wait(absl::Hours(24 * 36500)); }},
      {"2^62 s", [](Poller& p) { return p.wait(absl::Seconds(1LL << 62)); }},
      {"INT64_MAX ns",
       [](Poller& p) {
         return p.wait(
             absl::Nanoseconds(std::numeric_limits<std::int64_t>::max()));
       }},
      {"int INT_MAX ms", [](Poller& p) { return p.wait(INT_MAX); }},
      {"int -7 ms (forever)", [](Poller& p) { return p.wait(-7); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    OnFreshThread([&] {
      std::unique_ptr<Poller> timed = Make(PollerOptions{});
      ASSERT_NE(timed, nullptr);
      SocketPair idle = MakeSocketPair();
      ASSERT_TRUE(timed->add(EventObject::Client(idle.left.get())).ok());
      std::atomic<bool> returned{false};
      std::thread waker([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        // Bounded: keeps waking until the wait returns, at most 10 s.
        for (int i = 0; i < 100 && !returned.load(); ++i) {
          EXPECT_TRUE(timed->wake().ok());
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      });
      Stopwatch stopwatch;
      absl::StatusOr<absl::Span<const EventObject>> events = c.wait(*timed);
      const absl::Duration elapsed = stopwatch.Elapsed();
      returned = true;
      waker.join();
      ASSERT_TRUE(events.ok()) << events.status();
      EXPECT_TRUE(events->empty());
      EXPECT_GE(elapsed, absl::Milliseconds(120)) << "returned before the wake";
      EXPECT_LT(elapsed, absl::Seconds(8));
    });
  }
}

// "A zero or negative timeout polls without blocking", and a poll still
// reports what is ready.
TEST_P(ContractProbeTest, NegativeTimeoutsPollWithoutBlocking) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> polled = Make(PollerOptions{});
    ASSERT_NE(polled, nullptr);
    SocketPair pair = MakeSocketPair();
    const EventObject client = EventObject::Client(pair.left.get());
    ASSERT_TRUE(polled->add(client).ok());
    for (const absl::Duration timeout :
         {absl::ZeroDuration(), -absl::Nanoseconds(1), -absl::Seconds(1),
          -absl::InfiniteDuration()}) {
      SCOPED_TRACE(absl::FormatDuration(timeout));
      Stopwatch stopwatch;
      absl::StatusOr<absl::Span<const EventObject>> events =
          polled->wait(timeout);
      ASSERT_TRUE(events.ok()) << events.status();
      EXPECT_TRUE(events->empty());
      EXPECT_LT(stopwatch.Elapsed(), absl::Seconds(1));
    }
    ASSERT_TRUE(WriteBytes(pair.right.get()));
    for (const absl::Duration timeout :
         {-absl::Nanoseconds(1), -absl::InfiniteDuration()}) {
      SCOPED_TRACE(absl::FormatDuration(timeout));
      absl::StatusOr<absl::Span<const EventObject>> events =
          polled->wait(timeout);
      ASSERT_TRUE(events.ok()) << events.status();
      ASSERT_EQ(events->size(), 1u);
      EXPECT_EQ((*events)[0], client);
    }
  });
}

Poller* signal_target = nullptr;
std::atomic<int> handler_wakes{0};
void WakeFromHandler(int) {
  if (signal_target != nullptr && signal_target->wake().ok()) {
    handler_wakes.fetch_add(1);
  }
}

// wake(): "also safe to call from a signal handler": a handler that runs on
// another thread (so the waiting thread sees no EINTR) ends the wait, and
// one that runs before the wait makes it return promptly.
TEST_P(ContractProbeTest, WakeFromASignalHandlerEndsTheWait) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> woken = Make(PollerOptions{});
    ASSERT_NE(woken, nullptr);
    SocketPair idle = MakeSocketPair();
    ASSERT_TRUE(woken->add(EventObject::Client(idle.left.get())).ok());
    signal_target = woken.get();
    handler_wakes = 0;
    struct sigaction action {};
    action.sa_handler = WakeFromHandler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    struct sigaction previous {};
    ASSERT_EQ(::sigaction(SIGUSR2, &action, &previous), 0);

    // Before the wait: raised on this thread, handled at once.
    ASSERT_EQ(::raise(SIGUSR2), 0);
    EXPECT_EQ(handler_wakes.load(), 1);
    Stopwatch before;
    absl::StatusOr<absl::Span<const EventObject>> events =
        woken->wait(absl::Seconds(10));
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_TRUE(events->empty());
    EXPECT_LT(before.Elapsed(), absl::Seconds(5));

    // During the wait: the waiter blocks SIGUSR2, a helper raises it on
    // itself, so the handler runs there and only wake() can end the wait.
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigset_t old_mask;
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old_mask), 0);
    std::thread helper([] {
      sigset_t unblock;
      sigemptyset(&unblock);
      sigaddset(&unblock, SIGUSR2);
      ::pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::raise(SIGUSR2);
    });
    Stopwatch during;
    events = woken->wait(absl::Seconds(10));
    const absl::Duration elapsed = during.Elapsed();
    helper.join();
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    ::sigaction(SIGUSR2, &previous, nullptr);
    signal_target = nullptr;
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_TRUE(events->empty());
    EXPECT_EQ(handler_wakes.load(), 2);
    EXPECT_GE(elapsed, absl::Milliseconds(80));
    EXPECT_LT(elapsed, absl::Seconds(5)) << "the handler's wake() was lost";
  });
}

// Wakes from several threads at once coalesce too: one empty return, and
// the next wait runs to its timeout.
TEST_P(ContractProbeTest, ConcurrentWakesCoalesceIntoOne) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> woken = Make(PollerOptions{});
    ASSERT_NE(woken, nullptr);
    std::vector<std::thread> wakers;
    for (int t = 0; t < 4; ++t) {
      wakers.emplace_back([&] {
        for (int i = 0; i < 500; ++i) EXPECT_TRUE(woken->wake().ok());
      });
    }
    for (std::thread& waker : wakers) waker.join();
    Stopwatch first;
    absl::StatusOr<absl::Span<const EventObject>> events =
        woken->wait(absl::Seconds(10));
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_TRUE(events->empty());
    EXPECT_LT(first.Elapsed(), absl::Seconds(5));
    Stopwatch second;
    events = woken->wait(absl::Milliseconds(30));
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_TRUE(events->empty());
    EXPECT_GE(second.Elapsed(), absl::Milliseconds(30));
  });
}

std::atomic<int> restart_signals{0};
void CountRestartSignal(int) { restart_signals.fetch_add(1); }

// A signal whose handler has SA_RESTART still ends the wait as an
// interruption (OK, empty), and the wait is never restarted with its full
// original timeout (DESIGN.md, EINTR: "never a retry with the full
// original timeout (that waits too long)").
TEST_P(ContractProbeTest, RestartableSignalDoesNotRestartTheFullTimeout) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> waiting = Make(PollerOptions{});
    ASSERT_NE(waiting, nullptr);
    SocketPair idle = MakeSocketPair();
    ASSERT_TRUE(waiting->add(EventObject::Client(idle.left.get())).ok());
    struct sigaction action {};
    action.sa_handler = CountRestartSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    struct sigaction previous {};
    ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);
    restart_signals = 0;
    const pthread_t waiter = ::pthread_self();
    std::atomic<bool> returned{false};
    std::thread sender([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (!returned.load()) ::pthread_kill(waiter, SIGUSR1);
    });
    const absl::Duration timeout = absl::Seconds(2);
    Stopwatch stopwatch;
    absl::StatusOr<absl::Span<const EventObject>> events =
        waiting->wait(timeout);
    const absl::Duration elapsed = stopwatch.Elapsed();
    returned = true;
    sender.join();
    ::sigaction(SIGUSR1, &previous, nullptr);
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_TRUE(events->empty());
    EXPECT_EQ(restart_signals.load(), 1);
    // Either ended by the signal, or went on for the rest of the timeout:
    // never 100 ms plus the whole 2 s again.
    EXPECT_LT(elapsed, timeout + absl::Milliseconds(60))
        << "restarted with the full timeout";
  });
}

// wait(timeout, mask): the timeout still holds with a mask, and "The
// thread's own mask is back when wait returns"; kqueue: Unimplemented
// (kqueue_poller.h), with the mask untouched too.
TEST_P(ContractProbeTest, MaskedWaitKeepsTheTimeoutAndRestoresTheMask) {
  OnFreshThread([&] {
    std::unique_ptr<Poller> masked = Make(PollerOptions{});
    ASSERT_NE(masked, nullptr);
    SocketPair pair = MakeSocketPair();
    ASSERT_TRUE(masked->add(EventObject::Client(pair.left.get())).ok());
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGWINCH);
    sigset_t saved;
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &saved), 0);
    sigset_t before;
    ::pthread_sigmask(SIG_BLOCK, nullptr, &before);
    sigset_t during;
    sigemptyset(&during);
    sigaddset(&during, SIGWINCH);

    Stopwatch stopwatch;
    absl::StatusOr<absl::Span<const EventObject>> events =
        masked->wait(absl::Milliseconds(30), during);
    const absl::Duration elapsed = stopwatch.Elapsed();
    sigset_t after;
    ::pthread_sigmask(SIG_BLOCK, nullptr, &after);
    for (int s = 1; s < NSIG; ++s) {
      EXPECT_EQ(sigismember(&before, s), sigismember(&after, s))
          << "signal " << s << " mask changed";
    }
    if (GetParam() == Backend::kKqueue) {
      EXPECT_EQ(events.status().code(), absl::StatusCode::kUnimplemented);
    } else {
      ASSERT_TRUE(events.ok()) << events.status();
      EXPECT_TRUE(events->empty());
      EXPECT_GE(elapsed, absl::Milliseconds(30));
      ASSERT_TRUE(WriteBytes(pair.right.get()));
      events = masked->wait(absl::Seconds(5), during);
      ASSERT_TRUE(events.ok()) << events.status();
      EXPECT_EQ(events->size(), 1u);
    }
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, ContractProbeTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
