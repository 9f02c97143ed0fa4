// Copyright 2026 The pollio Authors.
//
// -----------------------------------------------------------------------------
// File: poller/poller.h
// -----------------------------------------------------------------------------
//
// The `Poller` interface: register fds with an interest, a kind and a trigger,
// then `wait` for a batch of readiness events that comes back in a buffer the
// poller owns and reuses (no allocation once warm). Every backend
// (epoll, kqueue, poll(2), io_uring) implements exactly this contract, and
// one conformance suite (tests/conformance_test.cc) checks it on each.
//
// Example: an accept loop.
//
//   auto poller = pollio::NewOsPoller();          // factory/factory.h
//   if (!poller.ok()) return poller.status();
//   absl::Status added =
//       (*poller)->add(pollio::EventObject::Server(listen_fd));
//   if (!added.ok()) return added;
//   for (;;) {
//     auto events = (*poller)->wait();
//     if (!events.ok()) return events.status();
//     for (const pollio::EventObject& ev : *events) {
//       if (ev.fd < 0) continue;  // scrubbed by del() in this batch
//       if (ev.kind == pollio::EventKind::kServer) {
//         AcceptAll(ev.fd);       // accept4 until EAGAIN, add each Client
//       } else {
//         Serve(ev);              // read until EAGAIN; on EOF: del, close
//       }
//     }
//   }
//
// Portability
//
//   | OS                          | OsPoller     | also available           |
//   |-----------------------------|--------------|--------------------------|
//   | Linux                       | EpollPoller  | PollPoller, UringPoller  |
//   | macOS, iOS, FreeBSD, OpenBSD| KqueuePoller | PollPoller               |
//   | other POSIX                 | PollPoller   |                          |
//
// What every caller must know (all backends):
//
//   * Readiness is a hint. A readable fd may still return EAGAIN (another
//     reader got there first, a checksum failed): use non-blocking fds and
//     read or write until EAGAIN, always under kEdge.
//   * Readable and writable come merged into one entry per fd per `wait`.
//     (kqueue reports them as two kernel events, which merge when one
//     kevent call hands both over; with more fds ready than max_events they
//     can come in different waits: backends/kqueue/kqueue_poller.h.)
//   * Readiness details (Events, event/event.h), bit by backend:
//       kReadClosed  epoll EPOLLRDHUP; poll POLLRDHUP (Linux only: never set
//                    elsewhere); io_uring POLLRDHUP; kqueue EV_EOF of
//                    EVFILT_READ. With kReadable interest only (epoll's
//                    kExclusive never), except io_uring's one case below.
//       kHangup      epoll EPOLLHUP; poll and io_uring POLLHUP; kqueue EV_EOF
//                    of EVFILT_WRITE, so with kWritable interest only there.
//       kError       epoll EPOLLERR; poll POLLERR or POLLNVAL; io_uring
//                    POLLERR or a failed poll (EBADF); kqueue EV_ERROR, or
//                    EV_EOF with an error in fflags.
//       kPriority    epoll EPOLLPRI; poll and io_uring POLLPRI; kqueue
//                    Unimplemented. With kPriority interest only; on
//                    io_uring, ask for it with kReadable, or urgent data
//                    that arrives while its poll waits goes unseen
//                    (backends/uring/uring_poller.h).
//     What the kernels cannot tell apart, and what pollio reports then:
//       - A TCP peer's close() and its shutdown(SHUT_WR) are both a FIN:
//         kReadClosed (with kReadable) on every backend. kHangup and kError
//         follow once the connection is gone both ways: a reset, or a
//         write of ours that the closed peer answers with one (EPIPE).
//       - kqueue's read filter sees a close, a half-close and a reset all
//         as EV_EOF, so a read-only registration there never sees kHangup;
//         and BSD kernels set the write filter's EV_EOF after our own
//         shutdown(SHUT_WR) too, which reports kHangup though data may
//         still arrive.
//       - poll(2) outside Linux has no POLLRDHUP: a half-close shows only
//         as kReadable, with read() returning 0.
//       - io_uring polls for the half-close whatever the interest; it drops
//         kReadClosed without kReadable interest, except when a kLevel or
//         kOneshot poll completes on it alone (a write-only socket that is
//         not writable): then it reports kReadClosed alone, and under kLevel
//         again in every wait until the socket is writable
//         (backends/uring/uring_poller.h says why).
//       - A pipe has one direction: its writer's close is kHangup on epoll,
//         poll and io_uring (POLLHUP, without kReadable once drained), and
//         kReadable | kReadClosed on kqueue.
//     So to learn that the peer will send no more, test
//     `HasAny(ev.events, Events::kReadClosed | Events::kHangup)`, or read
//     until read() returns 0. kHangup also means that nothing more can be
//     sent. tests/readiness_test.cc checks all of the above.
//   * `del` before `close`. Kernels track open file descriptions, not fd
//     numbers: under epoll a closed fd with a live dup() stays registered and
//     keeps firing under its old number. `del` of an fd you already closed
//     still succeeds and forgets it.
//   * Once `del` has returned, `close(fd)` releases the file at once on
//     every backend, whether or not a `wait` follows: a listener's port can
//     be bound again, a connection's peer sees EOF. Closing without `del` is
//     a caller error whose effect differs: epoll, kqueue and poll hold no
//     reference to the file, so it closes; io_uring's armed poll does, so
//     the file stays open (a listener keeps accepting) until `del` or the
//     poller's destruction, and a forked child that inherited the ring keeps
//     it open too (backends/uring/uring_poller.h).
//   * Thread-safety: a Poller is used by one thread at a time. `wake()` is the
//     one exception: any thread, or a signal handler, may call it at any time.
//     With PollerOptions::registration_from_any_thread, registration is a
//     second exception (below).
//   * Lifetime: the span returned by `wait` stays valid until the next `wait`
//     or the Poller's destruction; `del` may scrub entries in it (fd = -1,
//     events = kNone).
//   * fork(): a child inherits the poller's memory, but the kernel objects
//     behind it are the parent's: epoll's interest list (an epoll_ctl in the
//     child edits the parent's set), the wake eventfd (the child's wake()
//     would wake the parent) and io_uring's ring, whose queues both
//     processes map (a child that submits or cancels corrupts the parent's
//     ring). On the BSDs the child gets no kqueue at all. A child that goes
//     on using the poller calls `ReinitAfterFork()` first, before any other
//     call on it, as libuv's uv_loop_fork and Asio's notify_fork ask; the
//     parent needs to do nothing. A child that only execs or exits need not
//     call it: destroying the poller in a child closes only the child's
//     references (a UringPoller submits nothing there), and the fds are
//     close-on-exec.

// Registering from other threads
//
//   With PollerOptions::registration_from_any_thread, `add`, `modify`,
//   `del`, `find`, `size` and `for_each` may be called from any thread,
//   concurrently with each other and with one thread blocked in `wait` (the
//   shape of a runtime: one thread waits, workers register, re-arm and
//   delete their connections). Still single-threaded: only one thread may
//   be inside `wait` at a time (on io_uring, always the same thread), and
//   the span a wait returns is its caller's alone. Each call returns its own
//   status synchronously, and a failed call changes nothing.
//
//   A change takes effect for the wait already in progress: an fd added, or
//   re-armed by `modify`, that is ready or becomes ready is reported by that
//   wait without waiting for its timeout; once `del` has returned, no wait
//   that starts later reports the registration, and `close(fd)` releases the
//   file at once. What each backend pays:
//
//     epoll, kqueue  epoll_ctl / kevent apply the change to the blocked wait
//                    themselves: applied immediately, under the table lock.
//     poll           the pollfd array belongs to the waiting thread: a change
//                    from another thread updates the table, wakes the waiter
//                    through its wake fd, and the waiter rebuilds the array
//                    and polls again for the rest of its timeout. ppoll
//                    holds a reference to every file it polls, so `del` from
//                    another thread also waits until the waiter has left
//                    ppoll (microseconds: the wake ends it).
//     io_uring       submissions belong to the ring's owner (the waiting
//                    thread, SINGLE_ISSUER): another thread's add and modify
//                    are handed to it (a list the owner submits from, and a
//                    wake through the ring's wake fd); its del of a poll the
//                    kernel holds waits until the owner has submitted the
//                    cancel and the file is released. If the owner is not in
//                    wait, that del waits for its next wait: at shutdown,
//                    del on the waiting thread itself.
//
//   The table lock is held by each registration call, and by wait only while
//   it starts its batch and while it reads the kernel's results into it,
//   never while it blocks. The span: `del` from another thread does not
//   scrub the batch its caller is reading (that would race the reader), so
//   an entry may be for a registration another thread deleted, or deleted
//   and re-added, since the wait returned; the entry's token says which
//   registration it was (hand each connection's events to the thread that
//   owns it, as tools/worker_pool_server does with kOneshot). A `del` on the
//   waiting thread scrubs as before. Events the kernel handed over for a
//   registration deleted during the wait are dropped, not reported with
//   token 0.
//
//   Off by default: without the option no lock is taken, and the
//   single-threaded hot path is unchanged; with it, a single-threaded loop
//   pays the uncontended lock: 1 to 3 instructions per event when a wait
//   returns about 100, and 160 to 310 per wait
//   (`tools/bench/callgrind.sh pollio_epoll pollio_epoll_any_thread ...`;
//   figures in docs/runtime.md).

// API decisions, and the roads not taken:
//
//   * The public methods are non-virtual and carry the default arguments;
//     they call private virtual hooks (Google style forbids defaults on
//     virtual functions). internal::PollerBase implements the registration
//     hooks once over the shared table, and calls each backend's kernel
//     side statically: one virtual call per public call, none per event.
//     Not taken: a template-only API (no runtime choice of backend), or
//     std::function callbacks per registration (libevent, libuv; a call and
//     often an allocation per event).
//   * The token is a plain 64-bit value beside the 8-bit kind, kept in the
//     user-space table and copied into each result (16-byte EventObject).
//     Not taken: putting the token in the kernel's user data instead of fd
//     and kind (the kind would need a lookup, and the generation that keeps
//     stale events out would have no room), or a typed pointer (callers
//     keep slab indices as often as pointers).
//   * Readiness stays one bitmask with four result bits beyond readable and
//     writable, set only when the kernel says so (no guessing); what a
//     kernel cannot tell apart is documented per backend rather than
//     papered over. Not taken: an enum of "reasons" (a result can be
//     several at once).
//   * supports() and supports_priority() are constant per backend, known at
//     Create. native_handle() exports a readable-when-ready fd rather than
//     a callback registration API, so any outer loop can nest pollio.
//   * Result order is unspecified; fairness (no starvation beyond
//     max_events) is the promise, not an order.

#ifndef POLLIO_POLLER_POLLER_H_
#define POLLIO_POLLER_POLLER_H_

#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "event/event.h"

namespace pollio {

// Backend
//
// The kernel mechanism behind a Poller.
enum class Backend : std::uint8_t { kEpoll, kKqueue, kPoll, kUring };

// kAllBackends
//
// Every backend pollio has, in the factory's order of preference (the one
// AvailableBackends() reports them in after the native one): for loops over
// backends, such as tests parameterised on each. Which of them a build has
// is written once, in //backends:platforms.bzl.
inline constexpr Backend kAllBackends[] = {Backend::kEpoll, Backend::kKqueue,
                                           Backend::kUring, Backend::kPoll};

// BackendName()
//
// "epoll", "kqueue", "poll" or "uring".
std::string_view BackendName(Backend backend);

// ParseBackend()
//
// The inverse of BackendName(), for flags. InvalidArgument for any other text.
absl::StatusOr<Backend> ParseBackend(std::string_view name);

// ErrnoFromStatus()
//
// The errno behind a status that a failed system call produced (for example
// EPERM from `add` of a regular file under epoll), or nullopt for statuses
// pollio made itself (InvalidArgument, AlreadyExists, NotFound, ...).
std::optional<int> ErrnoFromStatus(const absl::Status& status);

// The payload type URL under which ErrnoFromStatus() finds the errno.
inline constexpr std::string_view kErrnoPayloadUrl = "pollio/errno";

// Registration
//
// What a Poller holds for one registered fd.
struct Registration {
  int fd = -1;
  EventKind kind = EventKind::kServer;
  Events interest = Events::kReadable;
  Trigger trigger = Trigger::kLevel;
  std::uint64_t token = 0;  // EventObject::token, as add / modify set it
};

// PollerOptions
struct PollerOptions {
  // Capacity of the reused result buffer: the most entries one `wait`
  // returns. Valid range 1..kMaxEvents; `Create` returns InvalidArgument
  // outside it.
  int max_events = 1024;

  // Whether `add` on the poll and io_uring backends checks that the fd is
  // open (one fcntl(F_GETFD)), so that a closed fd fails `add` at once with
  // EBADF, as epoll_ctl does. Those backends register nothing with the
  // kernel during `add`, so the check is a system call of its own: about
  // 125 ns per add on the machines this was measured on, the whole gap
  // between pollio and a raw loop in the churn benchmark. Accept loops that
  // add fds straight from accept4 can turn it off; a bad fd then shows up
  // as kError from `wait` instead (POLLNVAL; an EBADF completion).
  // epoll ignores it: epoll_ctl checks for free. Whatever its value, add
  // checks an fd number of 65,536 or more that is above every number the
  // poller has seen (its table of registrations grows to the number): a
  // closed one fails there with EBADF.
  bool check_fd_on_add = true;

  // Whether add, modify, del, find, size and for_each may be called from
  // any thread, concurrently with each other and with one thread blocked in
  // wait (see "Registering from other threads" above). Off by default: the
  // single-threaded poller takes no lock and pays one predictable branch
  // per call for the option's existence.
  bool registration_from_any_thread = false;

  static constexpr int kMaxEvents = 1 << 20;
};

// Poller
//
// The abstract poller. Obtain one from factory/factory.h, or create a backend
// class directly (`EpollPoller::Create()`), which avoids the virtual call
// when the static type is known.
//
// Errors, on every backend (a failed call changes nothing):
//   InvalidArgument  fd < 0; an interest with none of kReadable, kWritable
//                    and kPriority, or with any other bit (kReadClosed,
//                    kHangup, kError or a value outside the enum: those are
//                    results, never interests); or a Trigger value outside
//                    the enum.
//   AlreadyExists    `add` of an fd already registered.
//   NotFound         `modify` or `del` of an fd not registered.
//   Unimplemented    a trigger or interest the backend cannot honour: poll,
//                    kEdge; kqueue, any kPriority interest; epoll, kPriority
//                    with kExclusive.
//   other            the OS error, with the call and fd in the message, e.g.
//                    "epoll_ctl(ADD, fd=7): Operation not permitted" for a
//                    regular file under epoll.
class Poller {
 public:
  virtual ~Poller() = default;

  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Poller::add()
  //
  // Registers `ev.fd` with interest `ev.events` (kReadable, kWritable,
  // kPriority, or any combination of them), kind `ev.kind`, token
  // `ev.token` and `trigger`. The fd should be non-blocking. Unimplemented
  // for a trigger `supports()` denies, and for kPriority where
  // `supports_priority()` is false.
  ABSL_MUST_USE_RESULT absl::Status add(EventObject ev,
                                        Trigger trigger = Trigger::kLevel) {
    return Add(ev, trigger);
  }

  // Poller::modify()
  //
  // Replaces the interest, kind, token and trigger of a registered fd.
  // Re-arms a kOneshot registration that fired. Results of this fd already
  // in the current batch keep what they were reported with; every later
  // result carries the new kind and token.
  ABSL_MUST_USE_RESULT absl::Status modify(EventObject ev,
                                           Trigger trigger = Trigger::kLevel) {
    return Modify(ev, trigger);
  }

  // Poller::del()
  //
  // Unregisters `fd`. Entries for `fd` still waiting in the current result
  // batch are scrubbed (fd = -1, events = kNone, token = 0), so a loop that
  // closes a client and accepts a new one on the same fd number inside one
  // batch never acts on a stale event. Once del returns, `close(fd)`
  // releases the file at once (see the notes at the top of this file).
  ABSL_MUST_USE_RESULT absl::Status del(int fd) { return Del(fd); }

  // Poller::wait()
  //
  // Waits until at least one registered fd is ready, `wake()` is called, a
  // signal interrupts the wait, or `timeout` passes; returns the ready fds,
  // at most `max_events` of them (more are reported by later calls, none
  // lost), one entry per fd with readable and writable merged, each with
  // its registration's kind and token.
  //
  // Tokens are never stale: a result carries the token its registration has
  // when the wait collects it, never one of an older registration of the
  // same fd number (del and re-add, modify, a number reused inside one
  // batch). epoll, kqueue and io_uring keep a per-fd generation beside the
  // kind in the kernel's user data and drop (io_uring) or take as unknown
  // (epoll, kqueue) an event whose generation is not the registration's;
  // poll reads its own slot table. An event the kernel still delivers for
  // an fd closed without `del` (epoll and kqueue, while a dup of it lives)
  // is reported with the kind it was registered with and token 0 when its
  // registration is gone, so the caller can see it (and never with another
  // registration's token).
  //
  // The order of the entries is unspecified and differs between backends;
  // do not depend on it. epoll gives the kernel's ready-list order (roughly
  // the order in which the fds became ready), kqueue the kernel's order,
  // poll its scan order over registration slots, io_uring completion order;
  // each backend's header says more. What every backend does promise is
  // that no ready fd starves: when more than `max_events` are ready, later
  // waits report the others first, so a level-triggered fd that stays ready
  // takes its turn among them.
  //
  // Returns an empty span on timeout and on EINTR (never an error for a
  // signal; on kqueue it may hold what an earlier wait had no room for). A
  // wait that `wake()` ends returns the fds ready by then, or an empty span
  // when none is; either way that wake is spent. Does not return before
  // `timeout` unless something
  // is ready, woken or interrupted: timeouts are rounded up to the OS's
  // precision, never down, and nanosecond-precision waits are used where the
  // OS has them. A zero or negative timeout polls without blocking;
  // absl::InfiniteDuration() (and anything longer than the OS can express)
  // waits forever. A backend's own bookkeeping (io_uring's cancellations
  // after `del` or `modify`) never ends a wait early, and no pollio call
  // (AvailableBackends(), destroying a poller) interrupts another wait: an
  // "interrupted" wait means a real signal: any signal whose handler runs
  // on the waiting thread, SA_RESTART or not (as epoll_wait and ppoll
  // behave; the wait is not restarted with its full timeout).
  //
  // The span stays valid until the next `wait` or destruction. Allocates
  // nothing once the poller is warm.
  ABSL_MUST_USE_RESULT absl::StatusOr<absl::Span<const EventObject>> wait(
      absl::Duration timeout = absl::InfiniteDuration()) {
    return Wait(timeout, nullptr);
  }

  // Poller::wait(timeout, mask)
  //
  // As wait(timeout), with the calling thread's signal mask replaced by
  // `mask` for the duration of the wait only, atomically, as ppoll(2) and
  // epoll_pwait2(2) define it. A runtime that blocks SIGCHLD or SIGINT
  // everywhere else can wait with them unblocked: a signal sent before the
  // wait stays pending until the wait, then interrupts it (OK, empty span),
  // and there is no window between checking a flag and blocking. The
  // thread's own mask is back when wait returns.
  //
  // epoll: epoll_pwait2 (epoll_pwait with the timeout rounded up on older
  // kernels); poll: ppoll (Unimplemented on macOS, which has no ppoll);
  // io_uring: the sigmask of io_uring_enter's extended argument.
  ABSL_MUST_USE_RESULT absl::StatusOr<absl::Span<const EventObject>> wait(
      absl::Duration timeout, const sigset_t& mask) {
    return Wait(timeout, &mask);
  }

  // Poller::wait(int)
  //
  // The same with a timeout in milliseconds: -1 (any negative) waits
  // forever, 0 polls without blocking.
  ABSL_MUST_USE_RESULT absl::StatusOr<absl::Span<const EventObject>> wait(
      int timeout_ms) {
    return Wait(timeout_ms < 0 ? absl::InfiniteDuration()
                               : absl::Milliseconds(timeout_ms),
                nullptr);
  }

  // Poller::wake()
  //
  // Makes the current (or, if none is in progress, the next) `wait` return
  // promptly: with the fds ready by then, or an empty span when none is.
  // Many wakes before a `wait` coalesce into one, which that wait spends.
  // The one thread-safe method; also safe to call from a signal handler.
  // The internal wake fd never shows up in results.
  ABSL_MUST_USE_RESULT absl::Status wake() { return Wake(); }

  // Poller::ReinitAfterFork()
  //
  // In a child forked from the process that owns this poller: gives the
  // child a poller of its own. The kernel object (epoll instance, kqueue,
  // io_uring ring) and the wake fd are made anew, and every registration is
  // registered again with its kind, token, interest and trigger; the
  // parent's are left exactly as they were, since the child closes only its
  // own references to them (io_uring: it unmaps and closes its copy of the
  // ring and submits nothing to it). Call it in the child before any other
  // call on the poller, and fork only while no other thread is inside a
  // call on it (wake() aside).
  //
  // Afterwards, in the child:
  //   * size(), find() and for_each() are as they were at the fork;
  //   * level registrations are reported while ready, and a kEdge fd that
  //     is ready is reported once more (registering it again is a new
  //     edge);
  //   * a kOneshot registration that fired before the fork stays silent
  //     until `modify`. poll, io_uring and kqueue know it from their own
  //     state. epoll does not tell user space whether a oneshot fired, so
  //     the child reads it from /proc/self/fdinfo of the inherited epoll fd
  //     (the kernel clears a fired oneshot's event mask), as it is at the
  //     time of the call: a oneshot the parent's wait collects after the
  //     fork counts as fired too, and one the parent re-arms as armed.
  //     Without /proc every oneshot is taken as armed, and one that fired
  //     is reported once more when ready;
  //   * an fd the child closed (without `del`) before the call stays
  //     registered, as an fd closed without `del` does on each backend:
  //     epoll and kqueue leave it out of the kernel until `del`, poll and
  //     io_uring report kError;
  //   * the span the last `wait` returned is invalid: its results are the
  //     parent's batch, and no later `del` scrubs them;
  //   * the process owns the poller: a second call returns
  //     FailedPrecondition, and a child forked from it calls it again.
  //
  // Errors: FailedPrecondition, changing nothing, when called in the
  // process that owns the poller (the one that created it, or the last one
  // to call this, whether or not that call succeeded). Otherwise the OS
  // error of the call that failed, named in the message (e.g.
  // "ReinitAfterFork: epoll_create1(): Too many open files"). After a
  // failure the poller holds nothing the parent uses any more, but is
  // unusable except for destruction.
  ABSL_MUST_USE_RESULT absl::Status ReinitAfterFork();

  // Poller::backend()
  Backend backend() const { return backend_; }

  // Poller::supports()
  //
  // Whether `add` and `modify` accept `trigger` on this backend: every
  // trigger but kEdge on poll, all four elsewhere. (kExclusive is accepted
  // everywhere; only epoll gives the exclusive wake-up, the others treat it
  // as kLevel.) A value outside the enum: false.
  bool supports(Trigger trigger) const {
    const auto value = static_cast<unsigned>(trigger);
    return value < 8 && ((capabilities_ >> value) & 1u) != 0;
  }

  // Poller::supports_priority()
  //
  // Whether `add` and `modify` accept kPriority interest (EPOLLPRI,
  // POLLPRI): true on epoll, poll and io_uring, false on kqueue, which has
  // no portable out-of-band filter.
  bool supports_priority() const {
    return (capabilities_ & kPriorityInterest) != 0;
  }

  // Poller::native_handle()
  //
  // One fd that becomes readable when this poller has something to report,
  // so that the poller can be nested inside another event loop (an outer
  // epoll, poll(2), libuv, a second pollio poller): watch the fd for
  // readability there, and when it fires call `wait(0)` here. Owned by the
  // poller: do not close it, read it or register it with this poller itself;
  // valid until destruction (or ReinitAfterFork, which makes a new one).
  //
  //   epoll   the epoll fd (readable while its ready list is not empty);
  //   kqueue  the kqueue fd;
  //   uring   an eventfd registered with the ring (IORING_REGISTER_EVENTFD),
  //           not the ring fd: with DEFER_TASKRUN a poll completion first
  //           becomes deferred work, and queueing it wakes no poller of the
  //           ring fd, while it does signal the eventfd. Because io_uring
  //           requests reach the kernel only at the next wait, the first
  //           call also switches the poller to submitting at once: every
  //           add and modify then enters the kernel (as epoll_ctl does), and
  //           every wait submits its re-arms before it returns, so the
  //           kernel holds every poll while the outer loop blocks. A level
  //           registration is therefore re-armed before the caller drained
  //           it and may be reported once more after the drain (readiness
  //           is a hint; read until EAGAIN). Call it on the thread that
  //           waits (the ring's owner);
  //   poll    none: poll(2) keeps its set in user space, so Unimplemented.
  //
  // May be spurious: the fd can be readable while `wait(0)` reports
  // nothing (a `wake()`, an event of a registration deleted since, internal
  // completions of io_uring), so the outer loop must accept an empty inner
  // batch. It is level-triggered in the sense that it stays readable until
  // the inner `wait` has collected what is ready.
  absl::StatusOr<int> native_handle() { return NativeHandle(); }

  // Poller::size()
  //
  // The number of registered fds.
  std::size_t size() const { return Size(); }

  // Introspection, in the manner of Linux_ext.Epoll's find / iter and
  // libevent's event_base_dump_events. Answered from the registration table
  // every backend keeps in user space: no system call, no allocation (but
  // DebugString's). Not thread-safe, like everything but wake().

  // Poller::find()
  //
  // The registration of `fd` (kind, interest, trigger, token): what add /
  // modify set, whether or not a oneshot has fired since. InvalidArgument
  // for a negative fd; NotFound if `fd` is not registered.
  absl::StatusOr<Registration> find(int fd) const;

  // Poller::for_each()
  //
  // Calls `visit` for every registration, in ascending fd order. `visit`
  // must not add, modify or del.
  void for_each(absl::FunctionRef<void(const Registration&)> visit) const;

  // Poller::DebugString()
  //
  // The backend and its registrations, e.g.
  // "epoll{3 fds: 5=server R, 7=client RW edge token=42, 9=9 WP oneshot}"
  // (interest R, W and P for kPriority; level is left out, and so is a
  // token of 0; after 32 entries the rest
  // are counted, "... 968 more").
  std::string DebugString() const;

  template <typename Sink>
  friend void AbslStringify(Sink& sink, const Poller& poller) {
    sink.Append(poller.DebugString());
  }
  friend std::ostream& operator<<(std::ostream& os, const Poller& poller) {
    return os << poller.DebugString();
  }

 protected:
  // `capabilities`: bit 1 << Trigger for each trigger add accepts, and
  // kPriorityInterest if it accepts kPriority. Records the calling process
  // as the poller's owner (ReinitAfterFork).
  Poller(Backend backend, unsigned capabilities);

  // Whether the calling process is not the poller's owner: a fork child
  // that has not called ReinitAfterFork(). One getpid(); for destructors,
  // which must not touch the parent's kernel objects there.
  bool InForkChild() const;

  static constexpr unsigned kAllTriggers =
      1u << static_cast<unsigned>(Trigger::kLevel) |
      1u << static_cast<unsigned>(Trigger::kEdge) |
      1u << static_cast<unsigned>(Trigger::kOneshot) |
      1u << static_cast<unsigned>(Trigger::kExclusive);
  static constexpr unsigned kPriorityInterest = 1u << 8;

 private:
  // The hooks behind the public methods, without default arguments (Google
  // style forbids them on virtual functions). internal::PollerBase
  // implements the registration ones once, over its table, and each backend
  // the kernel work behind them. One virtual call per public call, none per
  // event; none at all when the static type is a backend class (they are
  // final).
  virtual absl::Status Add(const EventObject& ev, Trigger trigger) = 0;
  virtual absl::Status Modify(const EventObject& ev, Trigger trigger) = 0;
  virtual absl::Status Del(int fd) = 0;
  // `mask` null for no signal-mask change.
  virtual absl::StatusOr<absl::Span<const EventObject>> Wait(
      absl::Duration timeout, const sigset_t* mask) = 0;
  virtual absl::Status Wake() = 0;
  virtual absl::StatusOr<int> NativeHandle() = 0;
  virtual std::size_t Size() const = 0;
  virtual std::optional<Registration> FindRegistration(int fd) const = 0;
  virtual void VisitRegistrations(
      absl::FunctionRef<void(const Registration&)> visit) const = 0;
  // ReinitAfterFork() once the owner check passed: the backend's rebuild.
  virtual absl::Status AfterFork() = 0;

  const Backend backend_;
  const unsigned capabilities_;
  pid_t owner_pid_;  // getpid() at creation or the last ReinitAfterFork()
};

}  // namespace pollio

#endif  // POLLIO_POLLER_POLLER_H_
