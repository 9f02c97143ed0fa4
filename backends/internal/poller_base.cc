// Copyright 2026 The pollio Authors.

#include "backends/internal/poller_base.h"

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "backends/internal/errors.h"
#include "event/event.h"
#include "poller/poller.h"

namespace pollio {
namespace internal {

absl::Status UnsupportedTrigger(std::string_view method, int fd,
                                Backend backend, Trigger trigger) {
  return CallError(absl::StatusCode::kUnimplemented, method, fd,
                   std::string("the ") + std::string(BackendName(backend)) +
                       " backend has no " + TriggerName(trigger) + " trigger");
}

absl::Status UnsupportedPriority(std::string_view method, int fd,
                                 Backend backend) {
  return CallError(absl::StatusCode::kUnimplemented, method, fd,
                   std::string("the ") + std::string(BackendName(backend)) +
                       " backend has no priority (out-of-band) interest");
}

}  // namespace internal
}  // namespace pollio
