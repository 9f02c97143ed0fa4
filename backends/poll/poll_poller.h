// Copyright 2026 The pollio Authors.
//
// -----------------------------------------------------------------------------
// File: backends/poll/poll_poller.h
// -----------------------------------------------------------------------------
//
// PollPoller: the Poller on poll(2), available on every POSIX system and the
// OsPoller where neither epoll nor kqueue exists.
//
//   * A dense pollfd array (slot 0 is the wake fd) with an fd -> slot index
//     in the registration table: add appends, del swaps the last slot into
//     the hole, both O(1). Each wait is O(registered fds), as poll(2) is.
//   * Triggers: level and oneshot. kEdge returns Unimplemented: poll(2) has
//     no edge trigger. kExclusive works as kLevel: every poller waiting on
//     a shared fd wakes. Oneshot disarms the slot (a negative fd, which
//     poll(2) skips) after reporting it; modify re-arms it.
//   * Timeouts: ppoll with nanosecond precision on Linux and the BSDs;
//     poll with the timeout rounded up to whole milliseconds on macOS.
//   * Result order: slot order, which is add order until a del moves the
//     last slot into the hole; unlike epoll's and io_uring's, it has nothing
//     to do with when the fds became ready. Each scan starts where the last
//     full batch stopped and wraps around, so with more ready fds than
//     max_events the next wait goes on with the ones not yet reported and
//     none is starved, before or after dels move slots.
//   * `add` checks the fd is open (fcntl F_GETFD) and returns EBADF's status
//     if not, as epoll does (PollerOptions::check_fd_on_add turns this off).
//     Regular files and directories are accepted: poll(2) reports them always
//     ready (epoll refuses them).
//   * A registered fd closed without del reports kError (POLLNVAL) in every
//     wait, once per wait, until it is del'd.
//   * Readiness bit for bit: POLLIN kReadable, POLLOUT kWritable, POLLRDHUP
//     kReadClosed (asked for with read interest only), POLLHUP kHangup,
//     POLLERR and POLLNVAL kError, POLLPRI kPriority (kPriority interest
//     only). POLLRDHUP is Linux's: on other systems
//     a peer's shutdown of writing shows only as kReadable (read() returns
//     0), and kReadClosed is never reported.
//   * ReinitAfterFork() (poller/poller.h): poll(2) keeps nothing in the
//     kernel between calls, so the child's copy of the pollfd array is its
//     own already, disarmed oneshot slots included; only the wake fd is
//     shared, and the child closes its copy and opens its own.
//
// Not thread-safe except wake(); see poller/poller.h.

// Registration from any thread (PollerOptions::registration_from_any_thread):
// the pollfd array belongs to the waiting thread. A change from another
// thread while it is inside ppoll updates the table, marks the array stale
// and wakes the waiter, which rebuilds the array (O(registered fds)) and
// polls again for the rest of its timeout; a del also waits until the
// waiter has left ppoll, which holds a reference to every polled file.
// Outside a wait, changes apply to the array directly, as without the
// option.

#ifndef POLLIO_BACKENDS_POLL_POLL_POLLER_H_
#define POLLIO_BACKENDS_POLL_POLL_POLLER_H_

#include <poll.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "backends/internal/poll_events.h"
#include "backends/internal/poller_base.h"
#include "backends/internal/wake_fd.h"
#include "event/event.h"
#include "poller/poller.h"

namespace pollio {

// PollPoller's per-fd state in the registration table.
struct PollState {
  std::uint32_t slot = 0;  // index of the fd's pollfd in pollfds_
  // A oneshot that fired (its slot holds DisarmedFd(fd)). Kept current
  // only with registration from any thread, for Rebuild().
  bool disarmed = false;
};

class PollPoller final : public internal::PollerBase<PollPoller, PollState,
                                                     /*kInlineChanges=*/true> {
 public:
  // PollPoller::Create()
  //
  // InvalidArgument for out-of-range options; the OS error if the wake fd
  // cannot be opened.
  static absl::StatusOr<std::unique_ptr<PollPoller>> Create(
      PollerOptions options = {});

  ~PollPoller() override = default;

 private:
  friend class internal::PollerBase<PollPoller, PollState, true>;

  PollPoller(internal::WakeFd wake_fd, int max_events);

  // Every trigger but kEdge (poll(2) reports levels only), and kPriority.
  // A constant, for PollerBase's inline add.
  static constexpr unsigned kCapabilities =
      1u << static_cast<unsigned>(Trigger::kLevel) |
      1u << static_cast<unsigned>(Trigger::kOneshot) |
      1u << static_cast<unsigned>(Trigger::kExclusive) | kPriorityInterest;

  // PollerBase's inline changes (kInlineChanges), inline below the class,
  // so that they compile into PollerBase's Add and Del, and through those
  // into a caller of PollPoller, with no call. The base calls them only
  // without registration from any thread, so no poll is under way and the
  // array is current; CanAddInline leaves out the fcntl check of each added
  // fd and a full array, so that AppendSlot's push_back cannot reallocate
  // there.
  bool CanAddInline() const {
    return !check_fd_on_add_ && pollfds_.size() != pollfds_.capacity();
  }
  void AddInline(const EventObject& ev, Trigger trigger) {
    // state.disarmed is left as it was: only Rebuild() reads it, and only
    // registration from any thread, fixed at Create, ever rebuilds.
    AppendSlot(ev, trigger);
  }
  void DelInline(Entry& entry) { RemoveSlot(entry); }
  // Every other add and del: the fcntl check, a full array, and every
  // change with registration from any thread (another thread's change
  // during a poll, a stale array).
  absl::Status AddToKernel(const EventObject& ev, Trigger trigger);
  absl::Status ModifyInKernel(const EventObject& ev, Trigger trigger);
  absl::Status DelFromKernel(int fd, Entry& entry,
                             std::unique_lock<std::mutex>& lock);
  // A new last slot for `ev`, and its registration, but for
  // state.disarmed. The array is current.
  void AppendSlot(const EventObject& ev, Trigger trigger);
  // Swaps the last slot into `entry`'s and forgets the registration. The
  // array is current.
  void RemoveSlot(Entry& entry);
  // A disarmed slot holds the fd with the sign bit set: negative, so
  // poll(2) skips it, and one AND gives the fd back, where ~fd would take a
  // test or a shift and an XOR (del reads it for every slot it moves).
  static int DisarmedFd(int fd) {
    return static_cast<int>(static_cast<unsigned>(fd) | 0x80000000u);
  }
  static int SlotFd(const pollfd& slot) { return slot.fd & 0x7fffffff; }
  absl::StatusOr<absl::Span<const EventObject>> Wait(
      absl::Duration timeout, const sigset_t* mask) override;
  absl::Status Wake() override;
  // Unimplemented: poll(2) has no kernel object to export.
  absl::StatusOr<int> NativeHandle() override;

  // One ppoll over the array; its result, errno set on failure.
  int Poll(absl::Duration timeout, const sigset_t* mask);
  // Reads `ready` results of the last poll into the batch. Returns whether
  // the wake fd was among them.
  bool Collect(int ready);
  // A change from another thread while the waiter polls: have it rebuild
  // the array. Requires the table lock.
  void MarkStale();
  // The array from the table. Requires the table lock; the waiter only.
  void Rebuild();
  absl::Status AfterFork() override;

  bool check_fd_on_add_ = true;  // PollerOptions::check_fd_on_add
  internal::WakeFd wake_fd_;
  std::vector<pollfd> pollfds_;  // [0] is the wake fd
  // Where the next result scan starts; past the end after dels, until the
  // next scan (Collect) starts from 1 instead.
  std::size_t next_scan_ = 1;

  // Registration from any thread (all guarded by the table lock, but
  // user_wake_). The waiter is inside ppoll with the array.
  bool in_poll_ = false;
  bool pollfds_stale_ = false;    // the table changed while it polled
  std::uint64_t poll_round_ = 0;  // ppoll returns, for del to wait on
  std::condition_variable poll_returned_;
  std::atomic<bool> user_wake_{false};  // wake() as opposed to a change
};

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void PollPoller::AppendSlot(
    const EventObject& ev, Trigger trigger) {
  const std::size_t slot = pollfds_.size();
  pollfds_.push_back(pollfd{
      ev.fd, static_cast<short>(internal::ToPollMaskByTable(ev.events)), 0});
  // state.disarmed is the caller's: the fd number's last registration's
  // until then.
  table_.InsertReached(ev, trigger).state.slot =
      static_cast<std::uint32_t>(slot);
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void PollPoller::RemoveSlot(Entry& entry) {
  // The last slot moves into the hole, without a test for the hole being
  // the last slot: then the copy and the index store rewrite what is
  // already there (the fd's own slot and index).
  pollfd* const hole = pollfds_.data() + entry.state.slot;
  *hole = pollfds_.back();
  // The last slot's fd is registered, so the table reaches it.
  table_.At(SlotFd(*hole)).state.slot = entry.state.slot;
  pollfds_.pop_back();
  // next_scan_ may now be past the end: Collect() brings it back before it
  // scans, once per wait rather than once per del.
  table_.Erase(entry, MayScrubBatch());
}

}  // namespace pollio

#endif  // POLLIO_BACKENDS_POLL_POLL_POLLER_H_
