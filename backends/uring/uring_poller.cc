// Copyright 2026 The pollio Authors.

#include "backends/uring/uring_poller.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/config.h"
#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "backends/internal/errors.h"
#include "backends/internal/poll_events.h"
#include "backends/internal/teardown_interrupt.h"
#include "backends/internal/timeout.h"
#include "backends/internal/user_data.h"
#include "backends/internal/wake_fd.h"
#include "event/event.h"

namespace pollio {
namespace {

using internal::GenerationOf;
using internal::NextGeneration;
using internal::UserData;

// User data: kind, fd and generation (backends/internal/user_data.h). Bit 63
// marks a removal, whose user data is its target's, so a removal that must
// be retried knows what to remove.
constexpr std::uint64_t kRemovalFlag = std::uint64_t{1} << 63;

// UringState::user_data of an fd number not registered: no poll's user data
// has bit 63, so no completion matches it.
constexpr std::uint64_t kNotRegisteredFlag = std::uint64_t{1} << 63;

// Control requests. Their fd bits are all ones, which no Encode() of a
// non-negative fd produces; liburing's own timeout marker
// (LIBURING_UDATA_TIMEOUT, all ones) is another such value.
constexpr std::uint64_t kWakeData = ~std::uint64_t{1};
// A poll withdrawn from the submission queue before the kernel saw it.
constexpr std::uint64_t kNopData = ~std::uint64_t{5};

// UringState::request: a poll request of the current generation is queued
// or armed in the kernel (kInFlight; UnsubmittedPoll() tells which), or is
// due to be submitted by the next wait (kPollPending: a new registration, a
// modified one, or a level re-arm, waiting in pending_polls_).
constexpr std::uint32_t kInFlight = 1;
constexpr std::uint32_t kPollPending = 2;

// Whether `fd` has priority (urgent) data now, as poll(2) sees it; true if
// poll(2) fails, so that a completion's kPriority is kept then.
bool HasPriorityData(int fd) {
  pollfd entry{fd, POLLPRI, 0};
  if (::poll(&entry, 1, 0) < 0) return true;
  return (entry.revents & POLLPRI) != 0;
}

// Set-up flags, best first; each step down is for an older kernel (EINVAL).
//   DEFER_TASKRUN (6.1) runs completion work only inside our own
//   io_uring_enter. Without it the kernel flags the thread with
//   TIF_NOTIFY_SIGNAL, which makes that thread's other blocking calls, an
//   epoll_wait for one, return EINTR. It needs SINGLE_ISSUER; R_DISABLED
//   makes the owner the first thread that submits, not the creator.
//   SUBMIT_ALL (5.18) keeps one bad entry from stopping a batch;
//   COOP_TASKRUN (5.19) at least spares the interrupts.
//   TASKRUN_FLAG makes the kernel say (IORING_SQ_TASKRUN) when completion
//   work is still pending: recent kernels run only ~20 deferred items per
//   io_uring_enter, and wait() goes back for the rest while it has room.
constexpr unsigned kSetupFlags[] = {
    IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
        IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
        IORING_SETUP_R_DISABLED,
    IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
    IORING_SETUP_CQSIZE,
};

// Whether a failed submission met completion-queue backpressure (EBUSY,
// EAGAIN), which reaping completions relieves.
bool IsBackpressure(const absl::Status& status) {
  const std::optional<int> error = ErrnoFromStatus(status);
  return error == EBUSY || error == EAGAIN;
}

// internal::kLongestFiniteTimeout in seconds, without a call to convert it.
constexpr std::int64_t kLongestFiniteSeconds = 2147483647;
static_assert(absl::Seconds(kLongestFiniteSeconds) ==
              internal::kLongestFiniteTimeout);

// Bounds the extra io_uring_enter calls one wait makes for pending work.
constexpr int kMaxTaskRunRounds = 64;

// Control request that cancels everything, at destruction.
constexpr std::uint64_t kCancelAllData = ~std::uint64_t{3};

// The ring set-up, run on a thread of its own (RunSetup) so that the
// caller's thread does not become one the ring's teardown interrupts: the
// kernel links the creating thread to the ring, and only a thread's exit
// unlinks it.
struct SetupCall {
  int (*setup)(unsigned, io_uring*, io_uring_params*);
  unsigned entries;
  io_uring* ring;
  unsigned completion_entries;
  io_uring_params params;
  int result;
};

void RunSetup(SetupCall& call) {
  call.result = -EINVAL;
  for (unsigned flags : kSetupFlags) {
    call.params = io_uring_params{};
    call.params.flags = flags;
    call.params.cq_entries = call.completion_entries;
    call.result = call.setup(call.entries, call.ring, &call.params);
    if (call.result != -EINVAL) break;
  }
}

// liburing makes its system calls itself (no errno) on these; elsewhere it
// goes through libc's syscall(), whose errno the bare thread below would
// share with the waiting caller.
#if defined(__x86_64__) || defined(__aarch64__) || \
    (defined(__riscv) && __riscv_xlen == 64)
#define POLLIO_URING_BARE_SETUP_THREAD 1
#endif

#if defined(ABSL_HAVE_THREAD_SANITIZER) || \
    !defined(POLLIO_URING_BARE_SETUP_THREAD)

// ThreadSanitizer takes a clone(2) for a fork and cannot follow a thread it
// did not start, so its builds set up on an ordinary pthread, as builds for
// architectures where liburing's system calls set errno do.
bool RunSetupOnOwnThread(SetupCall& call) {
  pthread_t thread;
  void* (*run)(void*) = [](void* argument) -> void* {
    RunSetup(*static_cast<SetupCall*>(argument));
    return nullptr;
  };
  if (::pthread_create(&thread, nullptr, run, &call) != 0) return false;
  ::pthread_join(thread, nullptr);
  return true;
}

#else

// The set-up thread is a bare clone(2) that glibc never hears of. A
// pthread_create would mark the process multi-threaded for good, and from
// then on every read, write and malloc of a single-threaded server takes
// glibc's multi-threaded path (about 45 instructions more per read or
// write: cancellation points, atomics). The thread shares the caller's
// thread-local storage, which is safe because it only runs RunSetup:
// liburing's set-up makes its system calls itself and touches neither errno
// nor anything else thread-local. It starts with every signal blocked
// (but the two glibc keeps for itself, which it sends only to threads it
// knows of), so none is delivered to it, and the kernel clears `thread_id` and
// wakes the futex on it when the thread has exited (CLONE_CHILD_CLEARTID),
// which is what pthread_join waits for too.
bool RunSetupOnOwnThread(SetupCall& call) {
  constexpr std::size_t kStackBytes = std::size_t{256} << 10;
  const std::size_t guard_bytes = static_cast<std::size_t>(::getpagesize());
  void* const mapping =
      ::mmap(nullptr, guard_bytes + kStackBytes, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping == MAP_FAILED) return false;
  char* const stack = static_cast<char*>(mapping) + guard_bytes;
  bool started = false;
  if (::mprotect(stack, kStackBytes, PROT_READ | PROT_WRITE) == 0) {
    int (*run)(void*) = [](void* argument) {
      RunSetup(*static_cast<SetupCall*>(argument));
      return 0;
    };
    constexpr int kThreadFlags = CLONE_VM | CLONE_FS | CLONE_FILES |
                                 CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                                 CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    sigset_t every_signal;
    sigset_t caller_signals;
    ::sigfillset(&every_signal);
    ::pthread_sigmask(SIG_SETMASK, &every_signal, &caller_signals);
    pid_t thread_id = 0;
    started = ::clone(run, stack + kStackBytes, kThreadFlags, &call, &thread_id,
                      nullptr, &thread_id) != -1;
    ::pthread_sigmask(SIG_SETMASK, &caller_signals, nullptr);
    while (started) {
      const pid_t running = __atomic_load_n(&thread_id, __ATOMIC_ACQUIRE);
      if (running == 0) break;
      ::syscall(SYS_futex, &thread_id, FUTEX_WAIT, running, nullptr, nullptr,
                0);
    }
  }
  ::munmap(mapping, guard_bytes + kStackBytes);
  return started;
}

#endif  // ABSL_HAVE_THREAD_SANITIZER || !POLLIO_URING_BARE_SETUP_THREAD

// Whether the setup ran on a thread of its own (false: on the caller's,
// because no thread could be started).
bool SetUpOnOwnThread(SetupCall& call) {
  if (RunSetupOnOwnThread(call)) return true;
  RunSetup(call);
  return false;
}

absl::Status SetupError(int error_number) {
  if (error_number == ENOSYS) {
    return absl::UnavailableError(
        "io_uring_setup: ENOSYS: the kernel was built without io_uring");
  }
  if (error_number == EPERM || error_number == EACCES) {
    std::string disabled = "unknown";
    std::ifstream sysctl("/proc/sys/kernel/io_uring_disabled");
    if (sysctl) std::getline(sysctl, disabled);
    return absl::UnavailableError(absl::StrCat(
        "io_uring_setup: ", std::strerror(error_number),
        ": io_uring is switched off (kernel.io_uring_disabled=", disabled,
        ") or blocked by a seccomp filter"));
  }
  return internal::ErrnoError(error_number, "io_uring_queue_init_params");
}

// Writes the poll request `state` describes into `sqe`: the entry
// io_uring_prep_poll_add and io_uring_sqe_set_data64 make (ShapeRequest
// keeps its nonzero bytes), in eight stores.
static_assert(sizeof(io_uring_sqe) == 64 && offsetof(io_uring_sqe, len) == 24 &&
              offsetof(io_uring_sqe, poll32_events) == 28 &&
              offsetof(io_uring_sqe, user_data) == 32);

inline void WritePoll(io_uring_sqe& sqe, const UringState& state) {
  char* const bytes = reinterpret_cast<char*>(&sqe);
  std::memcpy(bytes, &state.poll_head, 8);       // opcode, flags, ioprio, fd
  std::memset(bytes + 8, 0, 16);                 // off, addr
  std::memcpy(bytes + 24, &state.poll_mask, 8);  // len, poll32_events
  std::memcpy(bytes + 32, &state.user_data, 8);
  // buf_index, personality, file_index, addr3, __pad2
  std::memset(bytes + 40, 0, 24);
}

// The readiness a poll completion with result `res` reports for
// `registration`.
Events PollEvents(const Registration& registration, int res) {
  if (res < 0) {
    // EBADF: closed while registered. -ECANCELED: nothing to report.
    return res == -ECANCELED ? Events::kNone : Events::kError;
  }
  Events events = internal::FromPollResult(static_cast<unsigned>(res));
  // The kernel polls EPOLLRDHUP whatever the mask asked for
  // (IO_POLL_UNMASK), so a registration without read interest can see a
  // half-close it did not ask about. Drop it when the completion says
  // something else as well, or under kEdge, whose multishot poll goes on
  // watching. A single-shot poll that completed on it alone must report it:
  // kLevel re-arms only at the next wait (at once, it would complete at
  // once: a spin), so dropping it would leave the fd unwatched for the rest
  // of this wait, and kOneshot would be spent on nothing; either way a
  // writer waiting for room would not hear of it.
  if (!Has(registration.interest, Events::kReadable) &&
      (events != Events::kReadClosed ||
       registration.trigger == Trigger::kEdge)) {
    events &= ~Events::kReadClosed;
  }
  return events;
}

}  // namespace

absl::StatusOr<std::unique_ptr<UringPoller>> UringPoller::Create(
    PollerOptions options) {
  return Create(options, RingOptions{});
}

absl::StatusOr<std::unique_ptr<UringPoller>> UringPoller::Create(
    PollerOptions options, RingOptions ring_options) {
  if (absl::Status status = internal::CheckOptions("uring", options);
      !status.ok()) {
    return status;
  }
  absl::StatusOr<internal::WakeFd> wake_fd = internal::WakeFd::Create();
  if (!wake_fd.ok()) return wake_fd.status();
  // The constructor is private, so std::make_unique cannot reach it.
  std::unique_ptr<UringPoller> poller(
      new UringPoller(*std::move(wake_fd), options.max_events));
  poller->set_any_thread(options.registration_from_any_thread);
  poller->check_fd_on_add_ = options.check_fd_on_add;
  poller->ring_options_ = ring_options;
  if (absl::Status status = poller->SetUpRing(); !status.ok()) return status;
  return poller;
}

absl::Status UringPoller::SetUpRing() {
  SetupCall call{ring_options_.setup,
                 ring_options_.submission_entries,
                 &ring_,
                 ring_options_.completion_entries,
                 io_uring_params{},
                 -EINVAL};
  if (!SetUpOnOwnThread(call)) {
    linked_threads_[0] = internal::CurrentThreadId();
  }
  const io_uring_params& params = call.params;
  if (call.result < 0) return SetupError(-call.result);
  ring_ready_ = true;
  ring_disabled_ = (params.flags & IORING_SETUP_R_DISABLED) != 0;
  skip_nop_completions_ = (params.features & IORING_FEAT_CQE_SKIP) != 0;
  if ((params.features & IORING_FEAT_EXT_ARG) == 0) {
    return absl::UnavailableError(
        "io_uring: the kernel lacks IORING_FEAT_EXT_ARG (Linux 5.11+), "
        "needed for timed waits in one system call");
  }
  QueueWakePoll();
  return absl::OkStatus();
}

UringPoller::UringPoller(internal::WakeFd wake_fd, int max_events)
    : PollerBase(Backend::kUring, kAllTriggers | kPriorityInterest, max_events),
      wake_fd_(std::move(wake_fd)) {
  // Grows past this only when more adds than max_events come between two
  // waits (each reaped completion adds at most one re-arm).
  pending_polls_.reserve(static_cast<std::size_t>(max_events));
  pending_removals_.reserve(64);  // -EALREADY retries are rare
}

UringPoller::~UringPoller() {
  if (!ring_ready_) return;
  // In a fork child that kept the parent's ring, cancelling would submit
  // to the parent's queue, and the threads linked to it are the parent's:
  // only unmap and close the child's copy.
  const bool parents_ring = InForkChild();
  if (!ring_disabled_ && !parents_ring) CancelAndReapAll();
  io_uring_queue_exit(&ring_);
  if (nested_eventfd_ >= 0) ::close(nested_eventfd_);
  if (parents_ring) return;
  for (const int thread_id : linked_threads_) {
    if (thread_id != 0) internal::ExpectTeardownInterrupt(thread_id);
  }
}

void UringPoller::CancelAndReapAll() {
  // Requests still armed at io_uring_queue_exit are cancelled by the
  // kernel's exit work, which hands their completion to this thread as task
  // work, and that makes the thread's next epoll_wait fail with EINTR. So
  // cancel them here and reap every completion first.
  if (io_uring_sq_space_left(&ring_) == 0 && io_uring_submit(&ring_) < 0) {
    return;
  }
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) return;
  io_uring_prep_cancel64(sqe, 0,
                         IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY);
  io_uring_sqe_set_data64(sqe, kCancelAllData);
  bool cancel_done = false;
  // Outstanding: our polls and removals, the wake poll, the cancel itself.
  for (int round = 0; round < 100 && !(cancel_done && live_requests_ == 0 &&
                                       !wake_poll_armed_);
       ++round) {
    __kernel_timespec timeout{0, 10'000'000};
    io_uring_cqe* first = nullptr;
    io_uring_submit_and_wait_timeout(&ring_, &first, 1, &timeout, nullptr);
    unsigned head;
    unsigned consumed = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++consumed;
      const std::uint64_t data = io_uring_cqe_get_data64(cqe);
      if (data == kCancelAllData) {
        cancel_done = true;
      } else if (data == kWakeData) {
        wake_poll_armed_ = false;
      } else if (data != LIBURING_UDATA_TIMEOUT && data != kNopData &&
                 ((data & kRemovalFlag) != 0 ||
                  (cqe->flags & IORING_CQE_F_MORE) == 0)) {
        --live_requests_;
      }
    }
    io_uring_cq_advance(&ring_, consumed);
  }
}

absl::Status UringPoller::EnableRing(std::string_view /*method*/, int fd) {
  if (!ring_disabled_) return absl::OkStatus();
  // Debian's liburing 2.3 declares io_uring_enable_rings but does not
  // export it, so this is the system call it would make.
  long result;  // NOLINT(runtime/int): syscall's type
  do {
    result = ::syscall(__NR_io_uring_register, ring_.ring_fd,
                       IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
  } while (result != 0 && errno == EINTR);  // a wait must not fail on EINTR
  if (result != 0) {
    return internal::ErrnoError(errno, "io_uring_register", "ENABLE_RINGS", fd);
  }
  ring_disabled_ = false;
  // The first submitter owns a SINGLE_ISSUER ring, and the kernel links it
  // to the ring for good: the teardown will interrupt it.
  linked_threads_[1] = internal::CurrentThreadId();
  return absl::OkStatus();
}

absl::Status UringPoller::ReserveSubmissions(unsigned count,
                                             std::string_view method, int fd) {
  if (io_uring_sq_space_left(&ring_) >= count) return absl::OkStatus();
  // Full: hand the queue to the kernel now rather than fail the caller.
  if (absl::Status status = EnableRing(method, fd); !status.ok()) {
    return status;
  }
  int submitted = io_uring_submit(&ring_);
  // A wait must not fail on EINTR.
  while (ABSL_PREDICT_FALSE(submitted == -EINTR)) {
    submitted = io_uring_submit(&ring_);
  }
  if (submitted < 0) {
    return internal::ErrnoError(-submitted, "io_uring_submit", method, fd);
  }
  if (io_uring_sq_space_left(&ring_) < count) {
    return internal::ErrnoError(EBUSY, "io_uring_submit", method, fd);
  }
  return absl::OkStatus();
}

void UringPoller::ShapeRequest(Entry& entry) {
  const Registration& registration = entry.registration;
  entry.state.user_data =
      UserData(registration.fd, registration.kind,
               NextGeneration(GenerationOf(entry.state.user_data)));
  io_uring_sqe sqe{};
  io_uring_prep_poll_add(&sqe, registration.fd,
                         internal::ToPollMask(registration.interest));
  if (registration.trigger == Trigger::kEdge) sqe.len = IORING_POLL_ADD_MULTI;
  // Priority interest takes the general way: its POLLPRI needs a check
  // (HandleCompletion).
  entry.state.common_user_data =
      registration.trigger == Trigger::kLevel &&
              Has(registration.interest, Events::kReadable) &&
              !Has(registration.interest, Events::kPriority)
          ? entry.state.user_data
          : ~std::uint64_t{0};
  const char* const bytes = reinterpret_cast<const char*>(&sqe);
  std::memcpy(&entry.state.poll_head, bytes, sizeof(std::uint64_t));
  std::memcpy(&entry.state.poll_mask, bytes + offsetof(io_uring_sqe, len),
              sizeof(std::uint64_t));
}

void UringPoller::QueuePoll(Entry& entry) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);  // reserved by the caller
  WritePoll(*sqe, entry.state);
  entry.state.request = kInFlight;
  entry.state.submission_position = ring_.sq.sqe_tail - 1;
  ++live_requests_;
}

void UringPoller::QueueRemoval(std::uint64_t target) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);  // reserved by the caller
  // An asynchronous cancel rather than POLL_REMOVE: it marks a poll that is
  // completing at that moment as cancelled too, where POLL_REMOVE answers
  // -EALREADY and a multishot poll carries on (and keeps the file).
  io_uring_prep_cancel64(sqe, target, 0);
  io_uring_sqe_set_data64(sqe, target | kRemovalFlag);
  ++live_requests_;
}

io_uring_sqe* UringPoller::UnconsumedSubmission(unsigned position) {
  // Without SQPOLL the kernel reads submission entries only inside
  // io_uring_enter, so those between its head and our tail are still ours.
  const unsigned head = io_uring_smp_load_acquire(ring_.sq.khead);
  if (position - head >= ring_.sq.sqe_tail - head) return nullptr;
  return &ring_.sq.sqes[position & ring_.sq.ring_mask];
}

io_uring_sqe* UringPoller::UnsubmittedPoll(const Entry& entry) {
  io_uring_sqe* sqe = UnconsumedSubmission(entry.state.submission_position);
  // The position alone could be stale by 2^32 submissions: the user data
  // (fd, kind, generation) says whether the entry is still this poll.
  if (sqe == nullptr || sqe->opcode != IORING_OP_POLL_ADD ||
      sqe->user_data != entry.state.user_data) {
    return nullptr;
  }
  return sqe;
}

void UringPoller::WithdrawRearms() {
  const unsigned tail = ring_.sq.sqe_tail;
  const unsigned head = io_uring_smp_load_acquire(ring_.sq.khead);
  unsigned position = rearms_from_;
  // Consumed already (or from an older ring's count): only what the kernel
  // has not seen can be taken back.
  if (position - head > tail - head) position = head;
  for (; position != tail; ++position) {
    io_uring_sqe& sqe = ring_.sq.sqes[position & ring_.sq.ring_mask];
    if (sqe.opcode != IORING_OP_POLL_ADD || sqe.user_data == kWakeData) {
      continue;  // a removal, a no-op, the wake poll
    }
    const int fd = DecodeFd(sqe.user_data);
    Entry* entry = table_.Find(fd);
    if (entry == nullptr || entry->state.user_data != sqe.user_data ||
        entry->state.request != kInFlight ||
        entry->state.submission_position != position) {
      continue;
    }
    Withdraw(sqe);
    entry->state.request = kPollPending;
    pending_polls_.push_back(fd);
  }
  rearms_from_ = tail;
}

void UringPoller::Withdraw(io_uring_sqe& sqe) {
  // The kernel insists on consuming every entry up to the tail, so a
  // withdrawn one stays in place as a no-op.
  io_uring_prep_nop(&sqe);
  io_uring_sqe_set_data64(&sqe, kNopData);
  if (skip_nop_completions_) sqe.flags |= IOSQE_CQE_SKIP_SUCCESS;
  --live_requests_;
}

absl::Status UringPoller::FlushRemovals(int fd) {
  // Submits everything queued and runs the completion work the kernel
  // defers to this thread (DEFER_TASKRUN), which is where a cancelled poll
  // completes and drops its reference to the file.
  const int submitted = io_uring_submit_and_get_events(&ring_);
  ++enter_calls_;
  if (submitted < 0) {
    return internal::ErrnoError(-submitted, "io_uring_enter", "del", fd);
  }
  // The kernel runs a bounded number of deferred items per enter; go back
  // for the rest so that the cancellation is among those done.
  for (int round = 0;
       round < kMaxTaskRunRounds &&
       (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) != 0;
       ++round) {
    ++enter_calls_;
    if (io_uring_get_events(&ring_) < 0) break;
  }
  return absl::OkStatus();
}

void UringPoller::QueueWakePoll() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);  // reserved by the caller
  io_uring_prep_poll_add(sqe, wake_fd_.read_fd(), POLLIN);
  io_uring_sqe_set_data64(sqe, kWakeData);
  wake_poll_armed_ = true;
}

absl::Status UringPoller::AddToKernel(const EventObject& ev, Trigger trigger) {
  // The kernel would only say EBADF in a completion, after add returned.
  if (check_fd_on_add_ && ::fcntl(ev.fd, F_GETFD) < 0) {
    return internal::ErrnoError(errno, "fcntl", "F_GETFD", ev.fd);
  }
  Entry& entry = table_.InsertReached(ev, trigger);  // PollerBase::Add reached
  ShapeRequest(entry);
  // Not even into the submission queue yet: an add taken back by del before
  // the next wait then costs the kernel nothing, however many there are.
  entry.state.request = kPollPending;
  pending_polls_.push_back(ev.fd);
  if (nested_) SubmitNow();
  if (in_wait_) NotifyWaiter();
  return absl::OkStatus();
}

absl::Status UringPoller::ModifyInKernel(const EventObject& ev,
                                         Trigger trigger) {
  const Entry& old = *table_.Find(ev.fd);
  const bool was_pending = old.state.request == kPollPending;
  if (old.state.request == kInFlight && !OnOwnerThread()) {
    // Only the ring's owner touches the submission queue: hand it the
    // cancel of the old poll.
    pending_removals_.push_back(old.state.user_data);
  } else if (old.state.request == kInFlight) {
    // The old poll: still in the queue, it becomes a no-op; in the kernel,
    // it is cancelled (the fd stays registered, so that can wait for the
    // next wait).
    if (io_uring_sqe* sqe = UnsubmittedPoll(old); sqe != nullptr) {
      Withdraw(*sqe);
    } else {
      // A full queue is flushed: the last batch's re-arms wait for the
      // next wait all the same.
      if (io_uring_sq_space_left(&ring_) == 0) WithdrawRearms();
      if (absl::Status status = ReserveSubmissions(1, "modify", ev.fd);
          !status.ok()) {
        return status;
      }
      QueueRemoval(old.state.user_data);
    }
  }
  Entry& entry = table_.Update(ev, trigger);
  ShapeRequest(entry);
  entry.state.request = kPollPending;
  if (!was_pending) pending_polls_.push_back(ev.fd);
  if (nested_) SubmitNow();
  if (in_wait_) NotifyWaiter();
  return absl::OkStatus();
}

absl::Status UringPoller::DelFromKernel(int fd, Entry& entry,
                                        std::unique_lock<std::mutex>& lock) {
  if (entry.state.request == kInFlight && !OnOwnerThread()) {
    // Another thread: the owner must cancel the poll, and the file is held
    // until it has; hand the cancel over and wait for it.
    pending_removals_.push_back(entry.state.user_data);
    entry.state.user_data |= kNotRegisteredFlag;
    entry.state.common_user_data = ~std::uint64_t{0};
    table_.Erase(entry, /*scrub=*/false);
    const std::uint64_t round = flush_round_;
    ++removal_waiters_;
    NotifyWaiter();
    removals_flushed_.wait(lock, [&] { return flush_round_ != round; });
    --removal_waiters_;
    return absl::OkStatus();
  }
  if (entry.state.request == kInFlight) {
    if (io_uring_sqe* sqe = UnsubmittedPoll(entry); sqe != nullptr) {
      // The kernel never saw it: nothing holds the file.
      Withdraw(*sqe);
    } else {
      // An armed poll holds a reference to the file, so the caller's close
      // would release nothing (a listener would stay bound): cancel it now,
      // in one io_uring_enter with whatever else is queued (but the last
      // batch's re-arms, which wait for the next wait).
      WithdrawRearms();
      if (absl::Status status = ReserveSubmissions(1, "del", fd);
          !status.ok()) {
        return status;
      }
      QueueRemoval(entry.state.user_data);
      const unsigned cancel_position = ring_.sq.sqe_tail - 1;
      if (absl::Status status = FlushRemovals(fd); !status.ok()) {
        io_uring_sqe* cancel = UnconsumedSubmission(cancel_position);
        // Consumed after all: the cancel is under way, and del stands.
        if (cancel != nullptr) {
          // Take the cancel back, so that the failed del changed nothing.
          Withdraw(*cancel);
          return status;
        }
      }
    }
  }
  // The generation stays with the fd number; the next add advances it, so
  // late completions of this registration are recognised as stale (and
  // until then the flag alone makes them so).
  entry.state.user_data |= kNotRegisteredFlag;
  entry.state.common_user_data = ~std::uint64_t{0};
  table_.Erase(entry, MayScrubBatch());
  return absl::OkStatus();
}

absl::StatusOr<absl::Span<const EventObject>> UringPoller::Wait(
    absl::Duration timeout, const sigset_t* mask) {
  if (ABSL_PREDICT_FALSE(!ring_ready_)) {
    // Only a failed AfterFork() leaves the poller without a ring.
    return absl::FailedPreconditionError(
        "wait: no io_uring ring (ReinitAfterFork failed)");
  }
  BeginWait();
  std::unique_lock<std::mutex> lock = LockTable();
  woken_ = false;
  // Before entering: whatever is queued after this signals again.
  if (nested_) DrainNestedEventfd();
  // Each of the next three is a call only when it has work: a wait whose
  // re-arms the last wait already queued pays three tests for them.
  if (ABSL_PREDICT_FALSE(ring_disabled_)) {
    if (absl::Status status = EnableRing("wait", ring_.ring_fd); !status.ok()) {
      return status;
    }
  }
  if (HasPendingRequests()) {
    if (absl::Status status = QueuePendingRequestsOrRelieve(&timeout);
        !status.ok()) {
      return status;
    }
  }
  // Completions already here (del leaves its cancellations behind) come
  // first, so that they cannot end the blocking enter below at once. Their
  // re-arms wait for the next wait: this one's enter would submit them now.
  if (ABSL_PREDICT_FALSE(io_uring_cq_ready(&ring_) != 0)) {
    ReapCompletions(/*rearm_now=*/false);
  }
  // "Forever" is the longest finite timeout rather than no timeout: with a
  // timeout, liburing enters the kernel once, so a signal (EINTR) or the
  // timeout ends the wait even when the same call also submitted entries.
  // The infinite wait, the common one, skips the conversion.
  timespec storage;
  const timespec* relative = timeout == absl::InfiniteDuration()
                                 ? nullptr
                                 : internal::ToTimespec(timeout, &storage);
  __kernel_timespec kernel_timeout{};
  kernel_timeout.tv_sec =
      relative != nullptr ? relative->tv_sec : kLongestFiniteSeconds;
  kernel_timeout.tv_nsec = relative != nullptr ? relative->tv_nsec : 0;
  bool blocking = kernel_timeout.tv_sec != 0 || kernel_timeout.tv_nsec != 0;
  // Only a finite blocking wait that is cut short needs the time: read the
  // clock once here, not per event.
  const bool finite = blocking && relative != nullptr;
  const std::chrono::steady_clock::time_point start =
      finite ? std::chrono::steady_clock::now()
             : std::chrono::steady_clock::time_point();
  for (;;) {
    if (any_thread()) {
      // Changes other threads handed over; their dels wait for the cancels.
      // Tested first, as before the loop: most rounds find none.
      if (HasPendingRequests()) {
        // As before the loop; if the queue stays backed up, this round does
        // not block.
        absl::Duration relieved_timeout = timeout;
        if (absl::Status status =
                QueuePendingRequestsOrRelieve(&relieved_timeout);
            !status.ok()) {
          // Results reaped already are returned, not dropped with the error
          // (a spent oneshot or edge would be lost for good); what failed to
          // queue stays handed over for the next wait.
          if (!table_.batch().empty()) break;
          return status;
        }
        if (relieved_timeout == absl::ZeroDuration()) blocking = false;
      }
      // Another thread's del returns once its cancel is in the kernel's
      // hands, so only when every handed-over removal is queued: one that
      // backpressure left unqueued waits for a later round or wait, with
      // its del. A flush that fails leaves the cancels queued for the enter
      // just below, in this same round.
      if (removal_waiters_ > 0 && pending_removals_.empty()) {
        (void)FlushRemovals(ring_.ring_fd);
        ++flush_round_;
        removals_flushed_.notify_all();
      }
    }
    const bool block = blocking && table_.batch().empty() && !woken_;
    int result;
    if (block) {
      io_uring_cqe* first = nullptr;
      in_wait_ = true;
      if (lock.owns_lock()) lock.unlock();
      // liburing takes the mask by non-const pointer but only passes it on.
      result = io_uring_submit_and_wait_timeout(
          &ring_, &first, 1, &kernel_timeout, const_cast<sigset_t*>(mask));
      if (any_thread()) lock.lock();
      in_wait_ = false;
    } else {
      result = io_uring_submit_and_get_events(&ring_);
    }
    ++enter_calls_;
    // ETIME: timed out. EINTR: a signal. EBUSY/EAGAIN: completions are
    // backed up in the overflow list; reaping below makes room. None is an
    // error.
    if (result < 0 && result != -ETIME && result != -EINTR &&
        result != -EBUSY && result != -EAGAIN) {
      // Completions reaped before this enter are in the batch, and the
      // ring has let go of them: return them, or they are lost (a oneshot
      // spent, an edge missed). The failed enter consumed nothing, so its
      // submissions stay queued for the next wait, which sees the error
      // again if it persists.
      if (!table_.batch().empty()) break;
      return internal::ErrnoError(-result, "io_uring_enter", "", ring_.ring_fd);
    }
    // Everything queued so far has been handed to the kernel; what the
    // reaping below queues is this batch's re-arms.
    rearms_from_ = ring_.sq.sqe_tail;
    // The common completions straight away; ReapCompletions only when
    // something else is left in the ring.
    unsigned reaped = ReapCommon();
    if (ABSL_PREDICT_FALSE(io_uring_cq_ready(&ring_) != 0)) {
      reaped += ReapCompletions(/*rearm_now=*/true);
    }
    // Deferred completion work the kernel has not run yet (it caps each
    // enter): fetch more while the batch has room.
    for (int round = 0;
         round < kMaxTaskRunRounds &&
         (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) != 0 &&
         !table_.batch_full();
         ++round) {
      ++enter_calls_;
      if (io_uring_get_events(&ring_) < 0) break;
      reaped += ReapCompletions(/*rearm_now=*/true);
    }
    // An enter that ends with no completion at all timed out or was
    // interrupted by a signal, whatever it returned (it returns the count
    // submitted when it submitted anything).
    if (!block || reaped == 0 || !table_.batch().empty() || woken_ ||
        result == -ETIME || result == -EINTR || result == -EBUSY ||
        result == -EAGAIN) {
      break;
    }
    // Only our own completions (cancellations, no-ops, stale polls) ended
    // the enter: no reason to return, so wait out the rest of the timeout.
    if (finite) {
      const absl::Duration remaining =
          timeout - absl::FromChrono(std::chrono::steady_clock::now() - start);
      if (remaining <= absl::ZeroDuration()) break;
      internal::ToTimespec(remaining, &storage);
      kernel_timeout.tv_sec = storage.tv_sec;
      kernel_timeout.tv_nsec = storage.tv_nsec;
    }
  }
  // Nested: the outer loop blocks next, so the kernel must hold every poll,
  // the re-arms of this batch included.
  if (nested_) {
    SubmitNow();
    SignalNestedEventfdIfBehind();
  }
  return table_.batch();
}

absl::Status UringPoller::QueuePendingRequestsOrRelieve(
    absl::Duration* timeout) {
  absl::Status status = QueuePendingRequests();
  if (status.ok()) return status;
  return RelieveBackpressure(status, timeout);
}

absl::Status UringPoller::RelieveBackpressure(const absl::Status& status,
                                              absl::Duration* timeout) {
  // EBUSY or EAGAIN from flushing a full submission queue: completions are
  // backed up in the kernel until reaped. Failing the wait would fail every
  // later one the same way, so reap, then queue the rest; still backed up,
  // do not block, since a poll that never reached the kernel could not end
  // the wait.
  if (!IsBackpressure(status)) return status;
  ReapCompletions(/*rearm_now=*/false);  // the queue is full: re-arm later
  const absl::Status queued = QueuePendingRequests();
  if (queued.ok()) return queued;
  if (!IsBackpressure(queued) && table_.batch().empty()) return queued;
  *timeout = absl::ZeroDuration();
  return absl::OkStatus();
}

void UringPoller::SubmitNow() {
  if (!OnOwnerThread()) {
    NotifyWaiter();  // the owner submits
    return;
  }
  // A failure leaves the requests queued for the next wait, which reports
  // it; the change itself has been made. The outer loop must come to that
  // wait rather than block on polls the kernel never got: signal the
  // handle.
  if (EnableRing("wait", ring_.ring_fd).ok() && QueuePendingRequests().ok()) {
    if (io_uring_sq_ready(&ring_) == 0) return;
    ++enter_calls_;
    if (io_uring_submit(&ring_) >= 0) return;
  }
  const std::uint64_t one = 1;
  (void)!::write(nested_eventfd_, &one, sizeof(one));
}

absl::StatusOr<int> UringPoller::NativeHandle() {
  if (nested_eventfd_ >= 0) return nested_eventfd_;
  // Not the ring fd: with DEFER_TASKRUN a completion first becomes deferred
  // work, and queueing that wakes no poller of the ring fd (a poll(2) that
  // looks finds it readable, an epoll or a sleeping poll is never woken).
  // A registered eventfd is signalled when that work is queued.
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return internal::ErrnoError(errno, "eventfd", "native_handle");
  if (const int result = io_uring_register_eventfd(&ring_, fd); result < 0) {
    ::close(fd);
    return internal::ErrnoError(-result, "io_uring_register", "EVENTFD",
                                ring_.ring_fd);
  }
  nested_eventfd_ = fd;
  nested_ = true;
  SubmitNow();
  return nested_eventfd_;
}

void UringPoller::DrainNestedEventfd() {
  std::uint64_t count;
  while (::read(nested_eventfd_, &count, sizeof(count)) > 0) {
  }
}

void UringPoller::SignalNestedEventfdIfBehind() {
  // Work the kernel has not run yet, or completions this wait could not
  // take (a full batch), signal nothing more by themselves: make sure the
  // outer loop comes back for them.
  if (io_uring_cq_ready(&ring_) == 0 &&
      (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) == 0) {
    return;
  }
  const std::uint64_t one = 1;
  (void)!::write(nested_eventfd_, &one, sizeof(one));
}

absl::Status UringPoller::QueuePendingRequests() {
  if (!wake_poll_armed_) {
    if (absl::Status status = ReserveSubmissions(1, "wait", wake_fd_.read_fd());
        !status.ok()) {
      return status;
    }
    QueueWakePoll();
  }
  while (!pending_removals_.empty()) {
    if (absl::Status status =
            ReserveSubmissions(1, "wait", DecodeFd(pending_removals_.back()));
        !status.ok()) {
      return status;
    }
    QueueRemoval(pending_removals_.back());
    pending_removals_.pop_back();
  }
  for (const int fd : pending_polls_) {
    Entry* entry = table_.Find(fd);
    // Deleted since (or deleted, re-added and listed twice).
    if (entry == nullptr || entry->state.request != kPollPending) continue;
    if (absl::Status status = ReserveSubmissions(1, "wait", fd); !status.ok()) {
      return status;  // the rest stay pending for the next wait
    }
    QueuePoll(*entry);
  }
  pending_polls_.clear();
  return absl::OkStatus();
}

unsigned UringPoller::ReapCompletions(bool rearm_now) {
  unsigned consumed = 0;
  for (;;) {
    consumed += rearm_now ? ReapCommon() : 0;
    if (io_uring_cq_ready(&ring_) == 0) break;
    // The completion ReapCommon() left: any other kind, or the batch or the
    // submission queue full.
    const io_uring_cqe& cqe =
        ring_.cq.cqes[*ring_.cq.khead & ring_.cq.ring_mask];
    if (!HandleCompletion(cqe, rearm_now)) break;  // no room in the batch
    io_uring_cq_advance(&ring_, 1);
    ++consumed;
  }
  return consumed;
}

inline unsigned UringPoller::ReapCommon() {
  // The completion queue's tail moves only inside our own io_uring_enter
  // (DEFER_TASKRUN), or at our system calls' boundaries: read once.
  const unsigned first = *ring_.cq.khead;
  const unsigned tail = io_uring_smp_load_acquire(ring_.cq.ktail);
  // What the loop changes lives in locals, written back at the end (every
  // store into the batch could alias a member, which would then be reloaded
  // around it), and it calls nothing, so that they stay in registers. Both
  // rings are walked by pointer, one contiguous run at a time (every entry
  // is 64 bytes: no IORING_SETUP_CQE32 or SQE128).
  unsigned sq_tail = ring_.sq.sqe_tail;
  const unsigned sq_room =
      ring_.sq.ring_entries - (sq_tail - IO_URING_READ_ONCE(*ring_.sq.khead));
  unsigned head = first;
  {
    Table::Filler batch(table_);
    // Each completion taken is one result and one re-arm: bounded once by
    // the completions there, the submission queue's room and the batch's,
    // so that each run is bounded only by where either ring wraps.
    unsigned left = std::min(tail - head, sq_room);
    if (batch.room() < left) left = static_cast<unsigned>(batch.room());
    while (left != 0) {
      const unsigned cq_index = head & ring_.cq.ring_mask;
      const unsigned sq_index = sq_tail & ring_.sq.ring_mask;
      const unsigned run =
          std::min(left, std::min(ring_.cq.ring_entries - cq_index,
                                  ring_.sq.ring_entries - sq_index));
      const io_uring_cqe* const begin = ring_.cq.cqes + cq_index;
      const io_uring_cqe* const end = begin + run;
      io_uring_sqe* sqe = ring_.sq.sqes + sq_index;
      const io_uring_cqe* cqe = begin;
      for (; cqe != end; ++cqe) {
        // Bit 63: a control request's (wake poll, removal, no-op); no poll
        // has it.
        const std::uint64_t data = cqe->user_data;
        if (ABSL_PREDICT_FALSE(static_cast<std::int64_t>(data) < 0)) break;
        // Every poll's user data names an fd the table reaches: add grew the
        // table before the poll was shaped, and it never shrinks (a new ring
        // after fork gets only the table's polls). The completion is the
        // registration's, of this generation and kind, if it carries the
        // entry's user data.
        const std::uint64_t offset = Table::Filler::OffsetOf(data);
        assert(batch.Reaches(offset));
        Entry& entry = batch.At(offset);
        const int res = cqe->res;
        // A single-shot (level) poll of a registration with read interest,
        // ready, not in the batch yet: anything else is HandleCompletion's.
        // (A single-shot poll completes once per wait, re-armed for the
        // next; but with registration from any thread a re-arm the wait
        // deferred can be submitted by the same wait, and complete again.)
        if (ABSL_PREDICT_FALSE(entry.state.common_user_data != data ||
                               res < 0 || batch.InBatch(entry))) {
          break;
        }
        const Events events =
            internal::FromPollResult(static_cast<unsigned>(res));
        if (ABSL_PREDICT_FALSE(events == Events::kNone)) break;
        batch.AddFirst(entry, events);
        // Re-armed into the submission queue now: the next wait's
        // io_uring_enter submits it, so readiness is judged after the caller
        // has handled this batch, as epoll judges level readiness at wait
        // time. The request stays live.
        WritePoll(*sqe++, entry.state);
        entry.state.request = kInFlight;
        entry.state.submission_position = sq_tail++;
      }
      const auto done = static_cast<unsigned>(cqe - begin);
      head += done;
      left -= done;
      if (cqe != end) break;
    }
  }
  ring_.sq.sqe_tail = sq_tail;
  io_uring_smp_store_release(ring_.cq.khead, head);
  return head - first;
}

bool UringPoller::HandleCompletion(const io_uring_cqe& cqe, bool rearm_now) {
  const std::uint64_t data = io_uring_cqe_get_data64(&cqe);
  if (static_cast<std::int64_t>(data) < 0) {
    HandleControlCompletion(cqe);
    return true;
  }
  const bool final = (cqe.flags & IORING_CQE_F_MORE) == 0;
  Entry* entry = table_.Find(DecodeFd(data));
  if (entry == nullptr || entry->state.user_data != data) {
    if (final) --live_requests_;  // stale: a del'd or modified registration
    return true;
  }
  const Trigger trigger = entry->registration.trigger;
  Events events = PollEvents(entry->registration, cqe.res);
  // A poll that a wake-up completes carries the wake-up's key, not the
  // file's state, and sock_def_readable (TCP, AF_UNIX) wakes readers with
  // EPOLLIN | EPOLLPRI for any data: so POLLPRI arrives without urgent data.
  // Ask the socket before reporting kPriority: one poll(2), paid only by
  // completions with POLLPRI under kPriority interest (opt-in).
  bool spurious = false;
  if (ABSL_PREDICT_FALSE(Has(events, Events::kPriority)) &&
      !HasPriorityData(DecodeFd(data))) {
    events &= ~Events::kPriority;
    // Nothing else: a oneshot completed by that wake-up alone was not
    // spent, so it is re-armed as if nothing had happened.
    spurious = events == Events::kNone;
  }
  if (events != Events::kNone && !table_.CanReport(DecodeFd(data))) {
    return false;
  }
  if (events != Events::kNone) table_.Report(*entry, events);
  if (!final) return true;  // a multishot poll goes on
  // kLevel and kExclusive are re-armed, kEdge's multishot poll unless it
  // failed, kOneshot not until modify (unless the completion was spurious).
  if ((trigger == Trigger::kOneshot && !spurious) ||
      (trigger == Trigger::kEdge && cqe.res < 0)) {
    entry->state.request = 0;
    --live_requests_;
    return true;
  }
  if (rearm_now && events != Events::kNone &&
      io_uring_sq_space_left(&ring_) != 0) {
    // As in ReapCommon(): the next wait's io_uring_enter submits it.
    --live_requests_;  // QueuePoll counts it again
    QueuePoll(*entry);
    return true;
  }
  // Before this wait's io_uring_enter (which would submit it at once), or
  // nothing to report (at once, it would complete at once), or no room:
  // the next wait queues it.
  entry->state.request = kPollPending;
  --live_requests_;
  pending_polls_.push_back(DecodeFd(data));
  return true;
}

void UringPoller::HandleControlCompletion(const io_uring_cqe& cqe) {
  const std::uint64_t data = io_uring_cqe_get_data64(&cqe);
  if (data == LIBURING_UDATA_TIMEOUT || data == kNopData) return;
  if (data == kWakeData) {
    // With registration from any thread the wake fd also carries other
    // threads' changes, which are no reason to return.
    if (!any_thread() || user_wake_.exchange(false)) woken_ = true;
    wake_poll_armed_ = false;
    wake_fd_.Drain();
    return;
  }
  // A removal: its outcome concerns only us. -EALREADY: the poll was
  // completing as the removal ran, and a multishot poll goes on afterwards,
  // so try again at the next wait (a retry that finds nothing gets
  // -ENOENT).
  --live_requests_;
  if (cqe.res == -EALREADY) pending_removals_.push_back(data & ~kRemovalFlag);
}

absl::Status UringPoller::Wake() {
  // Async-signal-safe: a lock-free atomic store and a write.
  if (any_thread()) user_wake_.store(true, std::memory_order_relaxed);
  return wake_fd_.Signal();
}

bool UringPoller::OnOwnerThread() const {
  return !any_thread() || (MayScrubBatch() && !in_wait_);
}

void UringPoller::NotifyWaiter() { (void)wake_fd_.Signal(); }

absl::Status UringPoller::AfterFork() {
  table_.BeginBatch();  // the parent's results
  woken_ = false;
  // The inherited ring is the parent's: its queues are mapped shared, so
  // nothing may be written to them. io_uring_queue_exit only unmaps the
  // child's mappings and closes the child's fd (liburing 2.3: munmap of
  // the entries and the rings, close; io_uring_unregister_ring_fd only for
  // a registered ring fd, which this poller never registers), so the
  // parent's ring, its requests and the files they hold are untouched.
  if (ring_ready_) io_uring_queue_exit(&ring_);
  ring_ = io_uring{};
  ring_ready_ = false;
  ring_disabled_ = false;
  // Every request and link below belonged to the old ring.
  live_requests_ = 0;
  wake_poll_armed_ = false;
  pending_removals_.clear();
  pending_polls_.clear();
  rearms_from_ = 0;
  linked_threads_[0] = 0;
  linked_threads_[1] = 0;
  in_wait_ = false;
  removal_waiters_ = 0;
  // The eventfd native_handle() exported is registered with the parent's
  // ring; the child asks for a new one.
  if (nested_eventfd_ >= 0) ::close(nested_eventfd_);
  nested_eventfd_ = -1;
  nested_ = false;
  // Every registration with a request (queued, armed or due) gets one in
  // the new ring at the next wait; one without (a oneshot that fired, an
  // edge poll that failed) stays without until modify. Positions and
  // generations need no change: no old completion can reach the new ring.
  // Done before anything can fail, so that no state points into the old
  // ring's memory afterwards.
  table_.ForEach([this](Entry& entry) {
    if (entry.state.request == 0) return;
    entry.state.request = kPollPending;
    pending_polls_.push_back(entry.registration.fd);
  });
  // The parent's ring polls this eventfd: the child's wake() must not
  // reach it.
  { internal::WakeFd inherited = std::move(wake_fd_); }
  absl::StatusOr<internal::WakeFd> wake_fd = internal::WakeFd::Create();
  if (!wake_fd.ok()) return wake_fd.status();
  wake_fd_ = *std::move(wake_fd);
  return SetUpRing();
}

UringPoller::RingStats UringPoller::ring_stats() const {
  RingStats stats;
  stats.live_requests = live_requests_;
  if (ring_ready_) {
    stats.submissions_queued = io_uring_sq_ready(&ring_);
    stats.completions_ready = io_uring_cq_ready(&ring_);
  }
  stats.enter_calls = enter_calls_;
  return stats;
}

}  // namespace pollio
