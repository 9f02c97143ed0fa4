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
//   absl::Status DelFromKernel(int fd);
//
// each of which changes the table (Insert / Update / Erase) only once the
// kernel accepted the change, so a failed call changes nothing; plus the
// Poller hooks Wait(), Wake() and AfterFork() (ReinitAfterFork's rebuild: a
// new kernel object and wake fd, every table entry registered again). The
// calls into the backend are static (CRTP), so a public call costs one
// virtual call, as it did when each backend implemented the public methods
// itself, and an event none.

#ifndef POLLIO_POLLER_INTERNAL_POLLER_BASE_H_
#define POLLIO_POLLER_INTERNAL_POLLER_BASE_H_

#include <cstddef>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "event/event.h"
#include "poller/internal/errors.h"
#include "poller/internal/registration_table.h"
#include "poller/poller.h"

namespace pollio {
namespace internal {

// Unimplemented for a trigger the backend does not support, naming it.
absl::Status UnsupportedTrigger(std::string_view method, int fd,
                                Backend backend, Trigger trigger);

// Unimplemented for kPriority interest where the backend has none.
absl::Status UnsupportedPriority(std::string_view method, int fd,
                                 Backend backend);

template <typename Derived, typename State>
class PollerBase : public Poller {
 protected:
  using Table = RegistrationTable<State>;
  using Entry = typename Table::Entry;

  PollerBase(Backend backend, unsigned capabilities, int max_events)
      : Poller(backend, capabilities), table_(max_events) {}

  Table table_;

 private:
  absl::Status Add(const EventObject& ev, Trigger trigger) final {
    if (absl::Status status = table_.CheckAdd(ev, trigger); !status.ok()) {
      return status;
    }
    if (!supports(trigger)) {
      return UnsupportedTrigger("add", ev.fd, backend(), trigger);
    }
    if (!supports_priority() && Has(ev.events, Events::kPriority)) {
      return UnsupportedPriority("add", ev.fd, backend());
    }
    return derived().AddToKernel(ev, trigger);
  }

  absl::Status Modify(const EventObject& ev, Trigger trigger) final {
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
    if (absl::Status status = table_.CheckDel(fd); !status.ok()) {
      return status;
    }
    return derived().DelFromKernel(fd);
  }

  std::size_t Size() const final { return table_.size(); }

  const Registration* FindRegistration(int fd) const final {
    return table_.FindRegistration(fd);
  }

  void VisitRegistrations(
      absl::FunctionRef<void(const Registration&)> visit) const final {
    table_.VisitRegistrations(visit);
  }

  Derived& derived() { return static_cast<Derived&>(*this); }
};

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_POLLER_INTERNAL_POLLER_BASE_H_
