// Copyright 2026 The pollio Authors.

#include "poller/poller.h"

#include <sys/types.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pollio {
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

Poller::Poller(Backend backend, unsigned capabilities)
    : backend_(backend), capabilities_(capabilities), owner_pid_(::getpid()) {}

bool Poller::InForkChild() const { return ::getpid() != owner_pid_; }

absl::Status Poller::ReinitAfterFork() {
  const pid_t pid = ::getpid();
  if (pid == owner_pid_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ReinitAfterFork: process ", pid,
        " owns this poller (it created it, or rebuilt it after its fork); "
        "call it in a fork child only"));
  }
  // Whatever the outcome, the parent's kernel objects are no longer this
  // process's to touch, so a second call must not try again.
  owner_pid_ = pid;
  const absl::Status status = AfterFork();
  if (status.ok()) return status;
  absl::Status failed(
      status.code(),
      absl::StrCat("ReinitAfterFork: ", status.message(),
                   "; the poller is unusable now, except for destruction"));
  // The only payload pollio sets: ErrnoFromStatus() still finds it.
  if (const std::optional<int> error_number = ErrnoFromStatus(status)) {
    failed.SetPayload(
        absl::string_view(kErrnoPayloadUrl.data(), kErrnoPayloadUrl.size()),
        absl::Cord(std::to_string(*error_number)));
  }
  return failed;
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
