#include "poller/poller.h"

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pollio {
namespace {

constexpr Backend kAllBackends[] = {Backend::kEpoll, Backend::kKqueue,
                                    Backend::kPoll, Backend::kUring};

}  // namespace

std::string_view BackendName(Backend backend) {
  switch (backend) {
    case Backend::kEpoll:
      return "epoll";
    case Backend::kKqueue:
      return "kqueue";
    case Backend::kPoll:
      return "poll";
    case Backend::kUring:
      return "uring";
  }
  return "unknown";
}

absl::StatusOr<Backend> ParseBackend(std::string_view name) {
  for (Backend backend : kAllBackends) {
    if (BackendName(backend) == name) return backend;
  }
  return absl::InvalidArgumentError(
      "ParseBackend: unknown backend \"" + std::string(name) +
      "\" (expected epoll, kqueue, poll or uring)");
}

std::optional<int> ErrnoFromStatus(const absl::Status& status) {
  const auto payload = status.GetPayload(
      absl::string_view(kErrnoPayloadUrl.data(), kErrnoPayloadUrl.size()));
  int error_number = 0;
  if (!payload.has_value() ||
      !absl::SimpleAtoi(std::string(*payload), &error_number)) {
    return std::nullopt;
  }
  return error_number;
}

absl::StatusOr<absl::Span<const EventObject>> Poller::wait(int timeout_ms) {
  return wait(timeout_ms < 0 ? absl::InfiniteDuration()
                             : absl::Milliseconds(timeout_ms));
}

}  // namespace pollio
