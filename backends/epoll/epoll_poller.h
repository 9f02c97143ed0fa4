// Copyright 2026 The pollio Authors.
//
// -----------------------------------------------------------------------------
// File: backends/epoll/epoll_poller.h
// -----------------------------------------------------------------------------
//
// EpollPoller: the Poller on Linux's epoll(7), the OsPoller on Linux.
//
//   * Interest: EPOLLIN (with EPOLLRDHUP, so a peer's shutdown of writing
//     reports kReadClosed) and EPOLLOUT. Triggers: level; kEdge = EPOLLET;
//     kOneshot = EPOLLONESHOT, re-armed by modify (EPOLL_CTL_MOD);
//     kExclusive = EPOLLEXCLUSIVE (Linux 4.5+), so several pollers sharing
//     a listener are not all woken by each connection.
//   * modify into, out of or within kExclusive is an EPOLL_CTL_DEL and an
//     ADD: the kernel allows no EPOLL_CTL_MOD of EPOLLEXCLUSIVE. The one
//     target it refuses EPOLLEXCLUSIVE for, an epoll instance (another
//     poller's fd), is found before anything is deleted, by the same ADD on
//     a scratch epoll instance (so the call needs one more fd for a moment,
//     and fails with EMFILE without it): such a modify fails with
//     InvalidArgument (EINVAL, "epoll_ctl(ADD, fd=7): ...") and changes
//     nothing. If the ADD fails after the DEL all the same (ENOMEM, or
//     ENOSPC at fs.epoll.max_user_watches), the old registration is added
//     back, which the kernel cannot make exact: a kOneshot that fired is
//     armed again, and a kEdge fd that is ready is reported once more. If
//     adding it back fails too, the fd is left unregistered (find() returns
//     NotFound) and the status says so.
//   * Readiness bit for bit: EPOLLIN kReadable, EPOLLOUT kWritable,
//     EPOLLRDHUP kReadClosed (read interest only; never under kExclusive,
//     which admits no EPOLLRDHUP), EPOLLHUP kHangup, EPOLLERR kError,
//     EPOLLPRI kPriority (kPriority interest only). kExclusive admits no
//     EPOLLPRI either: kPriority with it is Unimplemented. On a
//     TCP socket EPOLLHUP means both directions are shut (a reset, or a
//     close answered by a reset; also a socket never connected); a peer's
//     close alone is EPOLLIN | EPOLLRDHUP.
//   * The fd and kind travel in epoll_event.data.u64 (event/event.h Encode),
//     so results need no lookup to know a listener from a client.
//   * Result order: the kernel's ready list, roughly the order in which the
//     fds became ready. With more ready than max_events, the kernel moves
//     each level-triggered fd it reported to the back of the list, so the
//     fds not reported come first in the next wait and none is starved.
//   * Timeouts: epoll_pwait2 with nanosecond precision where the kernel has
//     it (5.11+, probed once at Create); otherwise epoll_wait with the
//     timeout rounded up to whole milliseconds.
//   * wake(): an eventfd registered with the epoll set.
//   * ReinitAfterFork() (poller/poller.h): the child reads which kOneshot
//     registrations fired from /proc/self/fdinfo/<epoll fd>, where the
//     kernel lists each target's event mask and has cleared a fired
//     oneshot's to its private bits (EPOLLONESHOT, EPOLLET, ...); then it
//     closes its reference to the shared instance and to the wake eventfd,
//     creates its own of both and adds every registration again, under the
//     same user data. A oneshot that fired is not added to the kernel at all
//     (epoll_ctl always adds EPOLLHUP and EPOLLERR, so an added one would
//     still report a hangup): `modify` adds it, `del` just forgets it.
//     Without /proc (not mounted, or unreadable) every oneshot is taken as
//     armed and added. An fd the child closed before the call is left out
//     of the kernel the same way (EBADF), as an fd closed without del is.
//
// Linux specifics a caller must know:
//
//   * epoll_ctl refuses regular files and directories with EPERM: `add`
//     returns PermissionDenied naming the call and fd.
//   * epoll registers open file descriptions, not fd numbers. Closing an fd
//     whose description lives on in a dup() leaves the registration active,
//     and it keeps reporting under the old fd number, which the caller can
//     no longer del. Always `del` before `close`. `del` of an fd closed
//     without del succeeds and forgets it (the kernel already dropped it).
//
// Not thread-safe except wake(); see poller/poller.h.

// Registration from any thread (PollerOptions::registration_from_any_thread):
// epoll_ctl applies a change to a wait in progress by itself, so changes are
// made at once under the table lock; the waiting thread takes the lock only
// to read the results. Events of a registration deleted while the wait was
// blocked are dropped.

#ifndef POLLIO_BACKENDS_EPOLL_EPOLL_POLLER_H_
#define POLLIO_BACKENDS_EPOLL_EPOLL_POLLER_H_

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "absl/base/attributes.h"
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

// EpollPoller's per-fd state in the registration table.
struct EpollState {
  // The registration's epoll user data (kind, fd, generation), kept after
  // del so the next add advances the generation; bit 63 set while the
  // kernel has no registration under it: once deleted, or while
  // ReinitAfterFork() left the fd out of the kernel (a kOneshot that had
  // fired, an fd closed).
  std::uint64_t user_data = 0;
};

class EpollPoller final : public internal::PollerBase<EpollPoller, EpollState> {
 public:
  // EpollPoller::Create()
  //
  // InvalidArgument for out-of-range options; the OS error if epoll_create1
  // or eventfd fails (EMFILE, ENOMEM).
  static absl::StatusOr<std::unique_ptr<EpollPoller>> Create(
      PollerOptions options = {});

  ~EpollPoller() override;

 private:
  friend class internal::PollerBase<EpollPoller, EpollState>;

  EpollPoller(int epoll_fd, internal::WakeFd wake_fd, int max_events);

  absl::Status AddToKernel(const EventObject& ev, Trigger trigger);
  absl::Status ModifyInKernel(const EventObject& ev, Trigger trigger);
  absl::Status DelFromKernel(int fd, Entry& entry,
                             std::unique_lock<std::mutex>& lock);
  absl::StatusOr<absl::Span<const EventObject>> Wait(
      absl::Duration timeout, const sigset_t* mask) override;
  // Reads the first `ready` kernel events into the batch. Requires the
  // table lock. Inlined into Wait() (see its definition).
  void Collect(int ready);
  // Collect() under the table lock, for registration from any thread: out
  // of line, so that the single-threaded wait has no lock object to keep.
  ABSL_ATTRIBUTE_NOINLINE void CollectLocked(int ready);
  absl::Status Wake() override;
  absl::StatusOr<int> NativeHandle() override { return epoll_fd_; }
  absl::Status AfterFork() override;

  // Adds the wake eventfd to the epoll set.
  absl::Status AddWakeFd();

  // modify() into, out of or within kExclusive: EPOLL_CTL_DEL, then ADD of
  // `ev` with `trigger`, with `old` added back if that ADD fails (and `fd`
  // erased from the table if even that fails).
  absl::Status Readd(const Registration& old, const EventObject& ev,
                     Trigger trigger, std::uint32_t generation);

  // epoll_ctl ADD or MOD of `ev` with `trigger`; the OS error as a status.
  absl::Status Control(int op, std::string_view op_name, const EventObject& ev,
                       Trigger trigger, std::uint32_t generation);

  int epoll_fd_;
  internal::WakeFd wake_fd_;
  // The int a wait passes, kept rather than divided down from
  // kernel_events_'s length in bytes by 12 in every wait.
  const int max_events_;
  // max_events long and one more, for Collect()'s sentinel; reused.
  std::vector<epoll_event> kernel_events_;
  bool has_epoll_pwait2_ = false;
  bool woken_ = false;  // Collect() saw the wake eventfd
};

}  // namespace pollio

#endif  // POLLIO_BACKENDS_EPOLL_EPOLL_POLLER_H_
