// Copyright 2026 The pollio Authors.
//
// The shared base under every backend: the registration table, the argument
// checks in the contract's order, size(), find() / for_each(); written once.
//
// A backend derives as
//
//   class EpollPoller final
//       : public internal::PollerBase<EpollPoller, EpollState> { ... };
//
// and supplies, as private members its base befriends, the kernel side of
// each change (called only once the arguments passed every check, so none
// of them repeats a check):
//
//   absl::Status AddToKernel(const EventObject& ev, Trigger trigger);
//   absl::Status ModifyInKernel(const EventObject& ev, Trigger trigger);
//   absl::Status DelFromKernel(int fd, Entry& entry,
//                              std::unique_lock<std::mutex>& lock);
//
// (`entry` is fd's registered table entry, which the base found once;
// `lock` is the table lock, held on entry and on return; a backend that
// must hand the change to the waiting thread may release it while it waits
// for the hand-off),
// each of which changes the table (Insert / Update / Erase) only once the
// kernel accepted the change, so a failed call changes nothing; plus the
// Poller hooks Wait(), Wake() and AfterFork() (ReinitAfterFork's rebuild: a
// new kernel object and wake fd, every table entry registered again). The
// calls into the backend are static (CRTP), so a public call costs one
// virtual call, as it did when each backend implemented the public methods
// itself, and an event none.
//
// A backend whose common add and del make no system call (poll) may also
// derive with kInlineChanges = true and supply
//
//   static constexpr unsigned kCapabilities;  // what it passes Poller
//   bool CanAddInline() const;  // whether AddInline can take an add now
//   void AddInline(const EventObject& ev, Trigger trigger);
//   void DelInline(Entry& entry);
//
// which Add and Del call without registration from any thread and once
// every check has passed, with nothing around them but one combined test;
// AddToKernel and DelFromKernel then take every other case, out of line
// (the lock, if any, held).

#ifndef POLLIO_BACKENDS_INTERNAL_POLLER_BASE_H_
#define POLLIO_BACKENDS_INTERNAL_POLLER_BASE_H_

#include <assert.h>
#include <fcntl.h>

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "backends/internal/errors.h"
#include "backends/internal/registration_table.h"
#include "event/event.h"
#include "poller/poller.h"

namespace pollio {
namespace internal {

// Unimplemented for a trigger the backend does not support, naming it.
absl::Status UnsupportedTrigger(std::string_view method, int fd,
                                Backend backend, Trigger trigger);

// Unimplemented for kPriority interest where the backend has none.
absl::Status UnsupportedPriority(std::string_view method, int fd,
                                 Backend backend);

// The interest bits an add or modify refuses: all but kInterestBits, and
// kPriority where the backend has no priority.
constexpr Events RefusedInterest(bool priority) {
  return ~(priority ? kInterestBits : kInterestBits & ~Events::kPriority);
}

template <typename Derived, typename State, bool kInlineChanges = false>
class PollerBase : public Poller {
 public:
  // Poller::add(), modify() and del() again, for a caller whose static type
  // is a backend class, as poller/poller.h promises it: Add, Modify and Del
  // are final here, so these call them directly, where Poller's own go
  // through the vtable (GCC 12 does not devirtualize the hook call inlined
  // from Poller, final class or not). The contract is Poller's.
  ABSL_MUST_USE_RESULT absl::Status add(EventObject ev,
                                        Trigger trigger = Trigger::kLevel) {
    return Add(ev, trigger);
  }
  ABSL_MUST_USE_RESULT absl::Status modify(EventObject ev,
                                           Trigger trigger = Trigger::kLevel) {
    return Modify(ev, trigger);
  }
  ABSL_MUST_USE_RESULT absl::Status del(int fd) { return Del(fd); }

 protected:
  using Table = RegistrationTable<State>;
  using Entry = typename Table::Entry;

  PollerBase(Backend backend, unsigned capabilities, int max_events)
      : Poller(backend, capabilities), table_(max_events) {
    if constexpr (kInlineChanges) {
      assert(capabilities == Derived::kCapabilities);  // PassesInline's
    }
  }

  // PollerOptions::registration_from_any_thread, set by Create before the
  // poller is shared.
  void set_any_thread(bool any_thread) { any_thread_ = any_thread; }
  bool any_thread() const { return any_thread_; }

  // The table lock: add, modify, del, find, size and for_each hold it, and
  // so does wait while it starts a batch and while it reads the kernel's
  // results into it, never while it blocks. Without
  // registration_from_any_thread it is not taken (an unlocked unique_lock):
  // the single-threaded path pays one predictable branch per call.
  std::unique_lock<std::mutex> LockTable() const {
    return any_thread_ ? std::unique_lock<std::mutex>(mutex_)
                       : std::unique_lock<std::mutex>(mutex_, std::defer_lock);
  }

  // The table lock itself, for a backend's path taken only with
  // registration_from_any_thread, where LockTable() would test it again.
  std::mutex& table_mutex() const { return mutex_; }

  // Starts a wait's batch (under the table lock) and records the waiting
  // thread. The lock is taken out of line, as Add's and Del's are: without
  // registration_from_any_thread a wait keeps no lock object (a register and
  // a stack slot across its system call) and tests the option once.
  void BeginWait() {
    if (ABSL_PREDICT_FALSE(any_thread_)) return BeginWaitLocked();
    table_.BeginBatch();
  }

  // Whether the calling thread may scrub the current batch: the span
  // belongs to the thread that waited, and another thread writing into it
  // would race its reader. Requires the table lock.
  bool MayScrubBatch() const {
    return !any_thread_ || waiter_ == std::this_thread::get_id();
  }

  Table table_;

 private:
  // Add and Del test the option and every argument at once, then make the
  // change (a backend's inline change, or its kernel call); every other
  // case goes through one out-of-line call, which the common path branches
  // around. Without registration_from_any_thread that path then holds no
  // lock object and keeps no registers for one; with an inline change it is
  // small enough (about 30 instructions) that GCC inlines it into a caller
  // of the concrete class, whose constant arguments then fold the checks
  // and the Status away.
  absl::Status Add(const EventObject& ev, Trigger trigger) final {
    if constexpr (kInlineChanges) {
      if (ABSL_PREDICT_TRUE(!any_thread_ && PassesInline(ev, trigger) &&
                            derived().CanAddInline())) {
        derived().AddInline(ev, trigger);
        return absl::OkStatus();
      }
    } else {
      if (ABSL_PREDICT_TRUE(!any_thread_ && Passes(ev, trigger))) {
        return derived().AddToKernel(ev, trigger);
      }
    }
    return AddOutOfLine(ev, trigger);
  }

  ABSL_ATTRIBUTE_NOINLINE void BeginWaitLocked() {
    std::lock_guard<std::mutex> lock(mutex_);
    waiter_ = std::this_thread::get_id();
    table_.BeginBatch();
  }

  // Add where its common path declined: the lock, the checks one by one.
  // A lock_guard under the option rather than LockTable()'s unique_lock,
  // whose release is a call with its own tests.
  ABSL_ATTRIBUTE_NOINLINE absl::Status AddOutOfLine(const EventObject& ev,
                                                    Trigger trigger) {
    if (any_thread_) {
      std::lock_guard<std::mutex> lock(mutex_);
      return AddUnlocked(ev, trigger);
    }
    return AddUnlocked(ev, trigger);
  }

  // Add under the table lock, or without the option.
  ABSL_ATTRIBUTE_ALWAYS_INLINE absl::Status AddUnlocked(const EventObject& ev,
                                                        Trigger trigger) {
    // A call that passes every check pays one combined test; one that fails
    // any (or whose fd the table has not reached yet) takes the checks one
    // by one, in the contract's order, so the first failing one still
    // decides the error.
    if (ABSL_PREDICT_FALSE(!Passes(ev, trigger))) {
      return AddChecked(ev, trigger);
    }
    return derived().AddToKernel(ev, trigger);
  }

  // Whether an add of `ev` passes every check (and the table reaches its
  // fd already): one test, whose failure CheckAdd then takes apart.
  bool Passes(const EventObject& ev, Trigger trigger) const {
    return table_.Vacant(ev.fd) && AcceptsInterest(ev.events) &&
           supports(trigger);
  }

  // Passes(), from the backend's capabilities as constants: the interest
  // and trigger tests then take no load, and fold away where the caller's
  // arguments are constants too.
  bool PassesInline(const EventObject& ev, Trigger trigger) const {
    constexpr unsigned kCapabilities = Derived::kCapabilities;
    constexpr Events kRefused =
        RefusedInterest((kCapabilities & kPriorityInterest) != 0);
    const auto value = static_cast<unsigned>(trigger);
    return table_.Vacant(ev.fd) && ev.events != Events::kNone &&
           (ev.events & kRefused) == Events::kNone && value < 8 &&
           ((kCapabilities >> value) & 1u) != 0;
  }

  // AddUnlocked's other way to the backend, out of line, so that the common
  // path keeps nothing live across a call (and saves no registers).
  ABSL_ATTRIBUTE_NOINLINE absl::Status AddChecked(const EventObject& ev,
                                                  Trigger trigger) {
    if (absl::Status status = CheckAdd(ev, trigger); !status.ok()) {
      return status;
    }
    return derived().AddToKernel(ev, trigger);
  }

  // Add's checks in order, and the table reaching `ev.fd` once they pass.
  absl::Status CheckAdd(const EventObject& ev, Trigger trigger) {
    if (absl::Status status = table_.CheckAdd(ev, trigger); !status.ok()) {
      return status;
    }
    if (!supports(trigger)) {
      return UnsupportedTrigger("add", ev.fd, backend(), trigger);
    }
    if (!supports_priority() && Has(ev.events, Events::kPriority)) {
      return UnsupportedPriority("add", ev.fd, backend());
    }
    if (!table_.Reached(ev.fd) && ev.fd >= kLargestUncheckedReach &&
        ::fcntl(ev.fd, F_GETFD) < 0) {
      // The table grows to the fd number, 32 bytes per number (INT_MAX:
      // 64 GiB), so a large number no file has (EBADF) is refused before
      // it grows, whatever check_fd_on_add says: one fcntl, only for a new
      // highest fd. An open fd's number costs the kernel's own fd table 8
      // bytes per number already.
      return internal::ErrnoError(errno, "fcntl", "F_GETFD", ev.fd);
    }
    table_.Reach(ev.fd);
    return absl::OkStatus();
  }

  // Below this, the table grows to an fd number unasked (2 MiB at most).
  static constexpr int kLargestUncheckedReach = 1 << 16;

  // Whether `events` is an interest add accepts here: some of its bits, and
  // none but its bits (kPriority only where the backend has it).
  bool AcceptsInterest(Events events) const {
    return events != Events::kNone &&
           (events & refused_interest_) == Events::kNone;
  }

  absl::Status Modify(const EventObject& ev, Trigger trigger) final {
    std::unique_lock<std::mutex> lock = LockTable();
    if (absl::Status status = table_.CheckModify(ev, trigger); !status.ok()) {
      return status;
    }
    if (!supports(trigger)) {
      return UnsupportedTrigger("modify", ev.fd, backend(), trigger);
    }
    if (!supports_priority() && Has(ev.events, Events::kPriority)) {
      return UnsupportedPriority("modify", ev.fd, backend());
    }
    return derived().ModifyInKernel(ev, trigger);
  }

  absl::Status Del(int fd) final {
    // As in Add. The table is read only once the option is known to be off
    // (with it, only under the lock).
    if (ABSL_PREDICT_TRUE(!any_thread_)) {
      if (Entry* const entry = table_.Find(fd);
          ABSL_PREDICT_TRUE(entry != nullptr)) {
        if constexpr (kInlineChanges) {
          derived().DelInline(*entry);
          return absl::OkStatus();
        } else {
          return derived().DelFromKernel(fd, *entry, no_lock_);
        }
      }
    }
    return DelOutOfLine(fd);
  }

  // Del where its common path declined: the lock, a missing registration.
  ABSL_ATTRIBUTE_NOINLINE absl::Status DelOutOfLine(int fd) {
    if (any_thread_) {
      std::unique_lock<std::mutex> lock(mutex_);
      return DelUnlocked(fd, lock);
    }
    return DelUnlocked(fd, no_lock_);
  }

  // Del under `lock`, the table lock (or, without the option, none).
  ABSL_ATTRIBUTE_ALWAYS_INLINE absl::Status DelUnlocked(
      int fd, std::unique_lock<std::mutex>& lock) {
    Entry* const entry = table_.Find(fd);  // null for a negative fd too
    if (ABSL_PREDICT_FALSE(entry == nullptr)) {
      return CheckDelArguments(fd, /*registered=*/false);
    }
    return derived().DelFromKernel(fd, *entry, lock);
  }

  std::size_t Size() const final {
    std::unique_lock<std::mutex> lock = LockTable();
    return table_.size();
  }

  std::optional<Registration> FindRegistration(int fd) const final {
    std::unique_lock<std::mutex> lock = LockTable();
    const Registration* registration = table_.FindRegistration(fd);
    if (registration == nullptr) return std::nullopt;
    return *registration;
  }

  void VisitRegistrations(
      absl::FunctionRef<void(const Registration&)> visit) const final {
    std::unique_lock<std::mutex> lock = LockTable();
    table_.VisitRegistrations(visit);
  }

  Derived& derived() { return static_cast<Derived&>(*this); }

  // The bits AcceptsInterest() refuses, kept so (rather than the accepted
  // ones) that the test is one AND with memory.
  const Events refused_interest_ = RefusedInterest(supports_priority());
  bool any_thread_ = false;
  mutable std::mutex mutex_;
  std::thread::id waiter_;  // guarded by mutex_
  // Owns nothing: DelFromKernel's lock without the option, which no
  // backend then releases or takes (a member, so that Del builds and
  // destroys no lock object around the call).
  std::unique_lock<std::mutex> no_lock_;
};

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_BACKENDS_INTERNAL_POLLER_BASE_H_
