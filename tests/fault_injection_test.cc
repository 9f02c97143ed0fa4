// Copyright 2026 The pollio Authors.
//
// Every system call a backend makes, failed with every errno its man page
// lists (and EINTR), one fault at a time (issue 15: "a failed call changes
// nothing, and nothing is lost").
//
// The calls are wrapped at link time (tests/fault_injection.h): the backends
// are the production objects, unchanged. For each backend and each scenario
// below (Create, add, modify, del, wait, wake, native_handle and
// ReinitAfterFork from a known registration state), a clean run counts the
// calls of each wrapped function; then, for each function the backend
// calls, each of those calls k and each errno e, a fresh world runs the same
// scenario with call k failing with e, and checks afterwards:
//
//   * the status: OK, or an error whose message names the system call (its
//     man-page name, or the liburing function) and, for add, modify and del,
//     the fd ("fd=7"), whose errno payload is e, and which leaked no fd;
//     never an error for EINTR from wait;
//   * the table equals the kernel: size(), find() and for_each() match the
//     model (unchanged after an error, changed after OK), and a probe (every
//     fd made readable, then waits) reports exactly the registered and armed
//     fds, each with its kind and token, and nothing else;
//   * nothing ready is lost: readiness that was pending before the fault (a
//     level fd with data, an edge not yet collected, an armed oneshot) is
//     still reported by the waits after it;
//   * later calls succeed: after an error, the same call again without the
//     fault succeeds and does what it should.
//
// Where a backend documents that a failure cannot leave the state exactly as
// it was, or that an errno means something (EBADF or ENOENT from a delete:
// the fd was closed, and the registration is gone with it), the check is the
// documented behaviour; Interpret() lists each such case and the header
// sentence it rests on. Each backend runs in its own process
// (//tests:fault_injection_<backend>_test): a UringPoller's teardown changes
// how an epoll wait on the same thread waits for a second
// (backends/internal/teardown_interrupt.h), which would change the calls
// counted.
//
// The kqueue backend runs over the Linux emulation: its calls are kqueue()
// and kevent(), and kevent faults come in two forms, the call failing, and
// one change of the changelist refused in its EV_RECEIPT row while the
// others are applied ("a kevent receipt carrying an error for one filter of
// two").
//
// The counts (faults injected, errors returned, faults absorbed, divergences)
// are printed per backend and per scenario; docs/reliability.md carries them.

#include "tests/fault_injection.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "backends/epoll/epoll_poller.h"
#include "backends/poll/poll_poller.h"
#include "backends/uring/uring_poller.h"
#include "event/event.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::Drain;
using ::pollio::testing::Fault;
using ::pollio::testing::FaultInjector;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;
using ::pollio::testing::Stopwatch;
using ::pollio::testing::Sys;
using ::pollio::testing::SysName;
using ::pollio::testing::WriteBytes;

constexpr int kSysCount = static_cast<int>(Sys::kCount);

// --- What is walked ---------------------------------------------------------

// The errnos each function's man page lists, plus EINTR everywhere.
std::vector<int> ManPageErrors(Sys sys) {
  switch (sys) {
    case Sys::kEpollCreate1:  // epoll_create(2)
      return {EINVAL, EMFILE, ENFILE, ENOMEM, EINTR};
    case Sys::kEpollCtl:  // epoll_ctl(2)
      return {EBADF,  EEXIST, EINVAL, ELOOP, ENOENT,
              ENOMEM, ENOSPC, EPERM,  EINTR};
    case Sys::kEpollPwait:  // epoll_wait(2)
    case Sys::kEpollPwait2:
      return {EBADF, EFAULT, EINTR, EINVAL};
    case Sys::kEventfd:  // eventfd(2)
      return {EINVAL, EMFILE, ENFILE, ENODEV, ENOMEM, EINTR};
    case Sys::kRead:  // read(2)
      return {EAGAIN, EBADF, EFAULT, EINTR, EINVAL, EIO, EISDIR};
    case Sys::kWrite:  // write(2)
      return {EAGAIN, EBADF,  EDESTADDRREQ, EDQUOT, EFAULT, EFBIG,
              EINTR,  EINVAL, EIO,          ENOSPC, EPERM,  EPIPE};
    case Sys::kOpen:  // open(2)
      return {EACCES,     EBUSY,        EDQUOT,  EEXIST,  EFAULT,
              EFBIG,      EINTR,        EINVAL,  EISDIR,  ELOOP,
              EMFILE,     ENAMETOOLONG, ENFILE,  ENODEV,  ENOENT,
              ENOMEM,     ENOSPC,       ENOTDIR, ENXIO,   EPERM,
              EOPNOTSUPP, EOVERFLOW,    EROFS,   ETXTBSY, EWOULDBLOCK};
    case Sys::kPpoll:  // poll(2)
      return {EFAULT, EINTR, EINVAL, ENOMEM};
    case Sys::kFcntl:  // fcntl(2)
      return {EACCES, EAGAIN, EBADF,  EBUSY,  EDEADLK, EFAULT,
              EINTR,  EINVAL, EMFILE, ENOLCK, ENOTDIR, EPERM};
    case Sys::kPthreadCreate:  // pthread_create(3)
      return {EAGAIN, EINVAL, EPERM};
    case Sys::kClone:  // clone(2)
      return {EAGAIN, EINVAL, ENOMEM, ENOSPC, EPERM, EUSERS};
    case Sys::kKqueue:  // kqueue(2)
      return {EMFILE, ENFILE, ENOMEM, EINTR};
    case Sys::kKevent:  // kevent(2)
      return {EACCES, EFAULT, EBADF, EINTR, EINVAL, ENOENT, ENOMEM, ESRCH};
    case Sys::kIoUringQueueInitParams:  // io_uring_setup(2)
      return {EFAULT, EINVAL, EMFILE, ENFILE, ENOMEM, EPERM, ENOSYS, EINTR};
    case Sys::kIoUringSubmit:  // io_uring_enter(2)
    case Sys::kIoUringSubmitAndWaitTimeout:
    case Sys::kIoUringSubmitAndGetEvents:
    case Sys::kIoUringGetEvents:
      return {EAGAIN, EBADF,  EBADFD, EBUSY,      EEXIST,
              EFAULT, EINVAL, ENXIO,  EOPNOTSUPP, EINTR};
    case Sys::kIoUringRegisterEventfd:  // io_uring_register(2)
    case Sys::kIoUringRegisterSyscall:
      return {EACCES, EBADF,  EBUSY, EEXIST,     EFAULT, EINVAL,
              EMFILE, ENOMEM, ENXIO, EOPNOTSUPP, EINTR};
    case Sys::kCount:
      break;
  }
  return {};
}

// What an EV_RECEIPT row may carry for one change (kevent(2)'s errors that
// concern a change rather than the call).
const std::vector<int>& ReceiptErrors() {
  static const auto* errors =
      new std::vector<int>{EACCES, EBADF, EINVAL, ENOENT, ENOMEM, ESRCH};
  return *errors;
}

// The names a status may give the failed call: the system call's, or the
// liburing function's that made it.
std::vector<std::string_view> NamesInMessage(Sys sys) {
  switch (sys) {
    case Sys::kIoUringQueueInitParams:
      return {"io_uring_setup", "io_uring_queue_init_params"};
    case Sys::kIoUringSubmit:
      return {"io_uring_enter", "io_uring_submit"};
    case Sys::kIoUringSubmitAndWaitTimeout:
    case Sys::kIoUringSubmitAndGetEvents:
    case Sys::kIoUringGetEvents:
      return {"io_uring_enter"};
    case Sys::kIoUringRegisterEventfd:
    case Sys::kIoUringRegisterSyscall:
      return {"io_uring_register"};
    default:
      return {SysName(sys)};
  }
}

// The functions each backend calls, the ones walked. (The kqueue
// emulation's own epoll calls are the kernel there, not the backend.)
std::vector<Sys> WalkedCalls(Backend backend) {
  switch (backend) {
    case Backend::kEpoll:
      return {Sys::kEpollCreate1, Sys::kEpollCtl, Sys::kEpollPwait,
              Sys::kEpollPwait2,  Sys::kEventfd,  Sys::kRead,
              Sys::kWrite,        Sys::kOpen,     Sys::kPpoll};
    case Backend::kPoll:
      return {Sys::kEventfd, Sys::kFcntl, Sys::kPpoll, Sys::kRead, Sys::kWrite};
    case Backend::kUring:
      return {Sys::kEventfd,
              Sys::kFcntl,
              Sys::kRead,
              Sys::kWrite,
              Sys::kPthreadCreate,
              Sys::kClone,
              Sys::kIoUringQueueInitParams,
              Sys::kIoUringSubmit,
              Sys::kIoUringSubmitAndWaitTimeout,
              Sys::kIoUringSubmitAndGetEvents,
              Sys::kIoUringGetEvents,
              Sys::kIoUringRegisterEventfd,
              Sys::kIoUringRegisterSyscall};
    case Backend::kKqueue:
      return {Sys::kKqueue, Sys::kKevent};
  }
  return {};
}

std::string FaultString(const Fault& fault) {
  std::string text =
      absl::StrCat(std::string(SysName(fault.sys)), " #", fault.nth, " ",
                   fault.error == 0 ? "" : std::strerror(fault.error));
  if (fault.receipt_index >= 0) {
    absl::StrAppend(&text, " in the receipt of change ", fault.receipt_index);
  }
  return text;
}

absl::StatusOr<std::unique_ptr<Poller>> NewBackend(Backend backend) {
  switch (backend) {
    case Backend::kEpoll: {
      absl::StatusOr<std::unique_ptr<EpollPoller>> poller =
          EpollPoller::Create();
      if (!poller.ok()) return poller.status();
      return std::unique_ptr<Poller>(std::move(*poller));
    }
    case Backend::kPoll: {
      absl::StatusOr<std::unique_ptr<PollPoller>> poller = PollPoller::Create();
      if (!poller.ok()) return poller.status();
      return std::unique_ptr<Poller>(std::move(*poller));
    }
    case Backend::kUring: {
      // A small submission queue, so that the paths that flush a full one
      // are reached with a few registrations.
      UringPoller::RingOptions ring_options;
      ring_options.submission_entries = 8;
      absl::StatusOr<std::unique_ptr<UringPoller>> poller =
          UringPoller::Create({}, ring_options);
      if (!poller.ok()) return poller.status();
      return std::unique_ptr<Poller>(std::move(*poller));
    }
    case Backend::kKqueue:
      return NewPoller(Backend::kKqueue);  // the emulated build
  }
  return absl::InvalidArgumentError("backend");
}

int OpenFds() {
  int count = 0;
  DIR* directory = ::opendir("/proc/self/fd");
  if (directory == nullptr) return -1;
  while (::readdir(directory) != nullptr) ++count;
  ::closedir(directory);
  return count;
}

// Fills `fd`'s send buffer, so that it is not writable until its peer reads.
void FillSendBuffer(int fd) {
  static const std::string chunk(65536, 'f');
  for (std::size_t size = chunk.size(); size > 0; size /= 2) {
    while (::write(fd, chunk.data(), size) > 0) {
    }
  }
}

// --- The world: registrations in known states, and their model -------------

// The slots: socketpairs whose `left` end the poller registers (or not).
enum : int {
  kA,  // level R, pending data
  kB,  // edge R (level on poll), an edge not yet collected
  kC,  // oneshot R, armed, pending data
  kD,  // not registered; send buffer full (the target of add)
  kE,  // oneshot R that fired: silent until modify
  kF,  // level R|W, send buffer full (two kqueue filters)
  kG,  // exclusive R
  kH,  // oneshot R|W, armed, send buffer full, pending data
  kBaseSlots,
};
constexpr int kExtras = 12;

struct Slot {
  SocketPair pair;
  std::optional<Registration> reg;  // what the table must hold
  bool pending = false;             // readiness the poller has not reported yet
  bool fired = false;  // a oneshot that reported since it was armed
  // Documented departures (Interpret()): the kernel may still hold a
  // registration the table forgot (its events come with token 0); the
  // table holds one the kernel may not (the probe may not see it); a fired
  // oneshot may have been armed again (reported once more).
  bool ghost = false;
  bool may_miss = false;
  bool may_repeat = false;
};

struct WorldSetup {
  bool pending = true;  // A, B, C and H have data the poller has not reported
  enum Extras { kNone, kPairsOnly, kRegistered } extras = kNone;
  bool fresh = false;  // only A, added to a new poller, never waited for
};

class World {
 public:
  World(Backend backend, std::string context,
        std::vector<std::string>* divergences)
      : backend_(backend),
        context_(std::move(context)),
        divergences_(divergences) {}

  Backend backend() const { return backend_; }
  Poller& poller() { return *poller_; }
  std::unique_ptr<Poller>& poller_ptr() { return poller_; }
  std::vector<Slot>& slots() { return slots_; }
  Slot& slot(int index) { return slots_[static_cast<std::size_t>(index)]; }
  int fd(int index) { return slot(index).pair.left.get(); }

  void set_divergences(std::vector<std::string>* divergences,
                       std::string prefix) {
    divergences_ = divergences;
    context_ = prefix + context_;
  }

  void Diverge(const std::string& what) {
    divergences_->push_back(absl::StrCat(context_, ": ", what));
  }

  // Creates the poller (or takes `poller`) and the registrations.
  bool Build(const WorldSetup& setup, std::unique_ptr<Poller> poller = nullptr);

  // add / modify / del outside the fault, with the model kept in step.
  void Add(int index, int kind, Events interest, std::uint64_t token,
           Trigger trigger);
  void Modify(int index, int kind, Events interest, std::uint64_t token,
              Trigger trigger);
  void Del(int index);

  void Registered(int index, const EventObject& ev, Trigger trigger) {
    Slot& s = slot(index);
    s.reg = Registration{ev.fd, ev.kind, ev.events, trigger, ev.token};
    s.fired = false;
    s.may_repeat = false;
    s.may_miss = false;
  }
  void Unregistered(int index) {
    Slot& s = slot(index);
    s.reg.reset();
    s.fired = false;
    s.may_repeat = false;
    s.may_miss = false;
  }

  // One result of a wait, checked against the model.
  void Observe(const EventObject& ev, std::set<int>* seen);

  // Waits until every slot in `expected` was reported (a bound on the
  // rounds), then once more without blocking; each result through Observe.
  void Collect(const std::set<int>& expected, std::set<int>* seen,
               const std::string& what);

  // The slots whose registration must be reported once readable: read
  // interest, armed, and not left out of the kernel by a documented case.
  std::set<int> MustReport(bool pending_only);

  // size(), find() and for_each() against the model.
  void CheckTable();
  // Readiness pending before the fault is reported.
  void CheckPending();
  // Every fd made readable: exactly the armed registrations are reported.
  void Probe(const std::string& what);
  void DrainAll();

 private:
  int SlotOf(int fd);

  Backend backend_;
  std::string context_;
  std::vector<std::string>* divergences_;
  std::unique_ptr<Poller> poller_;
  std::vector<Slot> slots_;
};

Trigger EdgeOr(Backend backend) {
  return backend == Backend::kPoll ? Trigger::kLevel : Trigger::kEdge;
}

bool World::Build(const WorldSetup& setup, std::unique_ptr<Poller> poller) {
  if (poller == nullptr) {
    absl::StatusOr<std::unique_ptr<Poller>> created = NewBackend(backend_);
    if (!created.ok()) {
      Diverge(absl::StrCat("set-up: Create: ", created.status().ToString()));
      return false;
    }
    poller = *std::move(created);
  }
  poller_ = std::move(poller);
  const int extras = setup.extras == WorldSetup::kNone ? 0 : kExtras;
  slots_.resize(static_cast<std::size_t>(kBaseSlots + extras));
  for (Slot& s : slots_) s.pair = MakeSocketPair();
  if (setup.fresh) {
    Add(kA, 1, Events::kReadable, 101, Trigger::kLevel);
    if (setup.pending) {
      WriteBytes(slot(kA).pair.right.get());
      slot(kA).pending = true;
    }
    return true;
  }
  for (const int index : {kD, kF, kH}) FillSendBuffer(fd(index));
  const Events rw = Events::kReadable | Events::kWritable;
  Add(kA, 1, Events::kReadable, 101, Trigger::kLevel);
  Add(kB, 2, Events::kReadable, 102, EdgeOr(backend_));
  Add(kC, 3, Events::kReadable, 103, Trigger::kOneshot);
  Add(kE, 5, Events::kReadable, 105, Trigger::kOneshot);
  Add(kF, 6, rw, 106, Trigger::kLevel);
  Add(kG, 7, Events::kReadable, 107, Trigger::kExclusive);
  Add(kH, 8, rw, 108, Trigger::kOneshot);
  if (setup.extras == WorldSetup::kRegistered) {
    for (int i = 0; i < kExtras; ++i) {
      Add(kBaseSlots + i, 20 + i, Events::kReadable,
          static_cast<std::uint64_t>(200 + i), Trigger::kLevel);
    }
  }
  // Fire E's oneshot (and arm everything in the kernel: io_uring submits
  // only at a wait).
  WriteBytes(slot(kE).pair.right.get());
  slot(kE).pending = true;
  std::set<int> seen;
  Collect({kE}, &seen, "set-up");
  DrainAll();
  if (setup.pending) {
    for (const int index : {kA, kB, kC, kH}) {
      WriteBytes(slot(index).pair.right.get());
      slot(index).pending = true;
    }
  }
  return true;
}

void World::Add(int index, int kind, Events interest, std::uint64_t token,
                Trigger trigger) {
  const EventObject ev{fd(index), static_cast<EventKind>(kind), interest,
                       token};
  if (absl::Status status = poller_->add(ev, trigger); !status.ok()) {
    Diverge(absl::StrCat("set-up: add: ", status.ToString()));
    return;
  }
  Registered(index, ev, trigger);
}

void World::Modify(int index, int kind, Events interest, std::uint64_t token,
                   Trigger trigger) {
  const EventObject ev{fd(index), static_cast<EventKind>(kind), interest,
                       token};
  if (absl::Status status = poller_->modify(ev, trigger); !status.ok()) {
    Diverge(absl::StrCat("set-up: modify: ", status.ToString()));
    return;
  }
  Registered(index, ev, trigger);
}

void World::Del(int index) {
  if (absl::Status status = poller_->del(fd(index)); !status.ok()) {
    Diverge(absl::StrCat("set-up: del: ", status.ToString()));
    return;
  }
  Unregistered(index);
}

int World::SlotOf(int fd) {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].pair.left.get() == fd) return static_cast<int>(i);
  }
  return -1;
}

void World::Observe(const EventObject& ev, std::set<int>* seen) {
  if (ev.fd < 0) return;  // scrubbed by a del in this batch
  const int index = SlotOf(ev.fd);
  if (index < 0) {
    Diverge(absl::StrCat("reported fd ", ev.fd, ", which is none of ours"));
    return;
  }
  Slot& s = slot(index);
  if (!s.reg.has_value()) {
    if (s.ghost && ev.token == 0) return;  // documented: see Interpret()
    Diverge(absl::StrCat("reported fd ", ev.fd, " (slot ", index,
                         "), which is not registered (token ", ev.token, ")"));
    return;
  }
  if (ev.kind != s.reg->kind || ev.token != s.reg->token) {
    Diverge(absl::StrCat("fd ", ev.fd, " (slot ", index, ") reported kind ",
                         static_cast<int>(ev.kind), " token ", ev.token,
                         ", registered kind ", static_cast<int>(s.reg->kind),
                         " token ", s.reg->token));
  }
  if (s.reg->trigger == Trigger::kOneshot) {
    if (s.fired && !s.may_repeat) {
      Diverge(absl::StrCat("fd ", ev.fd, " (slot ", index,
                           "): a oneshot that fired was reported again"));
    }
    if (s.fired) s.may_repeat = false;  // that was the once more
    s.fired = true;
  }
  s.pending = false;
  seen->insert(index);
}

std::set<int> World::MustReport(bool pending_only) {
  std::set<int> out;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.reg.has_value() || s.may_miss ||
        !Has(s.reg->interest, Events::kReadable)) {
      continue;
    }
    if (s.reg->trigger == Trigger::kOneshot && s.fired) continue;
    if (pending_only && !s.pending) continue;
    out.insert(static_cast<int>(i));
  }
  return out;
}

void World::Collect(const std::set<int>& expected, std::set<int>* seen,
                    const std::string& what) {
  const auto all_seen = [&] {
    return std::includes(seen->begin(), seen->end(), expected.begin(),
                         expected.end());
  };
  for (int round = 0; round < 15 && !all_seen(); ++round) {
    absl::StatusOr<absl::Span<const EventObject>> events =
        poller_->wait(absl::Milliseconds(20));
    if (!events.ok()) {
      Diverge(
          absl::StrCat(what, ": wait failed: ", events.status().ToString()));
      return;
    }
    for (const EventObject& ev : *events) Observe(ev, seen);
  }
  // Once more: whatever should not be there would be by now.
  absl::StatusOr<absl::Span<const EventObject>> events = poller_->wait(0);
  if (!events.ok()) {
    Diverge(absl::StrCat(what, ": wait failed: ", events.status().ToString()));
    return;
  }
  for (const EventObject& ev : *events) Observe(ev, seen);
  for (const int index : expected) {
    if (seen->count(index) == 0) {
      Diverge(absl::StrCat(what, ": fd ", fd(index), " (slot ", index,
                           ") is registered and readable but was not "
                           "reported"));
    }
  }
}

void World::CheckTable() {
  std::size_t registered = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    const absl::StatusOr<Registration> found = poller_->find(s.pair.left.get());
    if (s.reg.has_value()) {
      ++registered;
      if (!found.ok()) {
        Diverge(absl::StrCat("find(fd=", s.pair.left.get(), ") (slot ", i,
                             "): ", found.status().ToString(),
                             ", but it should be registered"));
      } else if (found->kind != s.reg->kind ||
                 found->interest != s.reg->interest ||
                 found->trigger != s.reg->trigger ||
                 found->token != s.reg->token) {
        Diverge(absl::StrCat("find(fd=", s.pair.left.get(), ") (slot ", i,
                             ") is not the registration it should be"));
      }
    } else if (found.status().code() != absl::StatusCode::kNotFound) {
      Diverge(absl::StrCat("find(fd=", s.pair.left.get(), ") (slot ", i,
                           "): ", found.status().ToString(),
                           ", but it should not be registered"));
    }
  }
  if (poller_->size() != registered) {
    Diverge(absl::StrCat("size() is ", poller_->size(), ", the model has ",
                         registered));
  }
  std::size_t visited = 0;
  poller_->for_each([&](const Registration&) { ++visited; });
  if (visited != registered) {
    Diverge(absl::StrCat("for_each visits ", visited, ", the model has ",
                         registered));
  }
}

void World::CheckPending() {
  std::set<int> seen;
  Collect(MustReport(/*pending_only=*/true), &seen,
          "readiness from before the fault");
  DrainAll();
}

void World::Probe(const std::string& what) {
  for (Slot& s : slots_) {
    WriteBytes(s.pair.right.get());
    s.pending = true;
  }
  std::set<int> seen;
  Collect(MustReport(/*pending_only=*/false), &seen, what);
  DrainAll();
}

void World::DrainAll() {
  for (Slot& s : slots_) {
    Drain(s.pair.left.get());
    s.pending = false;
  }
}

// --- Scenarios
// ----------------------------------------------------------------

enum class Op {
  kCreate,
  kAdd,
  kModify,
  kDel,
  kWait,
  kWake,
  kNativeHandle,
  kReinitAfterFork,
};

struct OpResult {
  absl::Status status;
  std::vector<EventObject> events;  // wait
  int handle = -1;                  // native_handle
};

struct Scenario {
  std::string name;
  Op op;
  WorldSetup setup;
  int target = -1;  // the slot of add, modify, del
  int kind = 0;
  Events interest = Events::kReadable;
  std::uint64_t token = 0;
  Trigger trigger = Trigger::kLevel;
  bool edge = false;  // trigger is kEdge (poll: not run)
  absl::Duration timeout = absl::ZeroDuration();
  bool mask = false;  // wait(timeout, mask)
  // epoll: a modify into, out of or within kExclusive (EPOLL_CTL_DEL + ADD).
  bool readd = false;
  std::function<void(World&)> prepare;  // after the set-up, unfaulted
  std::function<bool(Backend)> applies;
  // Extra checks after the status and table checks.
  std::function<void(World&, const OpResult&, const std::optional<Fault>&)>
      verify;
};

Trigger TriggerOf(const Scenario& s, Backend backend) {
  return s.edge ? EdgeOr(backend) : s.trigger;
}

OpResult RunOp(World& w, const Scenario& s) {
  OpResult result;
  const EventObject ev{s.target >= 0 ? w.fd(s.target) : -1,
                       static_cast<EventKind>(s.kind), s.interest, s.token};
  switch (s.op) {
    case Op::kAdd:
      result.status = w.poller().add(ev, TriggerOf(s, w.backend()));
      break;
    case Op::kModify:
      result.status = w.poller().modify(ev, TriggerOf(s, w.backend()));
      break;
    case Op::kDel:
      result.status = w.poller().del(ev.fd);
      break;
    case Op::kWait: {
      sigset_t mask;
      ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
      absl::StatusOr<absl::Span<const EventObject>> events =
          s.mask ? w.poller().wait(s.timeout, mask)
                 : w.poller().wait(s.timeout);
      result.status = events.status();
      if (events.ok()) result.events.assign(events->begin(), events->end());
      break;
    }
    case Op::kWake:
      result.status = w.poller().wake();
      break;
    case Op::kNativeHandle: {
      absl::StatusOr<int> handle = w.poller().native_handle();
      result.status = handle.status();
      if (handle.ok()) result.handle = *handle;
      break;
    }
    case Op::kCreate:
    case Op::kReinitAfterFork:
      break;  // run by their own runners
  }
  return result;
}

// The model after `s` succeeded.
void ApplySuccess(World& w, const Scenario& s, const OpResult& result) {
  switch (s.op) {
    case Op::kAdd:
    case Op::kModify:
      w.Registered(s.target,
                   EventObject{w.fd(s.target), static_cast<EventKind>(s.kind),
                               s.interest, s.token},
                   TriggerOf(s, w.backend()));
      break;
    case Op::kDel:
      w.Unregistered(s.target);
      break;
    case Op::kWait: {
      std::set<int> seen;
      for (const EventObject& ev : result.events) w.Observe(ev, &seen);
      break;
    }
    default:
      break;
  }
}

// The wait that follows a wake returns at once.
void VerifyWake(World& w, const OpResult& result,
                const std::optional<Fault>& fault) {
  if (!result.status.ok()) return;
  // EAGAIN from the eventfd write means its counter is full, so the fd is
  // readable already (backends/internal/wake_fd.h); an injected one wrote
  // nothing, so there is no wake to see.
  if (fault.has_value() && fault->sys == Sys::kWrite &&
      fault->error == EAGAIN) {
    return;
  }
  const Stopwatch stopwatch;
  absl::StatusOr<absl::Span<const EventObject>> events =
      w.poller().wait(absl::Seconds(2));
  if (!events.ok()) {
    w.Diverge(absl::StrCat("wait after wake(): ", events.status().ToString()));
  } else if (stopwatch.Elapsed() > absl::Seconds(1)) {
    w.Diverge("wake() returned OK, but the next wait was not woken");
  }
}

// A poller nested in poll(2): the handle becomes readable when the fd that
// was added just before native_handle() (D) becomes readable.
void VerifyNested(World& w, const OpResult& result,
                  const std::optional<Fault>& /*fault*/) {
  if (!result.status.ok()) return;
  WriteBytes(w.slot(kD).pair.right.get());
  w.slot(kD).pending = true;
  pollfd outer{result.handle, POLLIN, 0};
  if (::poll(&outer, 1, 500) != 1) {
    w.Diverge(
        "native_handle(): the handle did not become readable when a "
        "registered fd did");
  }
}

// A scenario of `op`, from `setup`.
Scenario On(std::string name, Op op, WorldSetup setup = {}) {
  Scenario s;
  s.name = std::move(name);
  s.op = op;
  s.setup = setup;
  return s;
}

// add or modify of slot `target` to (kind, interest, token, trigger).
Scenario Change(std::string name, Op op, int target, int kind, Events interest,
                std::uint64_t token, Trigger trigger, WorldSetup setup = {}) {
  Scenario s = On(std::move(name), op, setup);
  s.target = target;
  s.kind = kind;
  s.interest = interest;
  s.token = token;
  s.trigger = trigger;
  // kEdge: not on poll. kExclusive involved: epoll's DEL + ADD.
  s.edge = trigger == Trigger::kEdge;
  return s;
}

Scenario Del(std::string name, int target, WorldSetup setup = {}) {
  Scenario s = On(std::move(name), Op::kDel, setup);
  s.target = target;
  return s;
}

std::vector<Scenario> Scenarios() {
  const Events r = Events::kReadable;
  const Events rw = Events::kReadable | Events::kWritable;
  WorldSetup quiet;
  quiet.pending = false;
  WorldSetup extras;
  extras.extras = WorldSetup::kRegistered;
  WorldSetup extra_pairs;
  extra_pairs.extras = WorldSetup::kPairsOnly;
  WorldSetup fresh;
  fresh.fresh = true;
  const auto add_d = [](World& w) {
    w.Add(kD, 4, Events::kReadable, 104, Trigger::kLevel);
  };
  // Eight modifies of armed polls: on io_uring, eight cancels fill the
  // eight-entry submission queue, so the next change must flush it.
  const auto fill_submission_queue = [](World& w) {
    for (int i = 0; i < 8; ++i) {
      w.Modify(kBaseSlots + i, 40 + i, Events::kReadable,
               static_cast<std::uint64_t>(400 + i), Trigger::kLevel);
    }
  };

  std::vector<Scenario> out;
  out.push_back(On("Create", Op::kCreate, quiet));
  out.push_back(
      Change("add(level R)", Op::kAdd, kD, 4, r, 104, Trigger::kLevel));
  out.push_back(Change("add(edge R)", Op::kAdd, kD, 4, r, 104, Trigger::kEdge));
  out.push_back(
      Change("add(oneshot R)", Op::kAdd, kD, 4, r, 104, Trigger::kOneshot));
  out.push_back(
      Change("add(level R|W)", Op::kAdd, kD, 4, rw, 104, Trigger::kLevel));
  out.push_back(
      Change("add(exclusive R)", Op::kAdd, kD, 4, r, 104, Trigger::kExclusive));
  out.push_back(Change("modify(level -> edge, new kind and token)", Op::kModify,
                       kA, 11, r, 111, Trigger::kEdge));
  out.push_back(Change("modify(level -> oneshot)", Op::kModify, kA, 11, r, 111,
                       Trigger::kOneshot));
  out.push_back(Change("modify(level R -> R|W)", Op::kModify, kA, 1, rw, 101,
                       Trigger::kLevel));
  out.push_back(Change("modify(level R|W -> R)", Op::kModify, kF, 6, r, 106,
                       Trigger::kLevel));
  out.push_back(Change("modify(fired oneshot: re-arm)", Op::kModify, kE, 5, r,
                       105, Trigger::kOneshot));
  out.push_back(Change("modify(fired oneshot R -> oneshot R|W)", Op::kModify,
                       kE, 5, rw, 105, Trigger::kOneshot));
  out.push_back(Change("modify(armed oneshot -> level)", Op::kModify, kC, 3, r,
                       103, Trigger::kLevel));
  out.push_back(Change("modify(edge -> level)", Op::kModify, kB, 2, r, 102,
                       Trigger::kLevel));
  out.push_back(Change("modify(level -> exclusive)", Op::kModify, kA, 1, r, 101,
                       Trigger::kExclusive));
  out.back().readd = true;
  out.push_back(Change("modify(exclusive -> level)", Op::kModify, kG, 7, r, 107,
                       Trigger::kLevel));
  out.back().readd = true;
  out.push_back(Change("modify(fired oneshot -> exclusive)", Op::kModify, kE, 5,
                       r, 105, Trigger::kExclusive));
  out.back().readd = true;
  out.push_back(Del("del(level)", kA));
  out.push_back(Del("del(edge)", kB));
  out.push_back(Del("del(armed oneshot)", kC));
  out.push_back(Del("del(fired oneshot)", kE));
  out.push_back(Del("del(level R|W)", kF));
  out.push_back(Del("del(armed oneshot R|W)", kH));
  out.push_back(Del("del(exclusive)", kG));
  out.push_back(Del("del(added since the last wait)", kD));
  out.back().prepare = add_d;

  out.push_back(On("wait(0), readiness pending", Op::kWait));
  out.push_back(On("wait(5 s) after wake()", Op::kWait, quiet));
  out.back().timeout = absl::Seconds(5);
  out.back().prepare = [](World& w) { (void)w.poller().wake(); };
  out.push_back(On("wait(5 ms), nothing ready", Op::kWait, quiet));
  out.back().timeout = absl::Milliseconds(5);
  out.push_back(On("wait(5 ms, mask), nothing ready", Op::kWait, quiet));
  out.back().timeout = absl::Milliseconds(5);
  out.back().mask = true;
  out.push_back(On("wait(0, mask), readiness pending", Op::kWait));
  out.back().mask = true;
  out.push_back(On("wait(0) after a modify and a del", Op::kWait));
  out.back().prepare = [](World& w) {
    w.Modify(kA, 11, Events::kReadable, 111, EdgeOr(w.backend()));
    w.Del(kB);
  };
  out.push_back(On("wait(0) after 12 adds", Op::kWait, extra_pairs));
  out.back().prepare = [](World& w) {
    for (int i = 0; i < kExtras; ++i) {
      w.Add(kBaseSlots + i, 20 + i, Events::kReadable,
            static_cast<std::uint64_t>(200 + i), Trigger::kLevel);
    }
  };
  out.push_back(Change("modify with a full submission queue", Op::kModify, kA,
                       11, r, 111, Trigger::kLevel, extras));
  out.back().prepare = fill_submission_queue;
  out.push_back(Del("del with a full submission queue", kA, extras));
  out.back().prepare = fill_submission_queue;
  out.push_back(On("first wait of a new poller", Op::kWait, fresh));
  out.push_back(On("wake()", Op::kWake, quiet));
  out.back().verify = VerifyWake;
  out.push_back(On("native_handle()", Op::kNativeHandle, quiet));
  out.back().prepare = add_d;
  out.back().verify = VerifyNested;
  out.back().applies = [](Backend b) { return b != Backend::kPoll; };
  out.push_back(On("ReinitAfterFork()", Op::kReinitAfterFork, quiet));
  // Last: the epoll wait's restartable ppoll path, taken for a second after
  // a ring torn down on this thread announced the interruption it causes.
  out.push_back(
      On("wait(0) within a second of a UringPoller's teardown", Op::kWait));
  out.back().applies = [](Backend b) { return b == Backend::kEpoll; };
  out.back().prepare = [](World& w) {
    absl::StatusOr<std::unique_ptr<UringPoller>> ring = UringPoller::Create();
    if (!ring.ok()) {
      w.Diverge(absl::StrCat("set-up: ", ring.status().ToString()));
      return;
    }
    (void)(*ring)->wait(0);  // links this thread to the ring
  };
  for (Scenario& s : out) {
    if (s.edge) {
      s.applies = [](Backend b) { return b != Backend::kPoll; };
    }
    if (s.mask) {
      s.applies = [](Backend b) { return b != Backend::kKqueue; };
    }
  }
  return out;
}

// --- Running one case
// -----------------------------------------------------------

struct CleanCounts {
  std::array<int, kSysCount> calls{};
  std::vector<int> receipts;  // per kevent call: changes with EV_RECEIPT
};

CleanCounts TakeCounts() {
  CleanCounts counts;
  for (int i = 0; i < kSysCount; ++i) {
    counts.calls[static_cast<std::size_t>(i)] =
        FaultInjector::Calls(static_cast<Sys>(i));
  }
  for (int i = 0; i < counts.calls[static_cast<int>(Sys::kKevent)]; ++i) {
    counts.receipts.push_back(FaultInjector::KeventReceiptChanges(i));
  }
  return counts;
}

struct Tally {
  int call_sites = 0;
  int injected = 0;
  int not_fired = 0;
  int errors = 0;
  int absorbed = 0;
  std::vector<std::string> divergences;
};

bool IsWait(const Scenario& s) { return s.op == Op::kWait; }

// The status after the fault: OK, or an error that names the call and the
// fd and carries the errno.
void CheckStatus(World& w, const Scenario& s, const std::optional<Fault>& fault,
                 const absl::Status& status, int fds_before, Tally& tally) {
  if (!fault.has_value()) {
    if (!status.ok()) {
      w.Diverge(absl::StrCat("failed without a fault: ", status.ToString()));
    }
    return;
  }
  if (status.ok()) {
    ++tally.absorbed;
    return;
  }
  ++tally.errors;
  const std::string message(status.message());
  bool named = false;
  for (const std::string_view name : NamesInMessage(fault->sys)) {
    named = named || message.find(name) != std::string::npos;
  }
  if (!named) {
    w.Diverge(
        absl::StrCat("the status does not name the call: ", status.ToString()));
  }
  if ((s.op == Op::kAdd || s.op == Op::kModify || s.op == Op::kDel) &&
      !absl::StrContains(message, absl::StrCat("fd=", w.fd(s.target)))) {
    w.Diverge(absl::StrCat("the status does not name fd=", w.fd(s.target), ": ",
                           status.ToString()));
  }
  if ((IsWait(s) || s.op == Op::kWake) && w.backend() != Backend::kPoll &&
      !absl::StrContains(message, "fd=")) {
    w.Diverge(absl::StrCat("the status does not name the poller's fd: ",
                           status.ToString()));
  }
  if (s.op == Op::kReinitAfterFork &&
      !absl::StrContains(message, "ReinitAfterFork")) {
    w.Diverge(absl::StrCat("the status does not name ReinitAfterFork: ",
                           status.ToString()));
  }
  const std::optional<int> error_number = ErrnoFromStatus(status);
  if (error_number != fault->error &&
      status.code() != absl::StatusCode::kUnavailable) {
    w.Diverge(absl::StrCat("the status carries errno ",
                           error_number.value_or(0), ", not ", fault->error,
                           ": ", status.ToString()));
  }
  if (IsWait(s) && error_number == EINTR) {
    w.Diverge(
        absl::StrCat("wait failed with EINTR (an empty span is the "
                     "contract): ",
                     status.ToString()));
  }
  if (fds_before >= 0 && OpenFds() != fds_before) {
    w.Diverge(absl::StrCat("the failed call leaked ", OpenFds() - fds_before,
                           " fds"));
  }
}

// The documented departures from "a failed call changes nothing", and
// errnos a backend reads as a fact about the fd. Each adjusts the model
// to what the backend's header promises instead.
void Interpret(World& w, const Scenario& s, const std::optional<Fault>& fault,
               int fired_fd, const absl::Status& status) {
  if (!fault.has_value()) return;
  const int error = fault->error;
  int fired_slot = -1;
  for (std::size_t i = 0; i < w.slots().size(); ++i) {
    if (w.slots()[i].pair.left.get() == fired_fd) {
      fired_slot = static_cast<int>(i);
    }
  }
  const bool closed_errno = error == EBADF || error == ENOENT;
  // EBADF or ENOENT from deleting: "del of an fd you already closed still
  // succeeds and forgets it" (poller/poller.h). A real kernel says so only
  // when the fd is gone; the injected one leaves the kernel's registration
  // alive, which then reports as an fd closed without del does (token 0).
  if (s.op == Op::kDel && closed_errno &&
      ((w.backend() == Backend::kEpoll && fault->sys == Sys::kEpollCtl) ||
       (w.backend() == Backend::kKqueue && fault->receipt_index >= 0))) {
    w.slot(s.target).ghost = true;
  }
  // epoll: a modify into, out of or within kExclusive is EPOLL_CTL_DEL and
  // ADD; "if the ADD fails after the DEL all the same, the old registration
  // is added back, which the kernel cannot make exact: a kOneshot that fired
  // is armed again" (backends/epoll/epoll_poller.h).
  if (w.backend() == Backend::kEpoll && s.op == Op::kModify && s.readd &&
      !status.ok()) {
    w.slot(s.target).may_repeat = true;
  }
  if (s.op != Op::kReinitAfterFork) return;
  // ReinitAfterFork: "an fd the child closed (without del) before the call
  // stays registered ... epoll and kqueue leave it out of the kernel until
  // del" (poller/poller.h); EBADF from re-adding it is how they know.
  if (error == EBADF && fired_slot >= 0 &&
      ((w.backend() == Backend::kEpoll && fault->sys == Sys::kEpollCtl) ||
       (w.backend() == Backend::kKqueue && fault->sys == Sys::kKevent))) {
    w.slot(fired_slot).may_miss = true;
  }
  // epoll: "Without /proc every oneshot is taken as armed, and one that
  // fired is reported once more when ready."
  if (w.backend() == Backend::kEpoll &&
      (fault->sys == Sys::kOpen || fault->sys == Sys::kRead)) {
    for (Slot& slot : w.slots()) {
      if (slot.reg.has_value() && slot.reg->trigger == Trigger::kOneshot &&
          slot.fired) {
        slot.may_repeat = true;
      }
    }
  }
}

std::string Context(Backend backend, const Scenario& s,
                    const std::optional<Fault>& fault) {
  return absl::StrCat(std::string(BackendName(backend)), " ", s.name, " [",
                      fault.has_value() ? FaultString(*fault) : "no fault",
                      "]");
}

void RunCase(Backend backend, const Scenario& s,
             const std::optional<Fault>& fault, Tally& tally,
             CleanCounts* clean) {
  World w(backend, Context(backend, s, fault), &tally.divergences);
  if (!w.Build(s.setup)) return;
  if (s.prepare) s.prepare(w);
  const int fds_before = OpenFds();
  if (fault.has_value()) {
    FaultInjector::Arm(*fault);
  } else {
    FaultInjector::Count();
  }
  const OpResult result = RunOp(w, s);
  const bool fired = FaultInjector::Fired();
  const int fired_fd = FaultInjector::FiredFd();
  if (clean != nullptr) *clean = TakeCounts();
  FaultInjector::Disarm();
  if (fault.has_value() && !fired) {
    ++tally.not_fired;
    return;
  }
  if (fault.has_value()) ++tally.injected;
  CheckStatus(w, s, fault, result.status, fds_before, tally);
  Interpret(w, s, fault, fired_fd, result.status);
  if (result.status.ok()) ApplySuccess(w, s, result);
  w.CheckTable();
  if (s.verify) s.verify(w, result, fault);
  w.CheckPending();
  w.Probe("probe after the fault");
  if (result.status.ok()) return;
  // The same call again, without the fault, succeeds.
  const OpResult again = RunOp(w, s);
  if (!again.status.ok()) {
    w.Diverge(absl::StrCat("the call failed again without the fault: ",
                           again.status.ToString()));
    return;
  }
  ApplySuccess(w, s, again);
  w.CheckTable();
  if (s.verify) s.verify(w, again, std::nullopt);
  w.Probe("probe after the call succeeded");
}

void RunCreateCase(Backend backend, const Scenario& s,
                   const std::optional<Fault>& fault, Tally& tally,
                   CleanCounts* clean) {
  World w(backend, Context(backend, s, fault), &tally.divergences);
  const int fds_before = OpenFds();
  if (fault.has_value()) {
    FaultInjector::Arm(*fault);
  } else {
    FaultInjector::Count();
  }
  absl::StatusOr<std::unique_ptr<Poller>> created = NewBackend(backend);
  const bool fired = FaultInjector::Fired();
  if (clean != nullptr) *clean = TakeCounts();
  FaultInjector::Disarm();
  if (fault.has_value() && !fired) {
    ++tally.not_fired;
    return;
  }
  if (fault.has_value()) ++tally.injected;
  CheckStatus(w, s, fault, created.status(), fds_before, tally);
  if (!created.ok()) {
    created = NewBackend(backend);
    if (!created.ok()) {
      w.Diverge(absl::StrCat("Create failed again without the fault: ",
                             created.status().ToString()));
      return;
    }
  }
  if (!w.Build(s.setup, *std::move(created))) return;
  w.CheckTable();
  w.Probe("probe of the created poller");
}

// ReinitAfterFork in a fork child, which reports back through a pipe: lines
// "C <counts...>", "R <receipts...>", "N" (the fault never fired), "E" (the
// call returned an error), "A" (absorbed: OK) and "D <divergence>". The
// parent then checks that its own poller is as it was.
void RunForkCase(Backend backend, const Scenario& s,
                 const std::optional<Fault>& fault, Tally& tally,
                 CleanCounts* clean) {
  World w(backend, Context(backend, s, fault), &tally.divergences);
  if (!w.Build(s.setup)) return;
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    w.Diverge("pipe2 failed");
    return;
  }
  const pid_t child = ::fork();
  if (child < 0) {
    w.Diverge("fork failed");
    return;
  }
  if (child == 0) {
    ::close(report[0]);
    ::alarm(30);  // a hung child is killed, and reported by the parent
    if (fault.has_value()) {
      FaultInjector::Arm(*fault);
    } else {
      FaultInjector::Count();
    }
    const absl::Status status = w.poller().ReinitAfterFork();
    const bool fired = FaultInjector::Fired();
    const int fired_fd = FaultInjector::FiredFd();
    const CleanCounts counts = TakeCounts();
    FaultInjector::Disarm();
    std::string out;
    if (fault.has_value() && !fired) {
      out = "N\n";
    } else {
      std::vector<std::string> divergences;
      w.set_divergences(&divergences, "[fork child] ");
      Tally child_tally;
      CheckStatus(w, s, fault, status, /*fds_before=*/-1, child_tally);
      Interpret(w, s, fault, fired_fd, status);
      out += status.ok() ? "A\n" : "E\n";
      const absl::Status again = w.poller().ReinitAfterFork();
      if (again.code() != absl::StatusCode::kFailedPrecondition) {
        w.Diverge(absl::StrCat("a second ReinitAfterFork: ", again.ToString()));
      }
      w.CheckTable();
      if (status.ok()) {
        w.Probe("probe in the child");
      } else if (backend == Backend::kUring) {
        // "If the new ring cannot be set up, wait() returns
        // FailedPrecondition until destruction."
        const absl::Status waited = w.poller().wait(0).status();
        if (waited.code() != absl::StatusCode::kFailedPrecondition) {
          w.Diverge(absl::StrCat("wait after a failed ReinitAfterFork: ",
                                 waited.ToString()));
        }
      }
      w.poller_ptr().reset();  // must leave the parent's poller alone
      for (std::string& line : divergences) {
        std::replace(line.begin(), line.end(), '\n', ' ');
        absl::StrAppend(&out, "D ", line, "\n");
      }
    }
    absl::StrAppend(&out, "C");
    for (const int calls : counts.calls) absl::StrAppend(&out, " ", calls);
    absl::StrAppend(&out, "\nR");
    for (const int receipts : counts.receipts) {
      absl::StrAppend(&out, " ", receipts);
    }
    absl::StrAppend(&out, "\n");
    for (std::size_t done = 0; done < out.size();) {
      const ssize_t wrote =
          ::write(report[1], out.data() + done, out.size() - done);
      if (wrote <= 0) break;
      done += static_cast<std::size_t>(wrote);
    }
    ::_exit(0);
  }
  ::close(report[1]);
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(report[0], buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(report[0]);
  int wait_status = 0;
  ::waitpid(child, &wait_status, 0);
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    w.Diverge(absl::StrCat("the fork child died (status ", wait_status, ")"));
    return;
  }
  std::istringstream lines(text);
  std::string line;
  bool not_fired = false;
  while (std::getline(lines, line)) {
    if (line == "N") not_fired = true;
    if (line == "E") ++tally.errors;
    if (line == "A" && fault.has_value()) ++tally.absorbed;
    if (line.rfind("D ", 0) == 0) tally.divergences.push_back(line.substr(2));
    if (clean != nullptr && line.rfind("C", 0) == 0) {
      std::istringstream numbers(line.substr(1));
      for (int& calls : clean->calls) numbers >> calls;
    }
    if (clean != nullptr && line.rfind("R", 0) == 0) {
      std::istringstream numbers(line.substr(1));
      for (int receipts; numbers >> receipts;) {
        clean->receipts.push_back(receipts);
      }
    }
  }
  if (fault.has_value()) {
    if (not_fired) {
      ++tally.not_fired;
      return;
    }
    ++tally.injected;
  }
  // The parent's poller, as it was before the fork.
  w.CheckTable();
  w.Probe("probe of the parent's poller");
}

void RunScenario(Backend backend, const Scenario& s,
                 const std::optional<Fault>& fault, Tally& tally,
                 CleanCounts* clean) {
  switch (s.op) {
    case Op::kCreate:
      RunCreateCase(backend, s, fault, tally, clean);
      return;
    case Op::kReinitAfterFork:
      RunForkCase(backend, s, fault, tally, clean);
      return;
    default:
      RunCase(backend, s, fault, tally, clean);
  }
}

// --- The walk
// -------------------------------------------------------------------

class FaultInjectionTest : public ::testing::TestWithParam<Backend> {};

TEST_P(FaultInjectionTest, EveryCallSiteEveryErrno) {
  const Backend backend = GetParam();
  Tally total;
  std::ostringstream table;
  table << "| scenario | calls (clean run) | faults | errors | divergences |\n"
        << "|---|---|---:|---:|---:|\n";
  for (const Scenario& s : Scenarios()) {
    if (s.applies && !s.applies(backend)) continue;
    Tally tally;
    CleanCounts clean;
    RunScenario(backend, s, std::nullopt, tally, &clean);
    std::string calls;
    for (const Sys sys : WalkedCalls(backend)) {
      const int count = clean.calls[static_cast<std::size_t>(sys)];
      if (count == 0) continue;
      tally.call_sites += count;
      absl::StrAppend(&calls, calls.empty() ? "" : ", ",
                      std::string(SysName(sys)),
                      count > 1 ? absl::StrCat(" x", count) : "");
      for (int nth = 1; nth <= count; ++nth) {
        for (const int error : ManPageErrors(sys)) {
          RunScenario(backend, s, Fault{sys, nth, error}, tally, nullptr);
        }
        if (sys != Sys::kKevent ||
            static_cast<std::size_t>(nth) > clean.receipts.size()) {
          continue;
        }
        const int changes = clean.receipts[static_cast<std::size_t>(nth - 1)];
        for (int change = 0; change < changes; ++change) {
          ++tally.call_sites;
          for (const int error : ReceiptErrors()) {
            RunScenario(backend, s, Fault{sys, nth, error, change}, tally,
                        nullptr);
          }
        }
        if (changes > 0) {
          absl::StrAppend(&calls, " (#", nth, ": ", changes, " receipts)");
        }
      }
    }
    std::string name = s.name;  // a '|' would end the table cell
    for (std::size_t at = name.find('|'); at != std::string::npos;
         at = name.find('|', at + 2)) {
      name.insert(at, "\\");
    }
    table << "| " << name << " | " << (calls.empty() ? "none" : calls) << " | "
          << tally.injected << " | " << tally.errors << " | "
          << tally.divergences.size() << " |\n";
    total.call_sites += tally.call_sites;
    total.injected += tally.injected;
    total.not_fired += tally.not_fired;
    total.errors += tally.errors;
    total.absorbed += tally.absorbed;
    total.divergences.insert(total.divergences.end(), tally.divergences.begin(),
                             tally.divergences.end());
  }
  std::cout << "fault injection, " << BackendName(backend) << ": "
            << total.call_sites << " call sites, " << total.injected
            << " faults injected (" << total.errors << " returned an error, "
            << total.absorbed << " absorbed), " << total.not_fired
            << " not reached, " << total.divergences.size() << " divergences\n"
            << table.str();
  for (std::size_t i = 0; i < total.divergences.size() && i < 80; ++i) {
    std::cout << "  divergence: " << total.divergences[i] << "\n";
  }
  EXPECT_GT(total.injected, 0);
  EXPECT_EQ(total.divergences.size(), 0u)
      << "first: " << (total.divergences.empty() ? "" : total.divergences[0]);
}

// io_uring under completion-queue pressure: io_uring_enter answers EBUSY or
// EAGAIN while completions are backed up, until the application reaps them.
// Here every io_uring_submit (the flush of a full submission queue) fails so
// for the rest of the test, while the wait's own enter works: waits must go
// on reaping and reporting, without an error, and every registration must
// reach the kernel.
TEST(FaultInjectionUringTest, WaitsReapThroughSubmissionBackpressure) {
  for (const int error : {EBUSY, EAGAIN}) {
    std::vector<std::string> divergences;
    World w(Backend::kUring,
            absl::StrCat("uring, io_uring_submit failing with ",
                         std::strerror(error)),
            &divergences);
    WorldSetup setup;
    setup.extras = WorldSetup::kPairsOnly;
    ASSERT_TRUE(w.Build(setup));
    // Twelve new polls for an eight-entry submission queue: the next wait
    // must flush it.
    for (int i = 0; i < kExtras; ++i) {
      w.Add(kBaseSlots + i, 20 + i, Events::kReadable,
            static_cast<std::uint64_t>(200 + i), Trigger::kLevel);
    }
    Fault fault{Sys::kIoUringSubmit, 1, error};
    fault.times = 1 << 20;
    FaultInjector::Arm(fault);
    w.CheckPending();
    w.CheckTable();
    w.Probe("probe under backpressure");
    const bool fired = FaultInjector::Fired();
    FaultInjector::Disarm();
    EXPECT_TRUE(fired);
    EXPECT_TRUE(divergences.empty())
        << divergences.size() << " divergences, first: " << divergences[0];
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, FaultInjectionTest,
                         ::testing::Values(Backend::kEpoll, Backend::kPoll,
                                           Backend::kUring, Backend::kKqueue),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
