// Copyright 2026 The pollio Authors.

#include "backends/internal/registration_table.h"

#include <string_view>

#include "absl/status/status.h"
#include "backends/internal/errors.h"
#include "event/event.h"

namespace pollio {
namespace internal {
namespace {

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

absl::Status CheckAddArguments(const EventObject& ev, Trigger trigger,
                               bool registered) {
  if (absl::Status status = CheckArguments("add", ev, trigger); !status.ok()) {
    return status;
  }
  if (registered) {
    return CallError(absl::StatusCode::kAlreadyExists, "add", ev.fd,
                     "fd is already registered (use modify)");
  }
  return absl::OkStatus();
}

absl::Status CheckModifyArguments(const EventObject& ev, Trigger trigger,
                                  bool registered) {
  if (absl::Status status = CheckArguments("modify", ev, trigger);
      !status.ok()) {
    return status;
  }
  if (!registered) {
    return CallError(absl::StatusCode::kNotFound, "modify", ev.fd,
                     "fd is not registered");
  }
  return absl::OkStatus();
}

absl::Status CheckDelArguments(int fd, bool registered) {
  if (fd < 0) {
    return CallError(absl::StatusCode::kInvalidArgument, "del", fd,
                     "negative fd");
  }
  if (!registered) {
    return CallError(absl::StatusCode::kNotFound, "del", fd,
                     "fd is not registered");
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace pollio
