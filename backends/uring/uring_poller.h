// Copyright 2026 The pollio Authors.
//
// -----------------------------------------------------------------------------
// File: backends/uring/uring_poller.h
// -----------------------------------------------------------------------------
//
// UringPoller: the Poller on io_uring's IORING_OP_POLL_ADD (Linux 5.13+),
// through liburing.
//
// What it is for: registration churn. `add` and `modify` only note the
// change (a list in user space, then submission entries); the next `wait`
// hands them all to the kernel and waits in one io_uring_enter, and an add
// that del takes back before then never reaches the kernel. An accept loop with
// many short connections pays one system call per wait instead of an epoll_ctl
// per add. Where the set of fds is stable and long-lived, epoll is the better
// default (it is the OsPoller on Linux): each level-triggered report here costs
// a re-arm.
//
// `del` and the file: an armed poll holds a reference to the fd's file, so
// `del` must not leave it armed, or the caller's `close` would release
// nothing (a listener would stay bound and keep accepting, a peer would get
// no FIN). `del` therefore returns only when no request of that
// registration holds the file:
//   * a poll still queued (the kernel has not seen it: add and del between
//     two waits) is turned into a no-op in place: no system call;
//   * a level or oneshot poll that has completed holds nothing: no call;
//   * a poll armed in the kernel is cancelled (IORING_OP_ASYNC_CANCEL) in
//     one io_uring_enter, which also submits whatever else is queued and
//     runs the completion work the kernel defers to this thread
//     (DEFER_TASKRUN), where the cancelled poll lets go of the file.
// The completions this leaves behind are consumed by the next wait and
// never end it early.
//
//   * kLevel: single-shot POLL_ADD, re-armed by the next wait after each
//     completion (so readiness is judged after the caller handled the batch),
//     and reported again while the fd stays ready. The wait that reaps the
//     completion writes the re-arm into the submission queue, and the next
//     wait's io_uring_enter submits it; a del or modify that must enter the
//     kernel in between takes those re-arms back first (no-ops in place),
//     and the next wait queues them again.
//   * kEdge: multishot POLL_ADD (IORING_POLL_ADD_MULTI): one completion per
//     wake-up of the fd; re-armed when a completion lacks IORING_CQE_F_MORE.
//   * kOneshot: single-shot POLL_ADD, not re-armed until `modify`.
//   * kExclusive: as kLevel (io_uring has no exclusive poll): every poller
//     waiting on a shared fd wakes.
//   * `modify` queues a cancel of the old request (or turns it into a no-op
//     if the kernel has not seen it yet) and a POLL_ADD of the new one
//     (poll_update cannot change single-shot to multishot, and races with a
//     completion already posted).
//   * Stale completions: the user data carries a per-fd generation in bits
//     40..62 (event/event.h leaves bits 40..63 to backends), advanced by
//     every add and modify; completions of older generations, of removals
//     and -ECANCELED ones never reach the caller, and they never end a wait
//     early: a wait that wakes up to nothing but them goes on waiting for
//     the rest of its timeout. A cancel answered -EALREADY is retried by the
//     next wait, so no poll outlives its registration.
//   * A full submission queue is flushed to the kernel (one io_uring_enter)
//     and never reported as an error. If that flush meets completion-queue
//     backpressure (EBUSY or EAGAIN: completions backed up until reaped),
//     wait reaps first and submits the rest after; while still backed up it
//     does not block, and may return an empty batch before its timeout.
//   * A failed io_uring_enter in wait after completions were already reaped
//     returns those results; the submissions it did not make stay queued,
//     and the next wait reports the error if it persists. EINTR from
//     flushing a full queue or from enabling the ring is retried: a wait
//     never fails with EINTR.
//   * Timeouts: nanosecond precision through IORING_ENTER_EXT_ARG.
//   * `add` checks the fd is open (fcntl F_GETFD), as poll does, unless
//     PollerOptions::check_fd_on_add is false; then a closed fd shows up as
//     kError from wait. Regular
//     files are accepted and always ready, as with poll(2).
//   * Hint semantics, as the kernel gives them: a completion carries the
//     readiness recorded when the fd woke, so an fd that became ready and
//     was drained again before the next wait may be reported once more
//     (read until EAGAIN, as always).
//   * Readiness bit for bit, as poll(2) (POLLRDHUP kReadClosed, POLLHUP
//     kHangup, POLLERR kError, an EBADF completion kError; kPriority
//     interest polls POLLPRI, reported as kPriority: see the next
//     point), with one exception: the kernel polls EPOLLRDHUP whatever the mask
//     asks for, so a registration without kReadable interest may complete on a
//     peer's shutdown of writing. pollio drops that kReadClosed when the
//     completion also carries another bit (so a writable half-closed socket
//     reports kWritable alone, as on epoll) and under kEdge; it reports
//     kReadClosed alone when that is all a kLevel or kOneshot poll completed
//     on (a write-only fd whose send buffer is full when the peer shuts down
//     writing). Dropping that one would leave the fd unwatched until the
//     next wait, so a writer would miss the room it waits for. The price:
//     such a kLevel registration makes every wait return at once with
//     kReadClosed until the fd is writable (epoll and poll stay silent);
//     under kEdge it is quiet.
//   * kPriority: a poll that a wake-up completes carries the wake-up's key,
//     not the file's state, and sockets wake readers with EPOLLIN | EPOLLPRI
//     for ordinary data. So pollio confirms POLLPRI with one poll(2) before
//     it reports kPriority (paid only under kPriority interest), and a
//     kOneshot completed by such a wake-up alone is re-armed, not spent.
//     Urgent data arriving while a poll waits comes as kReadable |
//     kPriority, though a lone urgent byte is not readable (the key again;
//     readiness is a hint). The kernel's wake-up filter leaves EPOLLPRI out
//     (IO_ASYNC_POLL_COMMON), so a registration with kPriority but without
//     kReadable is not woken by urgent data that arrives while its poll
//     waits: it sees urgent data already there when its poll is armed (at
//     add, modify, each level re-arm). Ask for kPriority with kReadable.
//   * `close` without `del` (a caller error: poller/poller.h) does not
//     close the file while its poll is armed: unlike epoll, which holds no
//     reference, the socket stays open (a listener keeps listening and the
//     kernel keeps completing connections on it) until `del`, the poller's
//     destruction or, at process exit, the kernel's asynchronous teardown of
//     the ring. A forked child inherits the ring, and with it every armed
//     poll's file, until it closes the ring fd (ReinitAfterFork() or the
//     poller's destruction) or exits. Once the armed poll
//     completes, an fd number no longer open reports kError (the re-armed
//     poll fails with EBADF) until it is del'd; under kLevel once per wait.
//   * Result order: completion order, as the kernel posts them.
//   * wake(): an eventfd the ring polls.
//   * native_handle() (poller/poller.h): once nested, a change whose
//     immediate submission fails stays queued, and the handle is signalled,
//     so that the outer loop calls wait, which submits it (or reports the
//     error) instead of blocking on a poll the kernel never got.
//
// Threads: stricter than the other backends. io_uring completes a request
// through work queued to the thread that submitted it, so a ring cannot
// simply be handed between threads. On Linux 6.1+ the ring is created with
// IORING_SETUP_SINGLE_ISSUER and DEFER_TASKRUN and belongs to the first
// thread that submits to it (its first wait, or a modify or del that must
// reach the kernel): create it anywhere, then keep every call but wake() on
// that one thread; calls from another thread fail with EEXIST. (DEFER_TASKRUN
// is also what keeps io_uring from interrupting the thread's other blocking
// calls, such as an epoll_wait, with EINTR.)
//
// Registration from any thread (PollerOptions::registration_from_any_thread):
// only the owner thread touches the submission queue. Another thread's add
// and modify go to a list the owner submits from, with a wake through the
// ring's wake fd (which then carries no user wake: a flag tells them
// apart); its del of an armed poll hands the cancel over and waits until
// the owner has flushed it (one io_uring_enter) and the file is released,
// so it blocks while the owner is not in wait. native_handle() and
// registration from any thread are not meant to be combined.
//
// Teardown: destroying a UringPoller cancels and reaps its requests first,
// but the kernel's ring exit (15-30 ms after) still interrupts each thread
// the kernel linked to the ring once (io_ring_exit_work queues task work
// with TWA_SIGNAL), and no system call unlinks a thread before that. pollio
// keeps the interruption from ending anyone's wait early: the ring is set
// up on a short-lived thread of its own, so only the thread that first
// submits to it is linked. That thread is a bare clone(2) glibc does not
// count, so a single-threaded process stays single-threaded and its reads,
// writes and mallocs keep glibc's single-threaded paths (a pthread would
// cost each read or write about 45 instructions for good); builds with
// ThreadSanitizer, which cannot follow such a thread, and for machines
// other than x86-64, AArch64 and RISC-V 64, where liburing's system calls
// set errno, use a pthread. The
// destructor announces the interruption for the owner thread
// (backends/internal/teardown_interrupt.h), whose epoll waits then block in
// a restartable ppoll for about a second; poll (ppoll) and
// io_uring waits are restarted by the kernel anyway. What remains: a
// blocking call of the caller's own (an epoll_wait outside pollio, a read)
// on the ring's owner thread may still see one EINTR, as libuv's and
// liburing's users do; and a KqueuePoller on the Linux emulation is not
// covered.
//
// fork(): the ring's queues are memory the parent and the child both map,
// so whatever the child writes there is the parent's ring changing: an
// entry it queues sits in the parent's submission queue (only the parent's
// thread may submit to a SINGLE_ISSUER ring, but the memory is shared all
// the same), and a completion it reaps is lost to the parent. So a child
// must not wait, modify or del before ReinitAfterFork() (poller/poller.h),
// which touches neither queue: it unmaps and closes the child's copy
// (io_uring_queue_exit, which in liburing 2.3 is munmap and close, with no
// submission and no io_uring_register for a ring fd that was never
// registered), sets up a new ring as Create does (on a short-lived thread of
// its own, with the same RingOptions) and a new wake eventfd, forgets the
// old ring's requests (live requests, removals to retry, the wake poll, the
// threads linked to it), and queues a poll for every registration, which
// the next wait submits. A kOneshot that fired, and a kEdge poll that failed
// (EBADF), have no request and stay without one until modify. Destroying a
// UringPoller in a fork child that did not call it unmaps and closes the
// child's copy and submits nothing either: the cancellations the destructor
// makes in its owner process are skipped there. If the new ring cannot be
// set up, wait() returns FailedPrecondition until destruction.
//
// Availability: when io_uring is switched off (kernel.io_uring_disabled,
// a seccomp filter such as Docker's default one: EPERM) or absent (ENOSYS),
// or the kernel lacks IORING_FEAT_EXT_ARG, `Create` returns Unavailable
// naming the cause and AvailableBackends() leaves uring out.
//
// Not thread-safe except wake(); see poller/poller.h.

#ifndef POLLIO_BACKENDS_URING_URING_POLLER_H_
#define POLLIO_BACKENDS_URING_URING_POLLER_H_

#include <liburing.h>

#include <atomic>
#include <condition_variable>
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

// UringPoller's per-fd state in the registration table (a 64-byte entry).
struct UringState {
  // The registration's user data: kind, fd, and in bits 40..62 a generation
  // advanced by every add and modify (backends/internal/user_data.h). A
  // completion that does not carry exactly this is stale. Kept across del
  // and re-add of the fd number, with bit 63 set while the number is not
  // registered, which no poll's user data has.
  std::uint64_t user_data = 0;
  // user_data if the registration is of the common kind ReapCommon() takes
  // (kLevel, with read interest), else ~0, which no completion carries: one
  // comparison tells a completion it can take.
  std::uint64_t common_user_data = ~std::uint64_t{0};
  // The poll's submission entry but for its zeros and user data: bytes 0..7
  // (opcode and fd) and 24..31 (len, multishot under kEdge, and the poll
  // mask), set by add and modify, so that a re-arm is a few stores.
  std::uint64_t poll_head = 0;
  std::uint64_t poll_mask = 0;
  // Where the fd's last poll went in the submission queue.
  unsigned submission_position = 0;
  // Whether that poll is queued or armed, or due at the next wait.
  std::uint32_t request = 0;
};

class UringPoller final : public internal::PollerBase<UringPoller, UringState> {
 public:
  // UringPoller::RingOptions
  //
  // Ring sizing, and a seam for tests.
  struct RingOptions {
    // Submission queue depth. More registrations than this are fine: a full
    // queue is flushed to the kernel.
    unsigned submission_entries = 256;
    // Completion queue depth. Completions beyond it wait in the kernel's
    // overflow list (IORING_FEAT_NODROP) and are delivered later.
    unsigned completion_entries = 4096;
    // The ring set-up call, with io_uring_queue_init_params's contract
    // (0 or -errno). Tests replace it to exercise the Unavailable path
    // without root. It runs on the bare set-up thread, which shares the
    // caller's thread-local storage: it must not touch errno or any other
    // thread-local (liburing's set-up touches none).
    int (*setup)(unsigned entries, io_uring* ring,
                 io_uring_params* params) = &io_uring_queue_init_params;
  };

  // UringPoller::Create()
  //
  // Unavailable (naming the cause) when the kernel refuses io_uring;
  // InvalidArgument for out-of-range options; other OS errors as statuses.
  static absl::StatusOr<std::unique_ptr<UringPoller>> Create(
      PollerOptions options = {});
  static absl::StatusOr<std::unique_ptr<UringPoller>> Create(
      PollerOptions options, RingOptions ring_options);

  ~UringPoller() override;

  // UringPoller::RingStats
  //
  // Diagnostics: kernel requests this poller has issued and not yet seen
  // complete (polls, including ones whose registration is gone, and
  // removals), and entries waiting in the two queues. With every fd del'd
  // and a few waits done, all three return to zero.
  // `enter_calls` counts the io_uring_enter calls this poller has made
  // (liburing may skip one that has nothing to do, so it is an upper bound):
  // a wait makes one (plus one per round of deferred work the kernel left
  // behind); a del of a poll the kernel holds makes one.
  struct RingStats {
    std::size_t live_requests = 0;
    unsigned submissions_queued = 0;
    unsigned completions_ready = 0;
    std::uint64_t enter_calls = 0;
  };
  RingStats ring_stats() const;

 private:
  friend class internal::PollerBase<UringPoller, UringState>;

  UringPoller(internal::WakeFd wake_fd, int max_events);

  absl::Status AddToKernel(const EventObject& ev, Trigger trigger);
  absl::Status ModifyInKernel(const EventObject& ev, Trigger trigger);
  absl::Status DelFromKernel(int fd, Entry& entry,
                             std::unique_lock<std::mutex>& lock);
  absl::StatusOr<absl::Span<const EventObject>> Wait(
      absl::Duration timeout, const sigset_t* mask) override;
  absl::Status Wake() override;
  // An eventfd registered with the ring; from the first call on, changes
  // are submitted at once (SubmitNow) so that an outer loop watching it
  // sees every poll.
  absl::StatusOr<int> NativeHandle() override;
  // Hands every queued change to the kernel now (nested mode).
  void SubmitNow();
  void DrainNestedEventfd();
  // Registration from any thread: whether the caller may touch the
  // submission queue (the ring's owner, outside io_uring_enter), and the
  // nudge that makes a blocked owner pick up handed-over changes. Both
  // require the table lock.
  bool OnOwnerThread() const;
  void NotifyWaiter();
  void SignalNestedEventfdIfBehind();
  absl::Status AfterFork() override;

  // Sets up ring_ with ring_options_ on a thread of its own (the caller's
  // if none can be started) and queues the wake poll. Sets ring_ready_ as
  // soon as ring_ needs io_uring_queue_exit, even if it then fails.
  absl::Status SetUpRing();

  // Makes room for `count` submission entries, flushing the queue to the
  // kernel if needed. Afterwards io_uring_get_sqe succeeds `count` times.
  absl::Status ReserveSubmissions(unsigned count, std::string_view method,
                                  int fd);
  // Binds a ring created disabled to the calling thread, once.
  absl::Status EnableRing(std::string_view method, int fd);
  void QueuePoll(Entry& entry);
  void QueueRemoval(std::uint64_t target);
  // The submission entry at `position` if the kernel has not consumed it
  // yet, else null.
  io_uring_sqe* UnconsumedSubmission(unsigned position);
  // The queued poll of `fd`'s current registration if the kernel has not
  // seen it yet, else null.
  io_uring_sqe* UnsubmittedPoll(const Entry& entry);
  // Turns a queued request the kernel has not seen into a no-op.
  void Withdraw(io_uring_sqe& sqe);
  // Submits what is queued and runs the deferred completion work, so that
  // a cancelled poll has let go of its file when this returns.
  absl::Status FlushRemovals(int fd);
  void QueueWakePoll();
  // Reaps completions into the batch; leaves in the ring any it cannot take
  // now (batch full), for the next wait. A level poll that completed is
  // re-armed into the submission queue at once if `rearm_now` and there is
  // room (the next wait's io_uring_enter submits it), else listed for the
  // next wait. Returns how many it consumed.
  unsigned ReapCompletions(bool rearm_now);
  // The common completions at the head of the completion queue, as fast as
  // they go: level polls of readable registrations that report, while the
  // batch and the submission queue have room. Returns how many it consumed.
  // Inlined into wait: for a batch of one, a call's register saves and
  // reloads were a sixth of its cost.
  ABSL_ATTRIBUTE_ALWAYS_INLINE inline unsigned ReapCommon();
  // Any one completion, the general way (ReapCompletions' `rearm_now`); false
  // if the batch has no room for it.
  bool HandleCompletion(const io_uring_cqe& cqe, bool rearm_now);
  // A completion of a control request (wake poll, removal, no-op).
  void HandleControlCompletion(const io_uring_cqe& cqe);
  // Before anything submits outside wait (del's flush, a full queue in
  // modify or del): the re-arms the last wait queued are taken back (made
  // no-ops) and listed for the next wait, so that readiness is still judged
  // only after the caller has handled the batch.
  void WithdrawRearms();
  // Sets the user data (a new generation) and the poll's submission entry
  // of `entry`'s registration, as add and modify change them.
  static void ShapeRequest(Entry& entry);
  void CancelAndReapAll();
  // Queues the re-arms and removal retries the last wait left pending.
  absl::Status QueuePendingRequests();
  // Whether QueuePendingRequests() has anything to do.
  bool HasPendingRequests() const {
    return !wake_poll_armed_ || !pending_removals_.empty() ||
           !pending_polls_.empty();
  }
  // wait()'s QueuePendingRequests(): OK to go on (queued, or EBUSY or
  // EAGAIN relieved by reaping, with `timeout` made zero if that was not
  // enough), else the error to return. Out of line: a wait with nothing
  // pending never calls it.
  ABSL_ATTRIBUTE_NOINLINE absl::Status QueuePendingRequestsOrRelieve(
      absl::Duration* timeout);
  // Its relief, when QueuePendingRequests() failed with `status`.
  absl::Status RelieveBackpressure(const absl::Status& status,
                                   absl::Duration* timeout);

  io_uring ring_{};
  RingOptions ring_options_;  // as Create got them, for AfterFork()
  bool ring_ready_ = false;
  bool ring_disabled_ = false;   // IORING_SETUP_R_DISABLED until first use
  bool check_fd_on_add_ = true;  // PollerOptions::check_fd_on_add
  bool skip_nop_completions_ = false;  // IORING_FEAT_CQE_SKIP
  bool woken_ = false;                 // the current wait saw wake()
  bool nested_ = false;                // native_handle() was called
  int nested_eventfd_ = -1;            // native_handle(), once called

  // Registration from any thread, guarded by the table lock (but
  // user_wake_): the owner is inside io_uring_enter; dels waiting for their
  // cancels to be flushed, and the count of such flushes.
  bool in_wait_ = false;
  int removal_waiters_ = 0;
  std::uint64_t flush_round_ = 0;
  std::condition_variable removals_flushed_;
  std::atomic<bool> user_wake_{false};  // wake() as opposed to a change
  std::uint64_t enter_calls_ = 0;
  // Threads the kernel linked to the ring, which its teardown interrupts:
  // [0] the creator, when the set-up could not run on a thread of its own;
  // [1] the first submitter. 0: none.
  int linked_threads_[2] = {0, 0};
  internal::WakeFd wake_fd_;
  std::size_t live_requests_ = 0;
  bool wake_poll_armed_ = false;
  // fds whose poll the next wait submits: added, modified, or re-armed
  // when the submission queue had no room (or re-arms withdrawn).
  std::vector<int> pending_polls_;
  // Where the re-arms of the last wait's batch begin in the submission
  // queue (its tail after the wait's last io_uring_enter).
  unsigned rearms_from_ = 0;
  std::vector<std::uint64_t> pending_removals_;  // removals to retry
};

}  // namespace pollio

#endif  // POLLIO_BACKENDS_URING_URING_POLLER_H_
