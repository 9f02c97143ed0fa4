// Copyright 2026 The pollio Authors.

#include "backends/kqueue/kqueue_poller.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/event.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "backends/internal/errors.h"
#include "backends/internal/timeout.h"
#include "backends/internal/user_data.h"
#include "backends/internal/wake_fd.h"
#include "event/event.h"

namespace pollio {
namespace {

// The ident of the wake event in the EVFILT_USER namespace (fds are not).
constexpr uintptr_t kWakeIdent = 0;

// udata: kind, fd and the fd number's generation (backends/internal/
// user_data.h) where udata is 64 bits wide, so an event of an older
// registration of the number is not taken for the current one; where it is
// 32 bits wide, generation 0 always.
constexpr bool kUdataHoldsGeneration = sizeof(uintptr_t) >= 8;

std::uint64_t UserData(int fd, EventKind kind, std::uint32_t generation) {
  return internal::UserData(fd, kind, kUdataHoldsGeneration ? generation : 0);
}

std::uint32_t GenerationOf(std::uint64_t data) {
  return kUdataHoldsGeneration ? internal::GenerationOf(data) : 0;
}

// udata is void* on FreeBSD, OpenBSD and macOS; NetBSD before 10 declared it
// intptr_t.
#if defined(__NetBSD__) && __NetBSD_Version__ < 1000000000
using Udata = intptr_t;
Udata ToUdata(std::uint64_t data) { return static_cast<Udata>(data); }
#else
using Udata = void*;
Udata ToUdata(std::uint64_t data) {
  return reinterpret_cast<Udata>(static_cast<uintptr_t>(data));
}
#endif
std::uint64_t FromUdata(Udata udata) {
  return static_cast<std::uint64_t>(reinterpret_cast<uintptr_t>(udata));
}

uint16_t ModeFlags(Trigger trigger) {
  switch (trigger) {
    case Trigger::kEdge:
      return EV_CLEAR;
    case Trigger::kOneshot:
      return EV_DISPATCH;
    case Trigger::kLevel:
    case Trigger::kExclusive:
      break;
  }
  return 0;
}

// Fills `changes` with the EV_ADD of each filter `ev` wants and the
// EV_DELETE of each filter `old` had and `ev` does not; `undo` with their
// inverses. Returns how many.
int Plan(const EventObject& ev, Trigger trigger, const Registration* old,
         std::uint32_t generation, struct kevent* changes,
         struct kevent* undo) {
  int count = 0;
  const Udata udata = ToUdata(UserData(ev.fd, ev.kind, generation));
  for (const int16_t filter : {int16_t{EVFILT_READ}, int16_t{EVFILT_WRITE}}) {
    const Events bit =
        filter == EVFILT_READ ? Events::kReadable : Events::kWritable;
    const bool want = Has(ev.events, bit);
    const bool had = old != nullptr && Has(old->interest, bit);
    if (!want && !had) continue;
    const Udata old_udata =
        old != nullptr ? ToUdata(UserData(old->fd, old->kind, generation))
                       : Udata{};
    if (want) {
      EV_SET(&changes[count], ev.fd, filter,
             EV_ADD | EV_ENABLE | ModeFlags(trigger), 0, 0, udata);
      if (had) {
        EV_SET(&undo[count], ev.fd, filter,
               EV_ADD | EV_ENABLE | ModeFlags(old->trigger), 0, 0, old_udata);
      } else {
        EV_SET(&undo[count], ev.fd, filter, EV_DELETE, 0, 0, Udata{});
      }
    } else {
      EV_SET(&changes[count], ev.fd, filter, EV_DELETE, 0, 0, Udata{});
      EV_SET(&undo[count], ev.fd, filter,
             EV_ADD | EV_ENABLE | ModeFlags(old->trigger), 0, 0, old_udata);
    }
    ++count;
  }
  return count;
}

// The errno an EV_RECEIPT row carries (0 for success).
int ReceiptError(const struct kevent& receipt) {
  return (receipt.flags & EV_ERROR) != 0 ? static_cast<int>(receipt.data) : 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KqueuePoller>> KqueuePoller::Create(
    PollerOptions options) {
  if (absl::Status status = internal::CheckOptions("kqueue", options);
      !status.ok()) {
    return status;
  }
  const int kq = ::kqueue();
  if (kq < 0) return internal::ErrnoError(errno, "kqueue");
  // The constructor is private, so std::make_unique cannot reach it.
  std::unique_ptr<KqueuePoller> poller(
      new KqueuePoller(kq, options.max_events));
  poller->set_any_thread(options.registration_from_any_thread);
  if (absl::Status status = poller->AddWakeEvent(); !status.ok()) {
    return status;
  }
  return poller;
}

absl::Status KqueuePoller::AddWakeEvent() {
  struct kevent change;
#if defined(EVFILT_USER)
  EV_SET(&change, kWakeIdent, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, Udata{});
#else
  // No EVFILT_USER (OpenBSD before 7.3): the shared pipe-based wake fd.
  absl::StatusOr<internal::WakeFd> wake_fd = internal::WakeFd::Create();
  if (!wake_fd.ok()) return wake_fd.status();
  wake_fd_.emplace(*std::move(wake_fd));
  EV_SET(&change, wake_fd_->read_fd(), EVFILT_READ, EV_ADD, 0, 0, Udata{});
#endif
  if (::kevent(kq_, &change, 1, nullptr, 0, nullptr) != 0) {
    return internal::ErrnoError(errno, "kevent", "EV_ADD wake", kq_);
  }
  return absl::OkStatus();
}

KqueuePoller::KqueuePoller(int kq, int max_events)
    : PollerBase(Backend::kKqueue, kAllTriggers, max_events),
      kq_(kq),
      kernel_events_(2 * static_cast<std::size_t>(max_events)) {
  carried_.reserve(kernel_events_.size());
}

KqueuePoller::~KqueuePoller() {
  // In a fork child that did not rebuild, the number is not the child's.
  if (kq_ >= 0 && !InForkChild()) ::close(kq_);
}

absl::Status KqueuePoller::Apply(struct kevent* changes,
                                 const struct kevent* undo, int count,
                                 std::string_view method, int fd, bool* epipe) {
  for (int i = 0; i < count; ++i) changes[i].flags |= EV_RECEIPT;
  struct kevent receipts[2];
  const int placed = ::kevent(kq_, changes, count, receipts, count, nullptr);
  if (placed < 0) return internal::ErrnoError(errno, "kevent", method, fd);
  int first_error = 0;
  bool succeeded[2] = {true, true};
  for (int i = 0; i < placed; ++i) {
    const int error = ReceiptError(receipts[i]);
    if (error == 0) continue;
    if (error == EPIPE && (changes[i].flags & EV_ADD) != 0) {
      *epipe = true;  // old macOS: a pipe whose peer is closed
      continue;
    }
    succeeded[i] = false;
    if (first_error == 0) first_error = error;
  }
  if (first_error == 0) return absl::OkStatus();
  for (int i = 0; i < count; ++i) {
    if (!succeeded[i]) continue;
    struct kevent revert = undo[i];
    (void)::kevent(kq_, &revert, 1, nullptr, 0, nullptr);
  }
  return internal::ErrnoError(first_error, "kevent", method, fd);
}

absl::Status KqueuePoller::AddToKernel(const EventObject& ev, Trigger trigger) {
  const KqueueState* kept = table_.KeptState(ev.fd);
  const std::uint32_t generation =
      kUdataHoldsGeneration
          ? internal::NextGeneration(kept != nullptr ? kept->generation : 0)
          : 0;
  struct kevent changes[2];
  struct kevent undo[2];
  const int count = Plan(ev, trigger, nullptr, generation, changes, undo);
  bool epipe = false;
  if (absl::Status status =
          Apply(changes, undo, count, "EV_ADD", ev.fd, &epipe);
      !status.ok()) {
    return status;
  }
  Entry& entry = table_.Insert(ev, trigger);
  entry.state.generation = generation;
  entry.state.fired = false;
  if (epipe) pending_eof_.push_back(ev.fd);
  return absl::OkStatus();
}

absl::Status KqueuePoller::ModifyInKernel(const EventObject& ev,
                                          Trigger trigger) {
  const Entry& current = *table_.Find(ev.fd);
  const Registration old = current.registration;
  struct kevent changes[2];
  struct kevent undo[2];
  const int count =
      Plan(ev, trigger, &old, current.state.generation, changes, undo);
  bool epipe = false;
  if (absl::Status status =
          Apply(changes, undo, count, "modify", ev.fd, &epipe);
      !status.ok()) {
    return status;
  }
  table_.Update(ev, trigger).state.fired = false;  // a oneshot is re-armed
  // What the kernel handed over under the old interest is the old
  // registration's; the new one reports its own readiness.
  ForgetCarried(ev.fd);
  if (epipe) pending_eof_.push_back(ev.fd);
  return absl::OkStatus();
}

absl::Status KqueuePoller::DelFromKernel(
    int fd, Entry& entry, std::unique_lock<std::mutex>& /*lock*/) {
  const Registration& registration = entry.registration;
  // If one filter's EV_DELETE fails after the other's succeeded, the
  // deleted one is added back, so that the failed del changes nothing:
  // disabled again for a oneshot that fired; a kEdge filter that is ready
  // reports once more, as any new EV_CLEAR registration does.
  const Udata udata =
      ToUdata(UserData(fd, registration.kind, entry.state.generation));
  const uint16_t readd =
      EV_ADD | ModeFlags(registration.trigger) |
      (registration.trigger == Trigger::kOneshot && entry.state.fired
           ? EV_DISABLE
           : EV_ENABLE);
  struct kevent changes[2];
  struct kevent undo[2];
  int count = 0;
  for (const int16_t filter : {int16_t{EVFILT_READ}, int16_t{EVFILT_WRITE}}) {
    const Events bit =
        filter == EVFILT_READ ? Events::kReadable : Events::kWritable;
    if (!Has(registration.interest, bit)) continue;
    EV_SET(&undo[count], fd, filter, readd, 0, 0, udata);
    EV_SET(&changes[count++], fd, filter, EV_DELETE | EV_RECEIPT, 0, 0,
           Udata{});
  }
  struct kevent receipts[2];
  const int placed = ::kevent(kq_, changes, count, receipts, count, nullptr);
  if (placed < 0) return internal::ErrnoError(errno, "kevent", "EV_DELETE", fd);
  int first_error = 0;
  for (int i = 0; i < placed; ++i) {
    const int error = ReceiptError(receipts[i]);
    // ENOENT / EBADF: the fd was closed, and the kernel dropped its knotes
    // with it. Forgetting it here is the way to recover.
    if (error != 0 && error != ENOENT && error != EBADF && first_error == 0) {
      first_error = error;
    }
  }
  if (first_error != 0) {
    for (int i = 0; i < placed; ++i) {
      if (ReceiptError(receipts[i]) == 0) {
        (void)::kevent(kq_, &undo[i], 1, nullptr, 0, nullptr);
      }
    }
    return internal::ErrnoError(first_error, "kevent", "EV_DELETE", fd);
  }
  ForgetCarried(fd);  // an event after del returned is never reported
  table_.Erase(entry, MayScrubBatch());
  return absl::OkStatus();
}

void KqueuePoller::ForgetCarried(int fd) {
  if (ABSL_PREDICT_TRUE(carried_.empty())) return;
  carried_.erase(std::remove_if(carried_.begin(), carried_.end(),
                                [fd](const struct kevent& event) {
                                  return DecodeFd(FromUdata(event.udata)) == fd;
                                }),
                 carried_.end());
}

bool KqueuePoller::Take(const struct kevent& event) {
  // Dispatch on the filter first: the wake event is never an fd's.
#if defined(EVFILT_USER)
  if (event.filter == EVFILT_USER) return true;  // EV_CLEAR reset it
#else
  if (event.filter == EVFILT_READ &&
      event.ident == static_cast<uintptr_t>(wake_fd_->read_fd())) {
    wake_fd_->Drain();
    return true;
  }
#endif
  if (event.filter != EVFILT_READ && event.filter != EVFILT_WRITE) return true;
  const std::uint64_t data = FromUdata(event.udata);
  const int fd = DecodeFd(data);
  Entry* entry = table_.Find(fd);
  if (entry != nullptr && entry->state.generation != GenerationOf(data)) {
    entry = nullptr;  // an older registration of the number
  }
  if (table_.batch_full() && (entry == nullptr || !table_.InBatch(*entry))) {
    // No room: kept for the next wait, as the kernel handed it over once
    // (an EV_CLEAR or EV_DISPATCH event is not handed over again). An
    // unknown fd's event under registration from any thread is dropped
    // anyway (below).
    return entry == nullptr && any_thread();
  }
  if (entry != nullptr && entry->registration.trigger == Trigger::kOneshot) {
    // One report per arming across both filters: the other filter may
    // merge into this batch's entry, but not report in a later one.
    if (entry->state.fired && !table_.InBatch(fd)) return true;
    entry->state.fired = true;
  }
  Events events =
      event.filter == EVFILT_READ ? Events::kReadable : Events::kWritable;
  if (event.flags & EV_EOF) {
    // EV_EOF is per filter. On EVFILT_READ the peer will send no more
    // (SBS_CANTRCVMORE): a half-close and a close look the same there.
    // On EVFILT_WRITE nothing more can be sent (SBS_CANTSENDMORE), which
    // a socket reaches when the connection is gone both ways (or when this
    // side shut down writing itself).
    events |=
        event.filter == EVFILT_READ ? Events::kReadClosed : Events::kHangup;
    if (event.fflags != 0) events |= Events::kError;
  }
  if (event.flags & EV_ERROR) events |= Events::kError;
  if (entry != nullptr) {
    table_.Report(*entry, events);
  } else if (!any_thread()) {
    // As in epoll: shown with token 0, or, with registration from any
    // thread, dropped (it may belong to a registration just deleted).
    table_.ReportUnknown(fd, DecodeKind(data), events);
  }
  return true;
}

absl::StatusOr<absl::Span<const EventObject>> KqueuePoller::Wait(
    absl::Duration timeout, const sigset_t* mask) {
  if (mask != nullptr) {
    return absl::UnimplementedError(
        "wait(timeout, mask): kqueue has no atomic signal-mask wait; "
        "register the signals with EVFILT_SIGNAL instead");
  }
  BeginWait();
  bool reported;
  {
    std::unique_lock<std::mutex> lock = LockTable();
    // Readiness found while adding (EPIPE): report it now, without blocking
    // (what finds no room waits for the next batch).
    std::size_t kept = 0;
    for (const int fd : pending_eof_) {
      Entry* entry = table_.Find(fd);
      if (entry == nullptr) continue;
      if (!table_.CanReport(fd)) {
        pending_eof_[kept++] = fd;
        continue;
      }
      table_.Report(*entry, Events::kReadable | Events::kHangup);
    }
    pending_eof_.resize(kept);
    // Then what the kernel handed over that the last batch had no room for.
    kept = 0;
    for (const struct kevent& event : carried_) {
      if (!Take(event)) carried_[kept++] = event;
    }
    carried_.resize(kept);
    reported = !table_.batch().empty();
    if (table_.batch_full()) {
      SilenceUnfiredOneshotFilters();
      return table_.batch();
    }
  }
  timespec storage;
  const timespec* limit = reported ? &(storage = timespec{0, 0})
                                   : internal::ToTimespec(timeout, &storage);
  const int capacity = static_cast<int>(kernel_events_.size());
  const int ready =
      ::kevent(kq_, nullptr, 0, kernel_events_.data(), capacity, limit);
  if (ready < 0) {
    if (errno == EINTR) return table_.batch();  // a signal arrived
    return internal::ErrnoError(errno, "kevent", "wait", kq_);
  }
  // kevent changes from other threads need no hand-off: the kernel applies
  // them to this very wait. Reading the results takes the table lock.
  std::unique_lock<std::mutex> lock = LockTable();
  // Room for two filters per batch entry, so that an fd's readable and
  // writable events arrive together and merge; what the batch has no room
  // for is carried (at most 2 * max_events: kevent is called only with
  // nothing carried).
  for (int i = 0; i < ready; ++i) {
    if (!Take(kernel_events_[i])) carried_.push_back(kernel_events_[i]);
  }
  SilenceUnfiredOneshotFilters();
  return table_.batch();
}

void KqueuePoller::SilenceUnfiredOneshotFilters() {
  // kernel_events_ has been read; it holds the changes now (at most one per
  // batch entry, since each reported at least one filter) and, as kevent
  // allows, their receipts.
  int count = 0;
  const absl::Span<const EventObject> batch = table_.batch();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const EventObject& ev = batch[i];
    if (ev.fd < 0) continue;
    // Only the registration's own result (not an older registration's).
    const Entry* entry = table_.Find(ev.fd);
    if (entry == nullptr || entry->registration.trigger != Trigger::kOneshot ||
        !table_.InBatch(*entry) || table_.BatchIndex(*entry) != i) {
      continue;
    }
    for (const int16_t filter : {int16_t{EVFILT_READ}, int16_t{EVFILT_WRITE}}) {
      const Events bit =
          filter == EVFILT_READ ? Events::kReadable : Events::kWritable;
      if (!Has(entry->registration.interest, bit) || Has(ev.events, bit)) {
        continue;
      }
      EV_SET(&kernel_events_[static_cast<std::size_t>(count++)], ev.fd, filter,
             EV_DISABLE | EV_RECEIPT, 0, 0, Udata{});
    }
  }
  if (count == 0) return;
  // Receipts are ignored: a failure (an fd closed without del) leaves only
  // the early return this prevents.
  (void)::kevent(kq_, kernel_events_.data(), count, kernel_events_.data(),
                 count, nullptr);
}

absl::Status KqueuePoller::Wake() {
#if defined(EVFILT_USER)
  struct kevent trigger;
  EV_SET(&trigger, kWakeIdent, EVFILT_USER, 0, NOTE_TRIGGER, 0, Udata{});
  if (::kevent(kq_, &trigger, 1, nullptr, 0, nullptr) != 0) {
    return internal::ErrnoError(errno, "kevent", "NOTE_TRIGGER", kq_);
  }
  return absl::OkStatus();
#else
  return wake_fd_->Signal();
#endif
}

absl::Status KqueuePoller::AfterFork() {
  table_.BeginBatch();   // the parent's results
  pending_eof_.clear();  // found again by the EV_ADDs below
  carried_.clear();      // the parent's kernel events
  // The child has no kqueue of the parent's: the number is not the
  // child's to close (it may be a file opened since the fork).
  kq_ = -1;
#if !defined(EVFILT_USER)
  wake_fd_.reset();  // the child's copies of the parent's wake pipe
#endif
  const int kq = ::kqueue();
  if (kq < 0) return internal::ErrnoError(errno, "kqueue");
  kq_ = kq;
  if (absl::Status status = AddWakeEvent(); !status.ok()) return status;
  absl::Status status;
  table_.ForEach([&](Entry& entry) {
    if (!status.ok()) return;
    const Registration& registration = entry.registration;
    struct kevent changes[2];
    struct kevent undo[2];
    const int count = Plan(
        EventObject{registration.fd, registration.kind, registration.interest,
                    registration.token},
        registration.trigger, nullptr, entry.state.generation, changes, undo);
    if (registration.trigger == Trigger::kOneshot && entry.state.fired) {
      // Registered, but disabled: it fired, and must stay silent until
      // modify, whose EV_ADD | EV_ENABLE arms it again.
      for (int i = 0; i < count; ++i) {
        changes[i].flags &= static_cast<uint16_t>(~EV_ENABLE);
        changes[i].flags |= EV_DISABLE;
      }
    }
    bool epipe = false;
    const absl::Status added =
        Apply(changes, undo, count, "EV_ADD", registration.fd, &epipe);
    if (epipe) pending_eof_.push_back(registration.fd);
    // EBADF: closed without del; closing dropped its knotes anyway.
    if (added.ok() || ErrnoFromStatus(added) == EBADF) return;
    status = added;
  });
  return status;
}

}  // namespace pollio
