// Copyright 2026 The pollio Authors.
//
// The user-level state every backend keeps, written once: the registrations,
// indexed by fd, and the reused buffer of the current wait's results.
//
// The two live together because each registration remembers where its result
// sits in the current batch. That makes both batch chores O(1): `del`
// scrubbing a pending entry (libuv's uv__platform_invalidate_fd scans the
// batch instead), and merging a second kernel event for the same fd (kqueue's
// read and write filters, io_uring CQEs) into the entry it already has.
//
// Each entry also carries the backend's own per-fd state, typed (`State`):
// poll's slot index, io_uring's generation and request state, epoll's and
// kqueue's generation. A State survives del and re-add of the same fd number,
// which is what a generation needs; a backend sets every other field on add.
//
// The table is the source of truth for size() and for "is fd registered":
// kernels track open file descriptions, not fd numbers.
//
// Not thread-safe; owned by one Poller.

#ifndef POLLIO_BACKENDS_INTERNAL_REGISTRATION_TABLE_H_
#define POLLIO_BACKENDS_INTERNAL_REGISTRATION_TABLE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "event/event.h"
#include "poller/poller.h"

namespace pollio {
namespace internal {

// The bits an interest may carry; the rest are results only.
inline constexpr Events kInterestBits =
    Events::kReadable | Events::kWritable | Events::kPriority;

// The argument checks of the public methods, in the order the contract lists
// the errors: InvalidArgument (negative fd, an interest with none of
// kInterestBits or with any other bit, a Trigger out of range), then
// AlreadyExists (`registered` on add) or NotFound (not `registered` on modify /
// del).
absl::Status CheckAddArguments(const EventObject& ev, Trigger trigger,
                               bool registered);
absl::Status CheckModifyArguments(const EventObject& ev, Trigger trigger,
                                  bool registered);
absl::Status CheckDelArguments(int fd, bool registered);

template <typename State>
class RegistrationTable {
 public:
  struct Entry {
    // registration.fd is -1 while the fd number is not registered.
    Registration registration;
    // The fd's position in the result batch, meaningful only while
    // batch_epoch equals the table's current epoch.
    std::uint32_t batch_epoch = 0;
    std::uint32_t batch_index = 0;
    State state{};

    bool registered() const { return registration.fd >= 0; }
  };

  // `max_events` must already be validated (CheckOptions).
  explicit RegistrationTable(int max_events)
      : batch_(static_cast<std::size_t>(max_events)) {}

  RegistrationTable(const RegistrationTable&) = delete;
  RegistrationTable& operator=(const RegistrationTable&) = delete;

  absl::Status CheckAdd(const EventObject& ev, Trigger trigger) const {
    return CheckAddArguments(ev, trigger, Find(ev.fd) != nullptr);
  }
  absl::Status CheckModify(const EventObject& ev, Trigger trigger) const {
    return CheckModifyArguments(ev, trigger, Find(ev.fd) != nullptr);
  }
  absl::Status CheckDel(int fd) const {
    return CheckDelArguments(fd, Find(fd) != nullptr);
  }

  // Null when `fd` is not registered.
  Entry* Find(int fd) {
    if (static_cast<std::size_t>(fd) >= entries_.size()) return nullptr;
    Entry& entry = entries_[static_cast<std::size_t>(fd)];
    return entry.registered() ? &entry : nullptr;
  }
  const Entry* Find(int fd) const {
    return const_cast<RegistrationTable*>(this)->Find(fd);
  }

  // Whether the table has an entry, registered or not, for fd number `fd`
  // (false for negative fds); then At(fd) is it, and the caller tells from
  // its State whether it is registered. For a backend's event loop, where
  // one test of the State checks registration and generation at once.
  bool Reaches(int fd) const {
    return static_cast<std::size_t>(fd) < entries_.size();
  }
  Entry& At(int fd) { return entries_[static_cast<std::size_t>(fd)]; }

  // The State the fd number keeps, registered or not; null if the table
  // never reached it (a State{} then).
  const State* KeptState(int fd) const {
    if (static_cast<std::size_t>(fd) >= entries_.size()) return nullptr;
    return &entries_[static_cast<std::size_t>(fd)].state;
  }

  // Precondition: CheckAdd() passed. May allocate (the table grows to the
  // highest fd); never called from wait(). Keeps the fd number's State.
  Entry& Insert(const EventObject& ev, Trigger trigger) {
    const auto index = static_cast<std::size_t>(ev.fd);
    if (index >= entries_.size()) {
      // Geometric growth: adds of ascending fds stay amortised O(1).
      entries_.resize(std::max(index + 1, entries_.size() * 2));
    }
    Entry& entry = entries_[index];
    entry.registration =
        Registration{ev.fd, ev.kind, Interest(ev.events), trigger, ev.token};
    entry.batch_epoch = 0;
    ++size_;
    return entry;
  }

  // Precondition: CheckModify() passed.
  Entry& Update(const EventObject& ev, Trigger trigger) {
    Entry& entry = *Find(ev.fd);
    entry.registration.kind = ev.kind;
    entry.registration.interest = Interest(ev.events);
    entry.registration.trigger = trigger;
    entry.registration.token = ev.token;
    return entry;
  }

  // Precondition: `fd` is registered. Scrubs its entry from the current
  // batch (fd = -1, events = kNone) if `scrub`. Keeps the fd number's State.
  void Erase(int fd, bool scrub = true) {
    Entry& entry = *Find(fd);
    if (scrub && entry.batch_epoch == epoch_) {
      batch_[entry.batch_index] =
          EventObject{-1, EventKind::kServer, Events::kNone, 0};
    }
    entry.registration = Registration{};
    --size_;
  }

  std::size_t size() const { return size_; }

  // The registration of `fd`, or null: Poller::FindRegistration.
  const Registration* FindRegistration(int fd) const {
    const Entry* entry = Find(fd);
    return entry != nullptr ? &entry->registration : nullptr;
  }

  // Poller::VisitRegistrations.
  void VisitRegistrations(
      absl::FunctionRef<void(const Registration&)> visit) const {
    for (const Entry& entry : entries_) {
      if (entry.registered()) visit(entry.registration);
    }
  }

  // Calls `visit(Entry&)` for every registration, in fd order.
  template <typename Visitor>
  void ForEach(Visitor&& visit) {
    for (Entry& entry : entries_) {
      if (entry.registered()) visit(entry);
    }
  }

  // --- The result batch --------------------------------------------------

  // Starts a new batch, invalidating the previous span.
  void BeginBatch() {
    batch_size_ = 0;
    if (++epoch_ == 0) ResetEpochs();
  }

  bool batch_full() const { return batch_size_ == batch_.size(); }

  // Whether `fd` already has an entry in the current batch.
  bool InBatch(int fd) const {
    const Entry* entry = Find(fd);
    return entry != nullptr && entry->batch_epoch == epoch_;
  }

  // Whether Report(fd, ...) has room: the batch has space, or fd already has
  // an entry to merge into.
  bool CanReport(int fd) const {
    if (!batch_full()) return true;
    const Entry* entry = Find(fd);
    return entry != nullptr && entry->batch_epoch == epoch_;
  }

  // Adds readiness of `entry`'s registration to the batch, merging into its
  // result if it has one already; the result carries the registration's
  // kind and token. Precondition: !batch_full() unless `entry` is already
  // in the batch.
  void Report(Entry& entry, Events events) {
    if (entry.batch_epoch == epoch_) {
      batch_[entry.batch_index].events |= events;
      return;
    }
    entry.batch_epoch = epoch_;
    entry.batch_index = static_cast<std::uint32_t>(batch_size_);
    const Registration& registration = entry.registration;
    batch_[batch_size_++] = EventObject{registration.fd, registration.kind,
                                        events, registration.token};
  }

  // As Report(entry, events), for a caller that holds the entry's fd and
  // kind already (decoded from user data it matched against the entry's).
  void Report(Entry& entry, int fd, EventKind kind, Events events) {
    if (entry.batch_epoch == epoch_) {
      batch_[entry.batch_index].events |= events;
      return;
    }
    entry.batch_epoch = epoch_;
    entry.batch_index = static_cast<std::uint32_t>(batch_size_);
    batch_[batch_size_++] =
        EventObject{fd, kind, events, entry.registration.token};
  }

  // Reports readiness of an fd the table does not know (closed without del
  // under epoll, or an event the kernel still delivers for an older
  // registration of the number): reported once per wait with the kind the
  // kernel carried and token 0, so the caller can see it. Precondition:
  // !batch_full().
  void ReportUnknown(int fd, EventKind kind, Events events) {
    batch_[batch_size_++] = EventObject{fd, kind, events, 0};
  }

  absl::Span<const EventObject> batch() const {
    return absl::Span<const EventObject>(batch_.data(), batch_size_);
  }

 private:
  static Events Interest(Events events) { return events & kInterestBits; }

  void ResetEpochs() {
    // Once per 2^32 waits: forget every batch position, so a position
    // recorded 2^32 waits ago can never pass for a current one.
    for (Entry& entry : entries_) entry.batch_epoch = 0;
    epoch_ = 1;
  }

  std::vector<Entry> entries_;  // indexed by fd
  std::size_t size_ = 0;
  std::vector<EventObject> batch_;  // max_events long, reused by every wait
  std::size_t batch_size_ = 0;
  std::uint32_t epoch_ = 1;  // 0 marks "never in a batch"
};

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_BACKENDS_INTERNAL_REGISTRATION_TABLE_H_
