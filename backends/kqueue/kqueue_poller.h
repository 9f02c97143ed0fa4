// Copyright 2026 The pollio Authors.
//
// -----------------------------------------------------------------------------
// File: backends/kqueue/kqueue_poller.h
// -----------------------------------------------------------------------------
//
// KqueuePoller: the Poller on kqueue(2), the OsPoller on macOS, FreeBSD and
// OpenBSD.
//
//   * Interest: EVFILT_READ and EVFILT_WRITE, one kernel registration per
//     (fd, filter), with udata = Encode(fd, kind). The two filters of one fd
//     reported in one batch merge into one EventObject.
//   * Triggers: level; kEdge = EV_CLEAR; kOneshot = EV_DISPATCH, re-armed by
//     modify (EV_ADD | EV_ENABLE). With both filters, a oneshot fd is
//     reported once in all, not once per filter: the wait that reports one
//     filter disables the other (one more kevent call), so it cannot end a
//     later wait early either. kExclusive works as kLevel.
//   * Changes are applied with EV_RECEIPT, so each change's own error comes
//     back; a failed add, modify or del rolls back the changes that
//     succeeded, leaving nothing half-registered (a del whose second
//     EV_DELETE fails adds the first filter back: under kEdge, a ready fd
//     is then reported once more, as after any new EV_CLEAR registration).
//   * Readiness: EVFILT_READ reports kReadable, with kReadClosed when it
//     carries EV_EOF (the peer will send no more: a half-close and a close look
//     the same to it); EVFILT_WRITE reports kWritable, with kHangup when it
//     carries EV_EOF (nothing more can be sent; kWritable then even with a full
//     send buffer, as a socket that can send no more is writable on the BSDs,
//     where Linux's poll(2) leaves POLLOUT out while the buffer is full). So
//     kHangup needs kWritable interest here: a read-only registration sees a
//     peer's close or a reset as kReadable | kReadClosed (| kError). BSD
//     kernels also set EVFILT_WRITE's EV_EOF after this side's own
//     shutdown(SHUT_WR), which then reports kHangup though data may still
//     arrive (the emulation follows epoll and does not). EV_EOF with an error
//     in fflags (a refused connect, a reset) and EV_ERROR report kError.
//   * kPriority interest: Unimplemented from add and modify. pollio
//     registers no out-of-band filter (FreeBSD 12+ and macOS have
//     EVFILT_EXCEPT with NOTE_OOB, OpenBSD has none), so a caller that
//     needs urgent data there has no pollio interest for it yet.
//   * Old macOS answers EV_ADD for a pipe whose peer is closed with EPIPE
//     (mio issue 582): that is readiness, so the add succeeds and the next
//     wait reports kReadable | kHangup.
//   * Result order: kevent's, the kernel's queue of active events (two
//     filters of one fd merge at the first one's place). Each wait asks
//     kevent for up to 2 * max_events events, two filters per batch entry,
//     so that an fd's readable and writable arrive together; events beyond
//     the batch's max_events fds are kept, in order, and reported first by
//     the next wait (which then calls kevent only if they leave room), so
//     no EV_CLEAR or EV_DISPATCH event is lost. With more ready than
//     max_events, the kernel queues each level-triggered event it reported
//     again behind the others, so none is starved. Only then can an fd's
//     two filters sit further apart in the kernel's queue than one call
//     takes: the fd is reported with one bit, and with the other in a
//     later wait.
//   * Timeouts: nanosecond precision through the kevent timespec.
//   * wake(): an EVFILT_USER event triggered with NOTE_TRIGGER (a pipe on
//     systems without EVFILT_USER).
//   * wait(timeout, mask): Unimplemented. kqueue has no atomic signal-mask
//     wait; register the signals with EVFILT_SIGNAL instead (kevent reports
//     them as events; block them with sigprocmask so they stay pending).
//   * ReinitAfterFork() (poller/poller.h): a fork child inherits no kqueue
//     (the BSDs; the Linux emulation follows them), so until the call the
//     child's poller has no kernel side at all, and its kqueue fd number is
//     not its own: the call forgets that number without closing it (it may
//     name a file the child opened since), creates a kqueue and the wake
//     event, and adds every registration again with its udata. A oneshot
//     that fired (KqueueState::fired) is added with EV_DISABLE, silent
//     until modify's EV_ENABLE. An fd the child closed before the call is
//     left out of the kernel (EV_ADD fails with EBADF), as closing it drops
//     its knotes anyway. Where there is no EVFILT_USER, the wake pipe is
//     inherited like any pipe: the child closes its copy and makes its own.
//
// Verification: no macOS or BSD machine runs this project's CI. On Linux the
// unchanged sources are built against a kqueue emulation written on epoll
// (backends/kqueue/emulation, testonly) and the whole conformance suite runs
// against that build (//tests:conformance_emulated_kqueue_test), as do the
// differential and bad-input tests (//tests:differential_emulated_kqueue_test,
// //tests:bad_input_emulated_kqueue_test), whose comments list what the
// emulation cannot show.
//
// Not thread-safe except wake(); see poller/poller.h.

// Registration from any thread (PollerOptions::registration_from_any_thread):
// kevent applies a change to a wait in progress by itself, so changes are
// made at once under the table lock; the waiting thread takes the lock only
// to read the results. Events of a registration deleted while the wait was
// blocked are dropped.

#ifndef POLLIO_BACKENDS_KQUEUE_KQUEUE_POLLER_H_
#define POLLIO_BACKENDS_KQUEUE_KQUEUE_POLLER_H_

#include <signal.h>
#include <sys/types.h>
// <sys/event.h> needs <sys/types.h> first on the BSDs.
#include <sys/event.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "backends/internal/poller_base.h"
#include "backends/internal/wake_fd.h"
#include "event/event.h"
#include "poller/poller.h"

namespace pollio {

// KqueuePoller's per-fd state in the registration table.
struct KqueueState {
  std::uint32_t generation = 0;  // bits 40..62 of udata, advanced by add
  // A oneshot registration has reported since the last add or modify (its
  // other filter must stay silent).
  bool fired = false;
};

class KqueuePoller final
    : public internal::PollerBase<KqueuePoller, KqueueState> {
 public:
  // KqueuePoller::Create()
  //
  // InvalidArgument for out-of-range options; the OS error if kqueue() or
  // the wake event cannot be set up.
  static absl::StatusOr<std::unique_ptr<KqueuePoller>> Create(
      PollerOptions options = {});

  ~KqueuePoller() override;

 private:
  friend class internal::PollerBase<KqueuePoller, KqueueState>;

  KqueuePoller(int kq, int max_events);

  absl::Status AddToKernel(const EventObject& ev, Trigger trigger);
  absl::Status ModifyInKernel(const EventObject& ev, Trigger trigger);
  absl::Status DelFromKernel(int fd, Entry& entry,
                             std::unique_lock<std::mutex>& lock);
  // Unimplemented with a signal mask: kqueue has no atomic mask wait.
  absl::StatusOr<absl::Span<const EventObject>> Wait(
      absl::Duration timeout, const sigset_t* mask) override;
  absl::Status Wake() override;
  absl::StatusOr<int> NativeHandle() override { return kq_; }
  absl::Status AfterFork() override;

  // Registers the wake event (EVFILT_USER, or the wake pipe's read end).
  absl::Status AddWakeEvent();

  // Applies `count` (at most 2) changes with EV_RECEIPT. On failure, undoes
  // the ones that succeeded with the matching `undo` entries and returns the
  // first error. EPIPE on EV_ADD counts as success and sets *epipe.
  absl::Status Apply(struct kevent* changes, const struct kevent* undo,
                     int count, std::string_view method, int fd, bool* epipe);

  // Disables, with EV_DISABLE, the filter of each oneshot fd in this batch
  // that has not fired: its EV_DISPATCH would otherwise end a later wait
  // early with nothing to report. modify re-enables it.
  void SilenceUnfiredOneshotFilters();

  // Reads one kernel event into the batch (under the table lock). False
  // when the batch has no room for it (full, and the fd not in it): the
  // caller carries it to the next wait.
  bool Take(const struct kevent& event);

  // Drops carried events of `fd` (del, modify).
  void ForgetCarried(int fd);

  int kq_;  // -1 once AfterFork() has dropped the parent's number
  // Only where EVFILT_USER is missing (OpenBSD before 7.3).
  std::optional<internal::WakeFd> wake_fd_;
  std::vector<struct kevent> kernel_events_;  // 2 * max_events long, reused
  // Events kevent handed over that a full batch had no room for, in order,
  // reported first by the next wait (capacity reserved: no allocation).
  std::vector<struct kevent> carried_;
  std::vector<int> pending_eof_;  // fds whose EV_ADD answered EPIPE
};

}  // namespace pollio

#endif  // POLLIO_BACKENDS_KQUEUE_KQUEUE_POLLER_H_
