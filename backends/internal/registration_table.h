// Copyright 2026 The pollio Authors.
//
// The user-level state every backend keeps, written once: the registrations,
// indexed by fd, and the reused buffer of the current wait's results.
//
// The two live together because each registration remembers where its result
// sits in the current batch. That makes both batch chores O(1): `del`
// scrubbing a pending entry (libuv's uv__platform_invalidate_fd scans the
// batch instead), and merging a second kernel event for the same fd (kqueue's
// read and write filters, io_uring's multishot CQEs) into the entry it
// already has.
//
// Each entry also carries the backend's own per-fd state, typed (`State`):
// poll's slot index, io_uring's user data and request state, epoll's user
// data, kqueue's generation. A State survives del and re-add of the same fd
// number, which is what a generation needs; a backend sets every other field
// on add.
//
// The per-event path is a backend's loop over the kernel's results, through a
// Filler (below): per event one entry read at fd << log2(entry size), one
// result written, one position stored for the scrub.
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
#include <cstring>
#include <string_view>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
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

// Filler::AddFirst copies a Registration into an EventObject as it is.
static_assert(sizeof(Registration) == sizeof(EventObject));
static_assert(offsetof(Registration, fd) == offsetof(EventObject, fd));
static_assert(offsetof(Registration, kind) == offsetof(EventObject, kind));
static_assert(offsetof(Registration, interest) ==
              offsetof(EventObject, events));
static_assert(offsetof(Registration, token) == offsetof(EventObject, token));

// The smallest power of two not below `n`: table entries are padded to one,
// so that indexing by fd is a shift.
constexpr std::size_t PowerOfTwoAtLeast(std::size_t n) {
  std::size_t power = 1;
  while (power < n) power *= 2;
  return power;
}

constexpr int Log2(std::size_t power_of_two) {
  int log = 0;
  while ((std::size_t{1} << log) < power_of_two) ++log;
  return log;
}

template <typename State>
class RegistrationTable {
  static constexpr std::size_t kEntryBytes = PowerOfTwoAtLeast(
      sizeof(Registration) + sizeof(std::uint64_t) + sizeof(State));

 public:
  // 32 bytes for every backend's State of up to 8 bytes (epoll, poll,
  // kqueue), 64 for io_uring's: aligned to its size, so an entry never
  // straddles a cache line and &entries_[fd] is one shift and one add.
  struct alignas(kEntryBytes) Entry {
    // registration.fd is -1 while the fd number is not registered (its
    // other fields are then the last registration's, and mean nothing).
    // First, and laid out as an EventObject: a result is its first 16
    // bytes.
    Registration registration;
    // The fd's place in the result batch: the batch's epoch in the high 32
    // bits, the index in the low 32; current only while the epoch is the
    // table's (batch_position >= epoch_base_). One store per result.
    std::uint64_t batch_position = 0;
    State state{};

    bool registered() const { return registration.fd >= 0; }
  };
  static_assert(sizeof(Entry) == kEntryBytes);
  static constexpr int kEntryShift = Log2(kEntryBytes);
  static_assert(kEntryShift <= kKindBits);

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
    if (!Reached(fd)) return nullptr;  // a negative fd too
    Entry& entry = entries_[static_cast<std::size_t>(fd)];
    return entry.registered() ? &entry : nullptr;
  }
  const Entry* Find(int fd) const {
    return const_cast<RegistrationTable*>(this)->Find(fd);
  }

  // The entry of fd number `fd`, registered or not. Precondition: the table
  // reaches `fd` (a registered fd's entry, say).
  Entry& At(int fd) { return entries_[static_cast<std::size_t>(fd)]; }

  // Whether the table reaches fd number `fd` (false for a negative one):
  // Reach() then allocates nothing. One comparison with a member (reach_),
  // not the vector's end less its start.
  bool Reached(int fd) const { return static_cast<std::size_t>(fd) < reach_; }

  // Whether `fd` is one the table reaches and has no registration for: true
  // only for an fd add may take without growing the table.
  bool Vacant(int fd) const {
    return Reached(fd) && !entries_[static_cast<std::size_t>(fd)].registered();
  }

  // The State the fd number keeps, registered or not; null if the table
  // never reached it (a State{} then).
  const State* KeptState(int fd) const {
    if (!Reached(fd)) return nullptr;
    return &entries_[static_cast<std::size_t>(fd)].state;
  }

  // Grows the table to reach fd number `fd` (>= 0), registering nothing.
  // May allocate; never called from wait(). The table never shrinks, so an
  // fd number the kernel was ever given in user data stays reachable: a
  // backend reaches it before it hands the kernel the user data.
  void Reach(int fd) {
    const auto index = static_cast<std::size_t>(fd);
    if (index >= reach_) {
      // Geometric growth: adds of ascending fds stay amortised O(1).
      entries_.resize(std::max(index + 1, entries_.size() * 2));
      reach_ = entries_.size();
    }
  }

  // Precondition: `fd` is not registered. Keeps only the interest bits of
  // ev.events. May allocate (Reach(ev.fd)); never called from wait(). Keeps
  // the fd number's State.
  Entry& Insert(const EventObject& ev, Trigger trigger) {
    Reach(ev.fd);
    Entry& entry = InsertReached(ev, trigger);
    entry.registration.interest = Interest(ev.events);
    return entry;
  }

  // Insert() without the growth check, for an fd the table reaches
  // already (PollerBase::Add reaches every fd it hands a backend), and
  // without masking the interest: precondition, CheckAdd() passed, so
  // ev.events holds interest bits only.
  Entry& InsertReached(const EventObject& ev, Trigger trigger) {
    const auto index = static_cast<std::size_t>(ev.fd);
    Entry& entry = entries_[index];
    // The fd, kind, interest and token are where an EventObject has them
    // (the static_asserts above): one 16-byte copy, then the trigger byte,
    // rather than a Registration assembled field by field.
    std::memcpy(static_cast<void*>(&entry.registration), &ev,
                sizeof(EventObject));
    entry.registration.trigger = trigger;
    // No batch_position store: Erase() leaves none current (see there), so
    // the number's last position is already one no batch has.
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
  void Erase(int fd, bool scrub = true) { Erase(*Find(fd), scrub); }

  // The same for a registered entry the caller has already found.
  void Erase(Entry& entry, bool scrub = true) {
    if (ABSL_PREDICT_FALSE(InBatch(entry))) {
      if (scrub) {
        batch_[BatchIndex(entry)] =
            EventObject{-1, EventKind::kServer, Events::kNone, 0};
      }
      // Forgotten here, where it is rarely current, rather than on every
      // Insert(): a later registration of the number must not scrub this
      // batch's result (another fd's, if this one was scrubbed). A position
      // that is not current stays so: epochs only grow, and ResetEpochs()
      // forgets them all.
      entry.batch_position = 0;
    }
    // Only the fd: the rest of the registration is read only while it is
    // registered (registered() first, or Find()), and the next Insert()
    // writes all of it.
    entry.registration.fd = -1;
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
    epoch_base_ += kOneEpoch;
    if (ABSL_PREDICT_FALSE(epoch_base_ == 0)) ResetEpochs();
  }

  bool batch_full() const { return batch_size_ == batch_.size(); }

  // Whether `entry` has a result in the current batch; then BatchIndex() is
  // its place.
  bool InBatch(const Entry& entry) const {
    return entry.batch_position >= epoch_base_;
  }
  static std::uint32_t BatchIndex(const Entry& entry) {
    return static_cast<std::uint32_t>(entry.batch_position);
  }

  // Whether `fd` already has an entry in the current batch.
  bool InBatch(int fd) const {
    const Entry* entry = Find(fd);
    return entry != nullptr && InBatch(*entry);
  }

  // Whether Report(fd, ...) has room: the batch has space, or fd already has
  // an entry to merge into.
  bool CanReport(int fd) const { return !batch_full() || InBatch(fd); }

  // Adds readiness of `entry`'s registration to the batch, merging into its
  // result if it has one already; the result carries the registration's
  // kind and token. Precondition: !batch_full() unless `entry` is already
  // in the batch.
  void Report(Entry& entry, Events events) {
    Filler filler(*this);
    filler.Add(entry, events);
  }

  // Reports readiness of an fd the table does not know (closed without del
  // under epoll, or an event the kernel still delivers for an older
  // registration of the number): reported once per wait with the kind the
  // kernel carried and token 0, so the caller can see it. Precondition:
  // !batch_full().
  void ReportUnknown(int fd, EventKind kind, Events events) {
    Filler filler(*this);
    filler.AddUnknown(fd, kind, events);
  }

  absl::Span<const EventObject> batch() const {
    return absl::Span<const EventObject>(batch_.data(), batch_size_);
  }

  // Filler
  //
  // Adds results to the current batch from a backend's loop over the
  // kernel's results. It holds the table's pointers itself, so that a loop
  // keeps them in registers rather than reloading them around every store
  // into the batch; the batch's size is written back on destruction. While
  // one lives, nothing else may add to the batch, and nothing may insert
  // into the table (the entries do not move).
  class Filler {
   public:
    explicit Filler(RegistrationTable& table)
        : table_(table),
          entries_(table.entries_.data()),
          reach_bytes_(table.entries_.size() * sizeof(Entry)),
          batch_(table.batch_.data()),
          next_(batch_ + table.batch_size_),
          end_(batch_ + table.batch_.size()),
          epoch_base_(table.epoch_base_),
          position_(table.epoch_base_ | table.batch_size_) {}
    Filler(const Filler&) = delete;
    Filler& operator=(const Filler&) = delete;
    ~Filler() {
      // The index next_ is at, from the register the loop has anyway.
      table_.batch_size_ = static_cast<std::uint32_t>(position_);
    }

    // Where the table's entry, registered or not, for the fd number in bits
    // 8..39 of `data` (event/event.h's Encode) would be: the fd bits shifted
    // straight into a byte offset, one shift and one mask. If Reaches() it,
    // At() is the entry, and the caller tells from its State whether it is
    // the registration `data` names (one comparison for registered,
    // generation and kind at once, where the State keeps the user data).
    static std::uint64_t OffsetOf(std::uint64_t data) {
      return (data >> (kKindBits - kEntryShift)) & (kFdMask << kEntryShift);
    }
    // The same for an fd number itself.
    static std::uint64_t OffsetOfFd(int fd) {
      return static_cast<std::uint64_t>(static_cast<std::uint32_t>(fd))
             << kEntryShift;
    }
    bool Reaches(std::uint64_t offset) const { return offset < reach_bytes_; }
    Entry& At(std::uint64_t offset) const {
      return *reinterpret_cast<Entry*>(reinterpret_cast<char*>(entries_) +
                                       offset);
    }

    bool full() const { return next_ == end_; }
    // How many more results the batch has room for.
    std::size_t room() const { return static_cast<std::size_t>(end_ - next_); }
    bool InBatch(const Entry& entry) const {
      return entry.batch_position >= epoch_base_;
    }

    // A result for `entry`'s registration, which has none in this batch yet:
    // for kernels that report each fd at most once per wait (epoll, poll),
    // whose results need no merge, or a caller that has checked InBatch().
    // Precondition: !full().
    void AddFirst(Entry& entry, Events events) {
      entry.batch_position = position_++;
      // A Registration is an EventObject's fd, kind and token where they
      // are in an EventObject, with the interest where the events go: the
      // result is one 16-byte copy and one byte.
      EventObject* result = next_++;
      std::memcpy(static_cast<void*>(result), &entry.registration,
                  sizeof(EventObject));
      result->events = events;
    }

    // A result for `entry`'s registration, merged into the one it has in
    // this batch if any. Precondition: !full() unless InBatch(entry).
    void Add(Entry& entry, Events events) {
      if (InBatch(entry)) {
        batch_[static_cast<std::uint32_t>(entry.batch_position)].events |=
            events;
        return;
      }
      AddFirst(entry, events);
    }

    // RegistrationTable::ReportUnknown. Precondition: !full().
    void AddUnknown(int fd, EventKind kind, Events events) {
      ++position_;
      *next_++ = EventObject{fd, kind, events, 0};
    }

   private:
    RegistrationTable& table_;
    Entry* const entries_;
    const std::size_t reach_bytes_;
    EventObject* const batch_;
    EventObject* next_;
    EventObject* const end_;
    const std::uint64_t epoch_base_;
    std::uint64_t position_;  // epoch_base_ | the index next_ is at
  };

 private:
  static constexpr std::uint64_t kOneEpoch = std::uint64_t{1} << 32;

  static Events Interest(Events events) { return events & kInterestBits; }

  // Out of line: a wait need not carry a loop it runs once in 2^32 waits.
  ABSL_ATTRIBUTE_NOINLINE void ResetEpochs() {
    // Once per 2^32 waits: forget every batch position, so a position
    // recorded 2^32 waits ago can never pass for a current one.
    for (Entry& entry : entries_) entry.batch_position = 0;
    epoch_base_ = kOneEpoch;
  }

  std::vector<Entry> entries_;  // indexed by fd
  std::size_t reach_ = 0;       // entries_.size(), for Reached()
  std::size_t size_ = 0;
  std::vector<EventObject> batch_;  // max_events long, reused by every wait
  std::size_t batch_size_ = 0;
  // The current batch's epoch, shifted to bits 32..63; epoch 0 marks "never
  // in a batch".
  std::uint64_t epoch_base_ = kOneEpoch;
};

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_BACKENDS_INTERNAL_REGISTRATION_TABLE_H_
