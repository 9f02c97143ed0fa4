#include "poller/internal/registration_table.h"

#include <algorithm>
#include <cstddef>

#include "absl/status/status.h"
#include "event/event.h"
#include "poller/internal/errors.h"

namespace pollio {
namespace internal {
namespace {

// The bits an interest may carry; the rest are results only.
constexpr Events kInterestBits =
    Events::kReadable | Events::kWritable | Events::kPriority;

absl::Status CheckArguments(std::string_view method, const EventObject& ev,
                            Trigger trigger) {
  if (ev.fd < 0) {
    return CallError(absl::StatusCode::kInvalidArgument, method, ev.fd,
                     "negative fd");
  }
  if (!HasAny(ev.events, kInterestBits)) {
    return CallError(absl::StatusCode::kInvalidArgument, method, ev.fd,
                     "interest has none of kReadable, kWritable, kPriority");
  }
  // Result bits in an interest were ignored once; refusing them now keeps a
  // caller from believing it asked for, say, kHangup only.
  if (const Events extra = ev.events & ~kInterestBits; extra != Events::kNone) {
    return CallError(absl::StatusCode::kInvalidArgument, method, ev.fd,
                     "interest may hold only kReadable, kWritable and "
                     "kPriority, not " +
                         EventsName(extra));
  }
  if (trigger != Trigger::kLevel && trigger != Trigger::kEdge &&
      trigger != Trigger::kOneshot && trigger != Trigger::kExclusive) {
    return CallError(absl::StatusCode::kInvalidArgument, method, ev.fd,
                     "trigger is not a Trigger value");
  }
  return absl::OkStatus();
}

}  // namespace

RegistrationTable::RegistrationTable(int max_events)
    : batch_(static_cast<std::size_t>(max_events)) {}

absl::Status RegistrationTable::CheckAdd(const EventObject& ev,
                                         Trigger trigger) const {
  if (absl::Status status = CheckArguments("add", ev, trigger); !status.ok()) {
    return status;
  }
  if (Find(ev.fd) != nullptr) {
    return CallError(absl::StatusCode::kAlreadyExists, "add", ev.fd,
                     "fd is already registered (use modify)");
  }
  return absl::OkStatus();
}

absl::Status RegistrationTable::CheckModify(const EventObject& ev,
                                            Trigger trigger) const {
  if (absl::Status status = CheckArguments("modify", ev, trigger);
      !status.ok()) {
    return status;
  }
  if (Find(ev.fd) == nullptr) {
    return CallError(absl::StatusCode::kNotFound, "modify", ev.fd,
                     "fd is not registered");
  }
  return absl::OkStatus();
}

absl::Status RegistrationTable::CheckDel(int fd) const {
  if (fd < 0) {
    return CallError(absl::StatusCode::kInvalidArgument, "del", fd,
                     "negative fd");
  }
  if (Find(fd) == nullptr) {
    return CallError(absl::StatusCode::kNotFound, "del", fd,
                     "fd is not registered");
  }
  return absl::OkStatus();
}

RegistrationTable::Entry& RegistrationTable::Insert(const EventObject& ev,
                                                    Trigger trigger) {
  const auto index = static_cast<std::size_t>(ev.fd);
  if (index >= entries_.size()) {
    // Geometric growth: adds of ascending fds stay amortised O(1).
    entries_.resize(std::max(index + 1, entries_.size() * 2));
  }
  Entry& entry = entries_[index];
  const std::uint32_t generation = entry.generation;
  entry = Entry{};
  entry.generation = generation;
  entry.registered = true;
  entry.registration =
      Registration{ev.fd, ev.kind, ev.events & kInterestBits, trigger};
  ++size_;
  return entry;
}

RegistrationTable::Entry& RegistrationTable::Update(const EventObject& ev,
                                                    Trigger trigger) {
  Entry& entry = *Find(ev.fd);
  entry.registration.kind = ev.kind;
  entry.registration.interest = ev.events & kInterestBits;
  entry.registration.trigger = trigger;
  return entry;
}

void RegistrationTable::Erase(int fd) {
  Entry& entry = *Find(fd);
  if (entry.batch_epoch == epoch_) {
    batch_[entry.batch_index] =
        EventObject{-1, EventKind::kServer, Events::kNone};
  }
  const std::uint32_t generation = entry.generation;
  entry = Entry{};
  entry.generation = generation;
  --size_;
}

void RegistrationTable::ResetEpochs() {
  // Once per 2^32 waits: forget every batch position, so a position recorded
  // 2^32 waits ago can never pass for a current one.
  for (Entry& entry : entries_) entry.batch_epoch = 0;
  epoch_ = 1;
}

}  // namespace internal
}  // namespace pollio
