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

absl::StatusOr<Registration> Poller::find(int fd) const {
  if (fd < 0) {
    return absl::InvalidArgumentError("find(fd=" + std::to_string(fd) +
                                      "): negative fd");
  }
  std::optional<Registration> registration = FindRegistration(fd);
  if (!registration.has_value()) {
    return absl::NotFoundError("find(fd=" + std::to_string(fd) +
                               "): fd is not registered");
  }
  return *registration;
}

void Poller::for_each(
    absl::FunctionRef<void(const Registration&)> visit) const {
  VisitRegistrations(visit);
}

std::string Poller::DebugString() const {
  constexpr std::size_t kMaxListed = 32;
  std::string out(BackendName(backend()));
  out += '{';
  out += std::to_string(size());
  out += size() == 1 ? " fd" : " fds";
  std::size_t listed = 0;
  VisitRegistrations([&](const Registration& registration) {
    if (listed++ >= kMaxListed) return;
    out += listed == 1 ? ": " : ", ";
    out += std::to_string(registration.fd);
    out += '=';
    out += KindName(registration.kind);
    out += ' ';
    if (Has(registration.interest, Events::kReadable)) out += 'R';
    if (Has(registration.interest, Events::kWritable)) out += 'W';
    if (Has(registration.interest, Events::kPriority)) out += 'P';
    if (registration.trigger != Trigger::kLevel) {
      out += ' ';
      out += TriggerName(registration.trigger);
    }
    if (registration.token != 0) {
      out += " token=";
      out += std::to_string(registration.token);
    }
  });
  if (listed > kMaxListed) {
    out += ", ... " + std::to_string(listed - kMaxListed) + " more";
  }
  out += '}';
  return out;
}

}  // namespace pollio
