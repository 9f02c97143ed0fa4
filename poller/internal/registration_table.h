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
// The table is the source of truth for size() and for "is fd registered":
// kernels track open file descriptions, not fd numbers.
//
// Not thread-safe; owned by one Poller.

#ifndef POLLIO_POLLER_INTERNAL_REGISTRATION_TABLE_H_
#define POLLIO_POLLER_INTERNAL_REGISTRATION_TABLE_H_

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

class RegistrationTable {
 public:
  struct Entry {
    Registration registration;
    bool registered = false;
    // Backend-owned fields: poll keeps the index of the fd's pollfd here,
    // io_uring its request state. `generation` survives del and re-add of
    // the same fd number, so a backend can tell a late completion of the old
    // registration from one of the new (the io_uring ABA problem).
    std::uint32_t backend_slot = 0;
    std::uint32_t generation = 0;
    // The fd's position in the result batch, meaningful only while
    // batch_epoch equals the table's current epoch.
    std::uint32_t batch_epoch = 0;
    std::uint32_t batch_index = 0;
  };

  // `max_events` must already be validated (CheckOptions).
  explicit RegistrationTable(int max_events);

  RegistrationTable(const RegistrationTable&) = delete;
  RegistrationTable& operator=(const RegistrationTable&) = delete;

  // Argument checks of the public methods, in the order the contract lists
  // the errors (InvalidArgument, then AlreadyExists / NotFound). `method` is
  // the public name ("add", "modify", "del") used in the message.
  absl::Status CheckAdd(const EventObject& ev, Trigger trigger) const;
  absl::Status CheckModify(const EventObject& ev, Trigger trigger) const;
  absl::Status CheckDel(int fd) const;

  // Null when `fd` is not registered.
  Entry* Find(int fd) {
    if (fd < 0 || static_cast<std::size_t>(fd) >= entries_.size()) {
      return nullptr;
    }
    Entry& entry = entries_[fd];
    return entry.registered ? &entry : nullptr;
  }
  const Entry* Find(int fd) const {
    return const_cast<RegistrationTable*>(this)->Find(fd);
  }

  // Precondition: CheckAdd() passed. May allocate (the table grows to the
  // highest fd); never called from wait().
  Entry& Insert(const EventObject& ev, Trigger trigger);

  // Precondition: CheckModify() passed.
  Entry& Update(const EventObject& ev, Trigger trigger);

  // Precondition: `fd` is registered. Scrubs its entry from the current
  // batch (fd = -1, events = kNone).
  void Erase(int fd);

  std::size_t size() const { return size_; }

  // The registration of `fd`, or null: Poller::FindRegistration.
  const Registration* FindRegistration(int fd) const {
    const Entry* entry = Find(fd);
    return entry != nullptr ? &entry->registration : nullptr;
  }

  // Poller::VisitRegistrations.
  void VisitRegistrations(
      absl::FunctionRef<void(const Registration&)> visit) const {
    ForEach([&](const Entry& entry) { visit(entry.registration); });
  }

  // Calls `visit(const Entry&)` for every registration, in fd order.
  template <typename Visitor>
  void ForEach(Visitor&& visit) const {
    for (const Entry& entry : entries_) {
      if (entry.registered) visit(entry);
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

  // Adds readiness for `fd` to the batch, merging into its entry if it has
  // one already. Precondition: !batch_full() unless `fd` is already in the
  // batch. An fd the table does not know (closed without del under epoll) is
  // still reported, so the caller can see and del it.
  void Report(int fd, EventKind kind, Events events) {
    Entry* entry = Find(fd);
    if (entry != nullptr && entry->batch_epoch == epoch_) {
      batch_[entry->batch_index].events |= events;
      return;
    }
    if (entry != nullptr) {
      entry->batch_epoch = epoch_;
      entry->batch_index = static_cast<std::uint32_t>(batch_size_);
    }
    batch_[batch_size_++] = EventObject{fd, kind, events};
  }

  absl::Span<const EventObject> batch() const {
    return absl::Span<const EventObject>(batch_.data(), batch_size_);
  }

 private:
  void ResetEpochs();

  std::vector<Entry> entries_;  // indexed by fd
  std::size_t size_ = 0;
  std::vector<EventObject> batch_;  // max_events long, reused by every wait
  std::size_t batch_size_ = 0;
  std::uint32_t epoch_ = 1;  // 0 marks "never in a batch"
};

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_POLLER_INTERNAL_REGISTRATION_TABLE_H_
