#include "backends/poll/poll_poller.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include <cstddef>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "event/event.h"
#include "poller/internal/errors.h"
#include "poller/internal/poll_events.h"
#include "poller/internal/timeout.h"
#include "poller/internal/wake_fd.h"

namespace pollio {
namespace {

// ppoll(2): Linux, FreeBSD 11+, OpenBSD 5.4+, NetBSD 10+, DragonFly 4.6+.
// macOS has none, and gets poll(2) with millisecond timeouts.
#if defined(__linux__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__NetBSD__) || defined(__DragonFly__)
#define POLLIO_HAVE_PPOLL 1
#endif

// A disarmed slot holds ~fd (negative, so poll(2) skips it; ~~fd == fd).
int SlotFd(const pollfd& slot) { return slot.fd < 0 ? ~slot.fd : slot.fd; }

// Every trigger but kEdge: poll(2) reports levels only.
constexpr unsigned kPollTriggers =
    1u << static_cast<unsigned>(Trigger::kLevel) |
    1u << static_cast<unsigned>(Trigger::kOneshot) |
    1u << static_cast<unsigned>(Trigger::kExclusive);

}  // namespace

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
  poller->check_fd_on_add_ = options.check_fd_on_add;
  return poller;
}

PollPoller::PollPoller(internal::WakeFd wake_fd, int max_events)
    : PollerBase(Backend::kPoll, kPollTriggers | kPriorityInterest, max_events),
      wake_fd_(std::move(wake_fd)) {
  pollfds_.push_back(pollfd{wake_fd_.read_fd(), POLLIN, 0});
}

absl::Status PollPoller::AddToKernel(const EventObject& ev, Trigger trigger) {
  if (check_fd_on_add_ && ::fcntl(ev.fd, F_GETFD) < 0) {
    return internal::ErrnoError(errno, "fcntl", "F_GETFD", ev.fd);
  }
  const std::size_t slot = pollfds_.size();
  pollfds_.push_back(
      pollfd{ev.fd, static_cast<short>(internal::ToPollMask(ev.events)), 0});
  table_.Insert(ev, trigger).state.slot = static_cast<std::uint32_t>(slot);
  return absl::OkStatus();
}

absl::Status PollPoller::ModifyInKernel(const EventObject& ev,
                                        Trigger trigger) {
  const Entry& entry = table_.Update(ev, trigger);
  // Writing the fd back also re-arms a oneshot slot that fired.
  pollfds_[entry.state.slot] =
      pollfd{ev.fd, static_cast<short>(internal::ToPollMask(ev.events)), 0};
  return absl::OkStatus();
}

absl::Status PollPoller::DelFromKernel(int fd) {
  const std::size_t slot = table_.Find(fd)->state.slot;
  const std::size_t last = pollfds_.size() - 1;
  if (slot != last) {
    pollfds_[slot] = pollfds_[last];
    table_.Find(SlotFd(pollfds_[slot]))->state.slot =
        static_cast<std::uint32_t>(slot);
  }
  pollfds_.pop_back();
  if (next_scan_ >= pollfds_.size()) next_scan_ = 1;
  table_.Erase(fd);
  return absl::OkStatus();
}

absl::StatusOr<absl::Span<const EventObject>> PollPoller::Wait(
    absl::Duration timeout, const sigset_t* mask) {
  table_.BeginBatch();
  const auto count = static_cast<nfds_t>(pollfds_.size());
#if defined(POLLIO_HAVE_PPOLL)
  timespec storage;
  int ready = ::ppoll(pollfds_.data(), count,
                      internal::ToTimespec(timeout, &storage), mask);
#else
  if (mask != nullptr) {
    // Setting the mask around poll(2) would reopen the race a signal-mask
    // wait exists to close, so refuse instead of pretending.
    return absl::UnimplementedError(
        "wait(timeout, mask): this OS has no ppoll(2)");
  }
  int ready = ::poll(pollfds_.data(), count, internal::ToMilliseconds(timeout));
#endif
  if (ready < 0) {
    if (errno == EINTR) return table_.batch();  // empty: a signal arrived
    return internal::ErrnoError(errno, "ppoll");
  }
  if (ready > 0 && pollfds_[0].revents != 0) {
    wake_fd_.Drain();
    --ready;
  }
  // Scan from where the last full batch stopped, wrapping once, and stop as
  // soon as every ready slot has been seen.
  const std::size_t slots = pollfds_.size() - 1;  // excluding the wake fd
  std::size_t slot = next_scan_;
  for (std::size_t visited = 0; ready > 0 && visited < slots; ++visited) {
    pollfd& entry = pollfds_[slot];
    if (entry.revents != 0) {
      if (table_.batch_full()) {
        next_scan_ = slot;  // the rest waits for the next call
        break;
      }
      --ready;
      const int fd = entry.fd;
      Entry& registration = *table_.Find(fd);
      table_.Report(
          registration,
          internal::FromPollMask(static_cast<unsigned short>(entry.revents)));
      if (registration.registration.trigger == Trigger::kOneshot) {
        entry.fd = ~fd;
      }
    }
    slot = slot == slots ? 1 : slot + 1;
  }
  return table_.batch();
}

absl::Status PollPoller::Wake() { return wake_fd_.Signal(); }

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
