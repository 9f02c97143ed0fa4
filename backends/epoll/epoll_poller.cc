// Copyright 2026 The pollio Authors.

#include "backends/epoll/epoll_poller.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "backends/internal/errors.h"
#include "backends/internal/teardown_interrupt.h"
#include "backends/internal/timeout.h"
#include "backends/internal/user_data.h"
#include "backends/internal/wake_fd.h"
#include "event/event.h"

namespace pollio {
namespace {

// The wake eventfd's user data: fd 0, kind 0, generation 0 and bit 63. No
// registration's user data has generation 0 (internal::NextGeneration skips
// it), so this never equals the State of fd 0's entry, which the table
// always has (the constructor reaches it): Collect() takes the wake event
// down the path of a mismatch, with no test of its own. Collect()'s
// sentinel, after the last event, carries it too.
constexpr std::uint64_t kWakeData = std::uint64_t{1} << 63;

using internal::GenerationOf;
using internal::NextGeneration;

// User data (backends/internal/user_data.h): kind, fd and generation, advanced
// by every add. An event whose user data is not the registration's comes
// from an older one of the same number: a file closed without del that a
// dup keeps in the interest list. EpollState keeps the registration's user
// data, with bit 63 set while the kernel holds no registration under it (no
// event carries bit 63), so one comparison per event checks both.
constexpr std::uint64_t kNotInKernelFlag = std::uint64_t{1} << 63;

std::uint64_t UserData(const EventObject& ev, std::uint32_t generation) {
  return internal::UserData(ev.fd, ev.kind, generation);
}

constexpr std::uint32_t ComputeEpollEvents(Events interest, Trigger trigger) {
  std::uint32_t events = 0;
  // EPOLLRDHUP only with read interest: a writer-only registration should
  // not be woken, level-triggered and forever, by the peer's half-close.
  // EPOLLEXCLUSIVE admits only EPOLLIN, EPOLLOUT, EPOLLET and EPOLLWAKEUP.
  if (Has(interest, Events::kReadable)) {
    events |= EPOLLIN;
    if (trigger != Trigger::kExclusive) events |= EPOLLRDHUP;
  }
  if (Has(interest, Events::kWritable)) events |= EPOLLOUT;
  if (Has(interest, Events::kPriority)) events |= EPOLLPRI;
  if (trigger == Trigger::kEdge) events |= EPOLLET;
  if (trigger == Trigger::kOneshot) events |= EPOLLONESHOT;
  if (trigger == Trigger::kExclusive) events |= EPOLLEXCLUSIVE;
  return events;
}

// ComputeEpollEvents() as one load, for add: by trigger, then by the
// interest bits folded into three (kPriority, bit 5, into bit 2).
constexpr unsigned FoldInterest(Events interest) {
  const auto bits = static_cast<unsigned>(interest);
  return (bits & 3u) | ((bits >> 3) & 4u);
}
static_assert(FoldInterest(Events::kReadable) == 1 &&
              FoldInterest(Events::kWritable) == 2 &&
              FoldInterest(Events::kPriority) == 4);

struct EpollEventsTable {
  std::uint32_t events[4][8];
};

constexpr EpollEventsTable MakeEpollEventsTable() {
  EpollEventsTable table{};
  for (unsigned trigger = 0; trigger < 4; ++trigger) {
    for (unsigned folded = 0; folded < 8; ++folded) {
      const Events interest =
          ((folded & 1u) != 0 ? Events::kReadable : Events::kNone) |
          ((folded & 2u) != 0 ? Events::kWritable : Events::kNone) |
          ((folded & 4u) != 0 ? Events::kPriority : Events::kNone);
      table.events[trigger][folded] =
          ComputeEpollEvents(interest, static_cast<Trigger>(trigger));
    }
  }
  return table;
}

inline constexpr EpollEventsTable kEpollEvents = MakeEpollEventsTable();

// `interest` holds interest bits only and `trigger` is a Trigger: what
// every caller passes once PollerBase's checks have passed.
std::uint32_t ToEpollEvents(Events interest, Trigger trigger) {
  return kEpollEvents
      .events[static_cast<unsigned>(trigger) & 3u][FoldInterest(interest)];
}

// Bit for bit: the kernel already tells a half-close (EPOLLRDHUP) from a
// connection shut both ways (EPOLLHUP).
constexpr Events FromEpollBits(std::uint32_t events) {
  Events out = Events::kNone;
  if (events & EPOLLIN) out |= Events::kReadable;
  if (events & EPOLLOUT) out |= Events::kWritable;
  if (events & EPOLLRDHUP) out |= Events::kReadClosed;
  if (events & EPOLLHUP) out |= Events::kHangup;
  if (events & EPOLLERR) out |= Events::kError;
  if (events & EPOLLPRI) out |= Events::kPriority;
  return out;
}

// The same as one table load per event, not six tests, indexed by the
// mask's low 16 bits as they are: one 16-bit load, where folding EPOLLRDHUP
// (bit 13) down first costs the loop three instructions per event. That is
// exact for what a wait can return: epoll reports only the bits asked for
// (ToEpollEvents: EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLRDHUP; the trigger bits
// are never reported) and EPOLLERR / EPOLLHUP, so no index is above
// kLargestEpollIndex. The table has 8 KiB for it, of which a wait reads
// only the first 32 entries (no EPOLLRDHUP) and the last 32 (EPOLLRDHUP).
static_assert(EPOLLIN == 0x1 && EPOLLPRI == 0x2 && EPOLLOUT == 0x4 &&
              EPOLLERR == 0x8 && EPOLLHUP == 0x10 && EPOLLRDHUP == 0x2000);
constexpr std::uint32_t kLargestEpollIndex =
    EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP;

struct EpollTranslation {
  Events events[kLargestEpollIndex + 1];
};

constexpr EpollTranslation MakeEpollTranslation() {
  EpollTranslation table{};
  for (std::uint32_t bits = 0; bits <= kLargestEpollIndex; ++bits) {
    table.events[bits] = FromEpollBits(bits);
  }
  return table;
}

constexpr EpollTranslation kEpollTranslation = MakeEpollTranslation();

// FromEpollBits(event.events) as one table load.
Events FromEpollEvent(const epoll_event& event) {
  return kEpollTranslation.events[static_cast<std::uint16_t>(event.events)];
}

// Every combination of the six bits a wait can return is in the table and
// translates as the six tests do.
constexpr bool EpollTranslationIsExact() {
  constexpr std::uint32_t kBits[] = {EPOLLIN,  EPOLLPRI, EPOLLOUT,
                                     EPOLLERR, EPOLLHUP, EPOLLRDHUP};
  for (std::uint32_t subset = 0; subset < 64; ++subset) {
    std::uint32_t events = 0;
    for (int bit = 0; bit < 6; ++bit) {
      if ((subset >> bit) & 1) events |= kBits[bit];
    }
    const std::uint16_t index = static_cast<std::uint16_t>(events);
    if (index != events || index > kLargestEpollIndex ||
        kEpollTranslation.events[index] != FromEpollBits(events)) {
      return false;
    }
  }
  return true;
}
static_assert(EpollTranslationIsExact());

// EPOLLEXCLUSIVE admits no EPOLLPRI: refuse it by name rather than pass on
// the kernel's bare EINVAL (or, for modify into kExclusive, find it out
// only on the scratch instance).
absl::Status CheckExclusiveInterest(std::string_view method,
                                    const EventObject& ev, Trigger trigger) {
  if (trigger != Trigger::kExclusive || !Has(ev.events, Events::kPriority)) {
    return absl::OkStatus();
  }
  return internal::CallError(
      absl::StatusCode::kUnimplemented, method, ev.fd,
      "kExclusive (EPOLLEXCLUSIVE) cannot carry kPriority (EPOLLPRI)");
}

// The bits of an epoll item's event mask that a fired EPOLLONESHOT keeps
// (the kernel's EP_PRIVATE_BITS): all it has left once its event was
// delivered, since every armed mask has an interest bit (and EPOLLHUP and
// EPOLLERR, which epoll_ctl adds).
constexpr std::uint32_t kPrivateBits =
    EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;

// The user data of each target of `epoll_fd` whose event mask is down to
// kPrivateBits, sorted: oneshots that fired. nullopt if the kernel's
// listing cannot be read. Each target is a line of
// /proc/self/fdinfo/<epoll_fd> (fs/eventpoll.c, ep_show_fdinfo):
//   tfd:        5 events: 40000000 data:       10000000005  pos:0 ino:...
std::optional<std::vector<std::uint64_t>> FiredOneshots(int epoll_fd) {
  const std::string path = "/proc/self/fdinfo/" + std::to_string(epoll_fd);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (got == 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  std::vector<std::uint64_t> fired;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    int target = 0;
    unsigned events = 0;
    std::uint64_t data = 0;
    if (std::sscanf(line.c_str(), "tfd: %d events: %x data: %" SCNx64, &target,
                    &events, &data) == 3 &&
        (events & ~kPrivateBits) == 0) {
      fired.push_back(data);
    }
  }
  std::sort(fired.begin(), fired.end());
  return fired;
}

// epoll_pwait2 arrived in Linux 5.11 and glibc 2.35; the wrapper returns
// ENOSYS on older kernels, which is how Create() probes for it.
#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define POLLIO_HAVE_EPOLL_PWAIT2 1
#endif

}  // namespace

absl::StatusOr<std::unique_ptr<EpollPoller>> EpollPoller::Create(
    PollerOptions options) {
  if (absl::Status status = internal::CheckOptions("epoll", options);
      !status.ok()) {
    return status;
  }
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return internal::ErrnoError(errno, "epoll_create1");
  absl::StatusOr<internal::WakeFd> wake_fd = internal::WakeFd::Create();
  if (!wake_fd.ok()) {
    ::close(epoll_fd);
    return wake_fd.status();
  }
  // The constructor is private, so std::make_unique cannot reach it.
  std::unique_ptr<EpollPoller> poller(
      new EpollPoller(epoll_fd, *std::move(wake_fd), options.max_events));
  poller->set_any_thread(options.registration_from_any_thread);
  if (absl::Status status = poller->AddWakeFd(); !status.ok()) return status;
#if defined(POLLIO_HAVE_EPOLL_PWAIT2)
  const timespec zero{0, 0};
  poller->has_epoll_pwait2_ =
      ::epoll_pwait2(epoll_fd, poller->kernel_events_.data(), 1, &zero,
                     nullptr) >= 0 ||
      errno != ENOSYS;
#endif
  return poller;
}

EpollPoller::EpollPoller(int epoll_fd, internal::WakeFd wake_fd, int max_events)
    : PollerBase(Backend::kEpoll, kAllTriggers | kPriorityInterest, max_events),
      epoll_fd_(epoll_fd),
      wake_fd_(std::move(wake_fd)),
      max_events_(max_events),
      kernel_events_(static_cast<std::size_t>(max_events) + 1) {
  table_.Reach(0);  // kWakeData's entry
}

EpollPoller::~EpollPoller() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

absl::Status EpollPoller::AddWakeFd() {
  epoll_event wake_event{};
  wake_event.events = EPOLLIN;
  wake_event.data.u64 = kWakeData;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_.read_fd(), &wake_event) !=
      0) {
    return internal::ErrnoError(errno, "epoll_ctl", "ADD", wake_fd_.read_fd());
  }
  return absl::OkStatus();
}

absl::Status EpollPoller::AddToKernel(const EventObject& ev, Trigger trigger) {
  if (ABSL_PREDICT_FALSE(trigger == Trigger::kExclusive)) {
    if (absl::Status status = CheckExclusiveInterest("add", ev, trigger);
        !status.ok()) {
      return status;
    }
  }
  // PollerBase::Add has reached the fd, before the kernel has the user data
  // (Collect() relies on it), even should the ADD fail.
  const std::uint32_t generation =
      NextGeneration(GenerationOf(table_.At(ev.fd).state.user_data));
  const std::uint64_t user_data = UserData(ev, generation);
  epoll_event event{};
  event.events = ToEpollEvents(ev.events, trigger);
  event.data.u64 = user_data;
  // epoll_ctl itself rather than Control(): no Status on the way unless it
  // fails.
  if (ABSL_PREDICT_FALSE(::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, ev.fd, &event) !=
                         0)) {
    return internal::ErrnoError(errno, "epoll_ctl", "ADD", ev.fd);
  }
  table_.InsertReached(ev, trigger).state.user_data = user_data;
  return absl::OkStatus();
}

absl::Status EpollPoller::ModifyInKernel(const EventObject& ev,
                                         Trigger trigger) {
  if (absl::Status status = CheckExclusiveInterest("modify", ev, trigger);
      !status.ok()) {
    return status;
  }
  const Entry& entry = *table_.Find(ev.fd);
  const Registration old = entry.registration;
  const std::uint32_t generation = GenerationOf(entry.state.user_data);
  if ((entry.state.user_data & kNotInKernelFlag) != 0) {
    // Left out of the kernel by AfterFork(): a plain ADD, whatever the
    // trigger; one that fails leaves it out, as it was.
    if (absl::Status status =
            Control(EPOLL_CTL_ADD, "ADD", ev, trigger, generation);
        !status.ok()) {
      return status;
    }
  } else if (trigger == Trigger::kExclusive ||
             old.trigger == Trigger::kExclusive) {
    // EPOLL_CTL_MOD refuses EPOLLEXCLUSIVE (EINVAL) both ways: re-add.
    if (absl::Status status = Readd(old, ev, trigger, generation);
        !status.ok()) {
      return status;
    }
  } else if (absl::Status status =
                 Control(EPOLL_CTL_MOD, "MOD", ev, trigger, generation);
             !status.ok()) {
    return status;
  }
  table_.Update(ev, trigger).state.user_data = UserData(ev, generation);
  return absl::OkStatus();
}

absl::Status EpollPoller::Readd(const Registration& old, const EventObject& ev,
                                Trigger trigger, std::uint32_t generation) {
  if (trigger == Trigger::kExclusive && old.trigger != Trigger::kExclusive) {
    // The kernel refuses some targets only under EPOLLEXCLUSIVE (an epoll
    // instance). Finding that out after the DEL would be too late: the old
    // registration can be added back, but a fresh ADD re-arms a oneshot
    // that fired and reports an edge fd that is ready once more. So put the
    // same ADD to a scratch epoll instance first; nothing the caller can see
    // changes, and closing the scratch instance drops its registration.
    // (Out of kExclusive, the target already passed this check.)
    const int scratch = ::epoll_create1(EPOLL_CLOEXEC);
    if (scratch < 0) {
      return internal::ErrnoError(errno, "epoll_create1", "modify", ev.fd);
    }
    if (scratch == ev.fd) {
      // The lowest free number is the caller's: its fd is closed, and the
      // ADD would be of the scratch instance itself (EINVAL). The kernel's
      // answer for the caller's fd is EBADF.
      ::close(scratch);
      return internal::ErrnoError(EBADF, "epoll_ctl", "ADD", ev.fd);
    }
    epoll_event event{};
    event.events = ToEpollEvents(ev.events, trigger);
    const int result = ::epoll_ctl(scratch, EPOLL_CTL_ADD, ev.fd, &event);
    const int error = errno;
    ::close(scratch);
    if (result != 0) {
      return internal::ErrnoError(error, "epoll_ctl", "ADD", ev.fd);
    }
  }
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, ev.fd, nullptr) != 0) {
    return internal::ErrnoError(errno, "epoll_ctl", "DEL", ev.fd);
  }
  absl::Status status = Control(EPOLL_CTL_ADD, "ADD", ev, trigger, generation);
  if (status.ok()) return status;
  // Only a failure the scratch ADD could not foresee gets here (ENOMEM;
  // ENOSPC if other instances took the last of max_user_watches). Add the
  // old registration back, as close to unchanged as the kernel allows.
  if (Control(EPOLL_CTL_ADD, "ADD",
              EventObject{ev.fd, old.kind, old.interest, old.token},
              old.trigger, generation)
          .ok()) {
    return status;
  }
  // Neither is in the kernel now: the table must not claim one is.
  table_.Find(ev.fd)->state.user_data |= kNotInKernelFlag;
  table_.Erase(ev.fd, MayScrubBatch());
  return internal::ErrnoError(
      ErrnoFromStatus(status).value_or(0), "epoll_ctl", "ADD", ev.fd,
      absl::StrCat("adding the old registration back failed too: fd ", ev.fd,
                   " is no longer registered"));
}

absl::Status EpollPoller::Control(int op, std::string_view op_name,
                                  const EventObject& ev, Trigger trigger,
                                  std::uint32_t generation) {
  epoll_event event{};
  event.events = ToEpollEvents(ev.events, trigger);
  event.data.u64 = UserData(ev, generation);
  if (::epoll_ctl(epoll_fd_, op, ev.fd, &event) != 0) {
    return internal::ErrnoError(errno, "epoll_ctl", op_name, ev.fd);
  }
  return absl::OkStatus();
}

absl::Status EpollPoller::DelFromKernel(
    int fd, Entry& entry, std::unique_lock<std::mutex>& /*lock*/) {
  // EBADF / ENOENT: the fd was closed (and perhaps reused) without del, and
  // the kernel dropped the registration with it. Forgetting it here is the
  // way to recover, so it is not an error. One AfterFork() left out of the
  // kernel needs no call (and its number may be another file's by now).
  if ((entry.state.user_data & kNotInKernelFlag) == 0 &&
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr) != 0 &&
      errno != EBADF && errno != ENOENT) {
    return internal::ErrnoError(errno, "epoll_ctl", "DEL", fd);
  }
  entry.state.user_data |= kNotInKernelFlag;
  table_.Erase(entry, MayScrubBatch());
  return absl::OkStatus();
}

absl::StatusOr<absl::Span<const EventObject>> EpollPoller::Wait(
    absl::Duration timeout, const sigset_t* mask) {
  BeginWait();
  if (ABSL_PREDICT_FALSE(internal::TeardownInterruptExpected())) {
    // A UringPoller torn down on this thread is about to interrupt it
    // (backends/internal/teardown_interrupt.h). ppoll is restarted by the
    // kernel after an interruption that is not a signal, epoll_pwait2 is
    // not: block in ppoll, then collect without blocking.
    pollfd epoll_pollfd{epoll_fd_, POLLIN, 0};
    timespec storage;
    const int polled = ::ppoll(&epoll_pollfd, 1,
                               internal::ToTimespec(timeout, &storage), mask);
    if (polled < 0 && errno != EINTR) {
      return internal::ErrnoError(errno, "ppoll", "", epoll_fd_);
    }
    if (polled <= 0) return table_.batch();  // empty: timed out or a signal
    timeout = absl::ZeroDuration();
  }
  int ready;
#if defined(POLLIO_HAVE_EPOLL_PWAIT2)
  if (has_epoll_pwait2_) {
    timespec storage;
    ready = ::epoll_pwait2(epoll_fd_, kernel_events_.data(), max_events_,
                           internal::ToTimespec(timeout, &storage), mask);
  } else
#endif
  {
    ready = ::epoll_pwait(epoll_fd_, kernel_events_.data(), max_events_,
                          internal::ToMilliseconds(timeout), mask);
  }
  if (ready < 0) {
    if (errno == EINTR) return table_.batch();  // empty: a signal arrived
    return internal::ErrnoError(
        errno, has_epoll_pwait2_ ? "epoll_pwait2" : "epoll_pwait", "",
        epoll_fd_);
  }
  // epoll_ctl from other threads needs no hand-off: the kernel applies it
  // to this very wait. Reading the results takes the table lock; without
  // registration from any thread there is none, and then no lock object
  // either, which would keep the stack and a register busy around the loop.
  if (ABSL_PREDICT_FALSE(any_thread())) {
    CollectLocked(ready);
  } else {
    Collect(ready);
  }
  return table_.batch();
}

void EpollPoller::CollectLocked(int ready) {
  std::lock_guard<std::mutex> lock(table_mutex());
  Collect(ready);
}

// Always inlined into Wait() (and CollectLocked()): as a call of its own it
// cost every wait its own register saves and restores, and Wait()'s
// registers are saved already; the per-event loop keeps its registers
// either way.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void EpollPoller::Collect(int ready) {
  // Drained after the loop: a call inside it would cost the loop the
  // registers a call clobbers (and a local flag, one of them).
  woken_ = false;
  Table::Filler batch(table_);
  // epoll reports each registration at most once per wait, readable and
  // writable already merged, and never more than max_events, the batch's
  // size: no merge, and no room check. The loop ends at a sentinel after
  // the last event, one that matches no entry: the test for the end is
  // then paid on the path of a mismatch only, not once per event.
  const epoll_event* const end = kernel_events_.data() + ready;
  kernel_events_[static_cast<std::size_t>(ready)].data.u64 = kWakeData;
  for (const epoll_event* event = kernel_events_.data();; ++event) {
    const std::uint64_t data = event->data.u64;
    // Every user data the kernel has names an fd the table reaches
    // (AddToKernel reaches it first, the table never shrinks, and
    // kWakeData's is 0).
    const std::uint64_t offset = Table::Filler::OffsetOf(data);
    assert(batch.Reaches(offset));
    Entry& entry = batch.At(offset);
    if (ABSL_PREDICT_TRUE(entry.state.user_data == data)) {
      batch.AddFirst(entry, FromEpollEvent(*event));
      continue;
    }
    if (event == end) break;
    const int fd = DecodeFd(data);
    if (data == kWakeData) {
      woken_ = true;
    } else if (!any_thread()) {
      // A file closed without del that a dup keeps alive: shown, token 0.
      // With registration from any thread it may as well be a registration
      // another thread deleted after the kernel handed its event over, and
      // an event after del returned is never reported: dropped.
      batch.AddUnknown(fd, DecodeKind(data), FromEpollEvent(*event));
    }
  }
  if (woken_) wake_fd_.Drain();
}

absl::Status EpollPoller::Wake() { return wake_fd_.Signal(); }

absl::Status EpollPoller::AfterFork() {
  table_.BeginBatch();  // the parent's results
  // Whether a oneshot fired is known only to the instance the child shares
  // with the parent, so ask it before letting go.
  const std::optional<std::vector<std::uint64_t>> fired =
      FiredOneshots(epoll_fd_);
  // Closing the child's references leaves the parent's instance and wake
  // fd as they are; closing them first means that even a failure below
  // leaves the child nothing of the parent's to change.
  ::close(std::exchange(epoll_fd_, -1));
  { internal::WakeFd inherited = std::move(wake_fd_); }
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return internal::ErrnoError(errno, "epoll_create1");
  epoll_fd_ = epoll_fd;
  absl::StatusOr<internal::WakeFd> wake_fd = internal::WakeFd::Create();
  if (!wake_fd.ok()) return wake_fd.status();
  wake_fd_ = *std::move(wake_fd);
  if (absl::Status status = AddWakeFd(); !status.ok()) return status;
  absl::Status status;
  table_.ForEach([&](Entry& entry) {
    if (!status.ok()) return;
    std::uint64_t& user_data = entry.state.user_data;
    // Left out before (a fork's fork): it stays out.
    if ((user_data & kNotInKernelFlag) != 0) return;
    const Registration& registration = entry.registration;
    // Adding a fired oneshot would arm it again: leave it to modify.
    if (registration.trigger == Trigger::kOneshot && fired.has_value() &&
        std::binary_search(fired->begin(), fired->end(), user_data)) {
      user_data |= kNotInKernelFlag;
      return;
    }
    // The same user data (generation included): nothing about the
    // registration changes but the instance it is in.
    const absl::Status added =
        Control(EPOLL_CTL_ADD, "ADD",
                EventObject{registration.fd, registration.kind,
                            registration.interest, registration.token},
                registration.trigger, GenerationOf(user_data));
    if (added.ok()) return;
    if (ErrnoFromStatus(added) == EBADF) {
      // Closed without del: the kernel would have dropped it anyway.
      user_data |= kNotInKernelFlag;
      return;
    }
    status = added;
  });
  return status;
}

}  // namespace pollio
