// Copyright 2026 The pollio Authors.

#include "backends/poll/poll_poller.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "backends/internal/errors.h"
#include "backends/internal/poll_events.h"
#include "backends/internal/timeout.h"
#include "backends/internal/wake_fd.h"
#include "event/event.h"

namespace pollio {

// ppoll(2): Linux, FreeBSD 11+, OpenBSD 5.4+, NetBSD 10+, DragonFly 4.6+.
// macOS has none, and gets poll(2) with millisecond timeouts.
#if defined(__linux__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__NetBSD__) || defined(__DragonFly__)
#define POLLIO_HAVE_PPOLL 1
#endif

absl::StatusOr<std::unique_ptr<PollPoller>> PollPoller::Create(
    PollerOptions options) {
  if (absl::Status status = internal::CheckOptions("poll", options);
      !status.ok()) {
    return status;
  }
  absl::StatusOr<internal::WakeFd> wake_fd = internal::WakeFd::Create();
  if (!wake_fd.ok()) return wake_fd.status();
  // The constructor is private, so std::make_unique cannot reach it.
  std::unique_ptr<PollPoller> poller(
      new PollPoller(*std::move(wake_fd), options.max_events));
  poller->set_any_thread(options.registration_from_any_thread);
  poller->check_fd_on_add_ = options.check_fd_on_add;
  return poller;
}

PollPoller::PollPoller(internal::WakeFd wake_fd, int max_events)
    : PollerBase(Backend::kPoll, kCapabilities, max_events),
      wake_fd_(std::move(wake_fd)) {
  pollfds_.push_back(pollfd{wake_fd_.read_fd(), POLLIN, 0});
}

absl::Status PollPoller::AddToKernel(const EventObject& ev, Trigger trigger) {
  if (check_fd_on_add_ && ::fcntl(ev.fd, F_GETFD) < 0) {
    return internal::ErrnoError(errno, "fcntl", "F_GETFD", ev.fd);
  }
  if (in_poll_) {
    // Another thread, while the waiter is inside ppoll with the array: the
    // waiter rebuilds it and polls again.
    Entry& entry = table_.Insert(ev, trigger);
    entry.state.disarmed = false;
    MarkStale();
    return absl::OkStatus();
  }
  if (pollfds_stale_) Rebuild();  // slots are meaningful again
  AppendSlot(ev, trigger);
  table_.At(ev.fd).state.disarmed = false;
  return absl::OkStatus();
}

absl::Status PollPoller::ModifyInKernel(const EventObject& ev,
                                        Trigger trigger) {
  Entry& entry = table_.Update(ev, trigger);
  entry.state.disarmed = false;
  if (in_poll_) {
    MarkStale();
    return absl::OkStatus();
  }
  if (pollfds_stale_) Rebuild();  // slots are meaningful again
  // Writing the fd back also re-arms a oneshot slot that fired.
  pollfds_[entry.state.slot] =
      pollfd{ev.fd, static_cast<short>(internal::ToPollMask(ev.events)), 0};
  return absl::OkStatus();
}

absl::Status PollPoller::DelFromKernel(int /*fd*/, Entry& entry,
                                       std::unique_lock<std::mutex>& lock) {
  if (in_poll_) {
    // ppoll holds a reference to every file it polls until it returns, so
    // the caller's close would release nothing: wake the waiter and return
    // once it has left ppoll (it rebuilds the array without the fd).
    table_.Erase(entry, /*scrub=*/false);
    MarkStale();
    const std::uint64_t round = poll_round_;
    poll_returned_.wait(lock, [&] { return poll_round_ != round; });
    return absl::OkStatus();
  }
  if (pollfds_stale_) Rebuild();  // slots are meaningful again
  RemoveSlot(entry);
  return absl::OkStatus();
}

absl::StatusOr<absl::Span<const EventObject>> PollPoller::Wait(
    absl::Duration timeout, const sigset_t* mask) {
  BeginWait();
#if !defined(POLLIO_HAVE_PPOLL)
  if (mask != nullptr) {
    // Setting the mask around poll(2) would reopen the race a signal-mask
    // wait exists to close, so refuse instead of pretending.
    return absl::UnimplementedError(
        "wait(timeout, mask): this OS has no ppoll(2)");
  }
#endif
  if (!any_thread()) {
    const int ready = Poll(timeout, mask);
    if (ready < 0) {
      if (errno == EINTR) return table_.batch();  // empty: a signal arrived
      return internal::ErrnoError(errno, "ppoll");
    }
    Collect(ready);
    return table_.batch();
  }
  // Registration from any thread: the array is the waiter's; changes from
  // other threads wake it (MarkStale), and it rebuilds the array and polls
  // again for the rest of the timeout, so they apply to this wait.
  const bool finite = timeout != absl::InfiniteDuration() &&
                      timeout < internal::kLongestFiniteTimeout;
  const std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
  absl::Duration remaining = timeout;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock = LockTable();
      if (pollfds_stale_) Rebuild();
      in_poll_ = true;
    }
    const int ready = Poll(remaining, mask);
    const int poll_errno = errno;
    std::unique_lock<std::mutex> lock = LockTable();
    in_poll_ = false;
    ++poll_round_;
    poll_returned_.notify_all();
    if (ready < 0) {
      if (poll_errno == EINTR) return table_.batch();  // a signal arrived
      return internal::ErrnoError(poll_errno, "ppoll");
    }
    const bool woken = Collect(ready) && user_wake_.exchange(false);
    if (ready == 0 || woken || !table_.batch().empty() ||
        remaining <= absl::ZeroDuration()) {
      return table_.batch();
    }
    // Only other threads' changes woke it: poll again.
    if (finite) {
      remaining =
          timeout - absl::FromChrono(std::chrono::steady_clock::now() - start);
      if (remaining <= absl::ZeroDuration()) return table_.batch();
    }
  }
}

int PollPoller::Poll(absl::Duration timeout, const sigset_t* mask) {
  const auto count = static_cast<nfds_t>(pollfds_.size());
#if defined(POLLIO_HAVE_PPOLL)
  timespec storage;
  return ::ppoll(pollfds_.data(), count,
                 internal::ToTimespec(timeout, &storage), mask);
#else
  (void)mask;  // refused by Wait
  return ::poll(pollfds_.data(), count, internal::ToMilliseconds(timeout));
#endif
}

bool PollPoller::Collect(int ready) {
  bool wake_fd_ready = false;
  if (ready > 0 && pollfds_[0].revents != 0) {
    wake_fd_.Drain();
    wake_fd_ready = true;
    --ready;
  }
  if (ready == 0) return wake_fd_ready;
  // Scan from where the last full batch stopped to the end, then from the
  // first slot to there: two plain runs over the array, which stop as soon
  // as every ready slot has been seen. poll(2) reports each fd (one slot)
  // once per call, readable and writable merged: no merge check.
  // Dels since the last scan may have left next_scan_ past the end.
  if (next_scan_ >= pollfds_.size()) next_scan_ = 1;
  Table::Filler batch(table_);
  pollfd* const slots = pollfds_.data();
  pollfd* slot = slots + next_scan_;
  pollfd* run_end = slots + pollfds_.size();
  bool wrapped = false;
  for (;;) {
    while (slot != run_end && slot->revents == 0) ++slot;
    if (ABSL_PREDICT_FALSE(slot == run_end)) {
      if (wrapped) break;
      wrapped = true;
      run_end = slots + next_scan_;
      slot = slots + 1;
      continue;
    }
    if (ABSL_PREDICT_FALSE(batch.full())) {
      next_scan_ = static_cast<std::size_t>(slot - slots);  // the rest waits
      break;
    }
    // Every armed slot's fd is one the table reaches: add grew the table
    // before the wait that polls the slot, and the table never shrinks.
    const int fd = slot->fd;
    const std::uint64_t offset = Table::Filler::OffsetOfFd(fd);
    assert(batch.Reaches(offset));
    Entry& entry = batch.At(offset);
    // Deleted by another thread during the poll: never reported.
    if (ABSL_PREDICT_TRUE(entry.registered())) {
      batch.AddFirst(entry, internal::FromPollResult(
                                static_cast<unsigned short>(slot->revents)));
      if (ABSL_PREDICT_FALSE(entry.registration.trigger == Trigger::kOneshot)) {
        slot->fd = DisarmedFd(fd);
        entry.state.disarmed = true;
      }
    }
    ++slot;
    if (--ready == 0) break;
  }
  return wake_fd_ready;
}

void PollPoller::MarkStale() {
  pollfds_stale_ = true;
  (void)wake_fd_.Signal();
}

void PollPoller::Rebuild() {
  pollfds_.resize(1);  // the wake fd stays first
  table_.ForEach([&](Entry& entry) {
    const int fd = entry.registration.fd;
    entry.state.slot = static_cast<std::uint32_t>(pollfds_.size());
    pollfds_.push_back(pollfd{
        entry.state.disarmed ? DisarmedFd(fd) : fd,
        static_cast<short>(internal::ToPollMask(entry.registration.interest)),
        0});
  });
  if (next_scan_ >= pollfds_.size()) next_scan_ = 1;
  pollfds_stale_ = false;
}

absl::Status PollPoller::Wake() {
  // Async-signal-safe: a lock-free atomic store and a write.
  if (any_thread()) user_wake_.store(true, std::memory_order_relaxed);
  return wake_fd_.Signal();
}

absl::StatusOr<int> PollPoller::NativeHandle() {
  return absl::UnimplementedError(
      "native_handle: poll(2) keeps its set in user space, so there is no "
      "kernel object to watch; nest an epoll or kqueue poller instead");
}

absl::Status PollPoller::AfterFork() {
  table_.BeginBatch();  // the parent's results
  // The wake fd is the one thing the child shares with the parent (its
  // wake() would end the parent's wait). Close the child's copy before
  // opening another, so that even a failure leaves nothing shared; poll(2)
  // skips the negative slot meanwhile.
  { internal::WakeFd inherited = std::move(wake_fd_); }
  pollfds_[0].fd = -1;
  absl::StatusOr<internal::WakeFd> wake_fd = internal::WakeFd::Create();
  if (!wake_fd.ok()) return wake_fd.status();
  wake_fd_ = *std::move(wake_fd);
  pollfds_[0] = pollfd{wake_fd_.read_fd(), POLLIN, 0};
  return absl::OkStatus();
}

}  // namespace pollio
